#include "test_util.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

// Direct loops over padded windows, the independent reference. Max pads with -inf; avg pads
// with zeros and divides by kernel².
template <class T>
Tensor<T> naive_pool(const Tensor<T>& x, std::size_t k, std::size_t s, std::size_t p, bool is_max) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t OH = (H + 2 * p - k) / s + 1, OW = (W + 2 * p - k) / s + 1;
  Tensor<T> y = xt::zeros<T>({N, C, OH, OW});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (std::size_t i = 0; i < k; ++i)
            for (std::size_t j = 0; j < k; ++j) {
              const long ih = long(oh * s + i) - long(p), iw = long(ow * s + j) - long(p);
              const bool inside = ih >= 0 && iw >= 0 && ih < long(H) && iw < long(W);
              const double v = inside ? double(x(n, c, ih, iw)) : (is_max ? -INFINITY : 0.0);
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          y(n, c, oh, ow) = static_cast<T>(is_max ? acc : acc / double(k * k));
        }
  return y;
}

// Distinct values at least 0.05 apart in a random order: no ties, even under gradcheck's eps.
Tensor<double> distinct(const Shape& shape, Generator& gen) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  std::vector<double> v(t.size());
  std::iota(v.begin(), v.end(), 0.0);
  std::shuffle(v.begin(), v.end(), gen.engine());
  for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = 0.05 * v[i] - 1.0;
  return t;
}

void check_config(bool is_max, const Shape& xs, std::size_t k, std::size_t s, std::size_t p, std::uint64_t seed) {
  Generator gen(seed);
  auto x = test::param(distinct(xs, gen));
  const std::size_t stride = s == 0 ? k : s;
  Variable<double> y = is_max ? max_pool2d(x, k, s, p) : avg_pool2d(x, k, s, p);
  test::require_close(y.value(), naive_pool(x.value(), k, stride, p, is_max), 1e-12);
  test::require_gradcheck(
      [=](auto& v) { return is_max ? max_pool2d(v[0], k, s, p) : avg_pool2d(v[0], k, s, p); }, {x});
}

}  // namespace

TEST_CASE("max_pool2d: hand-computed values and gradient") {
  auto x = test::param(Tensor<double>{{{{1, 5, 2, 0}, {3, 4, 8, 1}, {0, 2, 6, 7}, {9, 1, 3, 2}}}});
  Variable<double> y = max_pool2d(x, 2);
  test::require_close(y.value(), Tensor<double>{{{{5, 8}, {9, 7}}}});
  y.backward(Tensor<double>{{{{1, 2}, {3, 4}}}});
  test::require_close(x.grad(), Tensor<double>{{{{0, 1, 0, 0}, {0, 0, 2, 0}, {0, 0, 0, 4}, {3, 0, 0, 0}}}});
}

TEST_CASE("max_pool2d: padding reads as -inf not zero") {
  Variable<double> x(Tensor<double>{{{{-1, -2}, {-3, -4}}}});
  test::require_close(max_pool2d(x, 2, 2, 1).value(), Tensor<double>{{{{-1, -2}, {-3, -4}}}});
}

TEST_CASE("max_pool2d: a tie sends the gradient to the first maximum overlapping windows add up") {
  auto x = test::param(Tensor<double>(xt::ones<double>({1, 1, 3, 3})));
  Variable<double> y = max_pool2d(x, 2, 1);  // four overlapping windows, all ties
  y.backward(xt::ones<double>(y.shape()));
  // Each window's first element (row-major) is its top-left corner.
  test::require_close(x.grad(), Tensor<double>{{{{1, 1, 0}, {1, 1, 0}, {0, 0, 0}}}});
}

TEST_CASE("max_pool2d: ties and NaN follow PyTorch in the 2x2 stride-2 path and the general path") {
  for (std::size_t stride : {2, 3}) {  // 2x2/2 has its own loop; stride 3 takes the general one
    INFO("stride " << stride);
    auto x = test::param(Tensor<double>(xt::ones<double>({1, 1, 2, 2})));
    Variable<double> y = max_pool2d(x, 2, stride);
    y.backward(xt::ones<double>(y.shape()));
    test::require_close(x.grad(), Tensor<double>{{{{1, 0}, {0, 0}}}});  // the first of four equal values
    // A NaN wins over larger numbers and receives the gradient.
    auto z = test::param(Tensor<double>{{{{1, 5}, {std::nan(""), 2}}}});
    Variable<double> m = max_pool2d(z, 2, stride);
    CHECK(std::isnan(m.value()(0, 0, 0, 0)));
    m.backward(xt::ones<double>(m.shape()));
    test::require_close(z.grad(), Tensor<double>{{{{0, 0}, {1, 0}}}});
  }
}

// Element-wise equality that counts two NaNs as equal.
template <class A, class B>
bool same_values(const A& a, const B& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = double(a.data()[i]), y = double(b.data()[i]);
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

TEST_CASE("max_pool2d: the float 2x2 kernel matches double on ties and NaN at every row width") {
  // Float 2x2 stride-2 pooling has its own vector kernel (16 windows at a time); double takes the
  // portable loops. Values from {-1, 0, 1, 2} make ties common, and some are NaN. Widths cover less
  // than one vector of windows, exactly one, more than one, and odd rows and columns.
  Generator gen(47);
  for (const std::size_t width : {5, 26, 32, 33, 35, 64, 67}) {
    for (const std::size_t height : {4, 7}) {
      INFO("height " << height << ", width " << width);
      Tensor<double> xd = Tensor<double>::from_shape({2, 3, height, width});
      for (auto& e : xd) e = gen.uniform() < 0.03 ? std::nan("") : std::floor(gen.uniform(-1.0, 3.0));
      const Tensor<float> xf = xt::cast<float>(xd);
      auto vd = test::param(xd);
      auto vf = Variable<float>(xf, true);
      Variable<double> yd = max_pool2d(vd, 2);
      Variable<float> yf = max_pool2d(vf, 2);
      CHECK(same_values(yf.value(), yd.value()));
      const Tensor<double> gy = test::uniform(yd.shape(), gen);
      yd.backward(gy);
      yf.backward(xt::cast<float>(gy));
      const Tensor<double> expected = xt::cast<double>(xt::cast<float>(vd.grad()));
      CHECK(same_values(vf.grad(), expected));
    }
  }
}

TEST_CASE("max_pool2d: float and without recording agree with the reference") {
  Generator gen(41);
  Tensor<float> x = test::uniform<float>({2, 3, 7, 6}, gen);
  test::require_close(max_pool2d(Variable<float>(x), 3, 2, 1).value(), naive_pool(x, 3, 2, 1, true), 0.0);
  test::require_close(max_pool2d(Variable<float>(x), 2).value(), naive_pool(x, 2, 2, 0, true), 0.0);
  auto xd = test::param(test::uniform({2, 2, 5, 5}, gen));
  NoGradGuard guard;
  Variable<double> y = max_pool2d(xd, 2, 1);
  CHECK_FALSE(y.requires_grad());
  test::require_close(y.value(), naive_pool(xd.value(), 2, 1, 0, true), 0.0);
}

TEST_CASE("max_pool2d: forward and gradcheck default stride") { check_config(true, {2, 2, 4, 6}, 2, 0, 0, 42); }
TEST_CASE("max_pool2d: forward and gradcheck 2x2 windows on an odd-sized input") { check_config(true, {2, 3, 5, 7}, 2, 0, 0, 45); }
TEST_CASE("max_pool2d: forward and gradcheck stride below the kernel") { check_config(true, {1, 2, 7, 5}, 3, 2, 0, 43); }
TEST_CASE("max_pool2d: forward and gradcheck stride above the kernel") { check_config(true, {1, 2, 7, 8}, 2, 3, 0, 44); }
TEST_CASE("max_pool2d: forward and gradcheck padding") {
  check_config(true, {2, 1, 5, 6}, 3, 2, 1, 45);
  check_config(true, {1, 2, 5, 4}, 2, 1, 1, 46);
}

TEST_CASE("avg_pool2d: hand-computed values and gradient") {
  auto x = test::param(Tensor<double>{{{{1, 5, 2, 0}, {3, 4, 8, 1}, {0, 2, 6, 7}, {9, 1, 3, 2}}}});
  Variable<double> y = avg_pool2d(x, 2);
  test::require_close(y.value(), Tensor<double>{{{{3.25, 2.75}, {3, 4.5}}}});
  y.backward(Tensor<double>{{{{4, 8}, {12, 16}}}});
  test::require_close(x.grad(), Tensor<double>{{{{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}}});
}

TEST_CASE("avg_pool2d: padding counts as zeros in the divisor") {
  auto x = test::param(Tensor<double>{{{{1, 2}, {3, 4}}}});
  Variable<double> y = avg_pool2d(x, 2, 2, 1);  // every window holds one real element and three zeros
  test::require_close(y.value(), Tensor<double>{{{{0.25, 0.5}, {0.75, 1}}}});
  y.backward(xt::ones<double>(y.shape()));
  test::require_close(x.grad(), Tensor<double>{{{{0.25, 0.25}, {0.25, 0.25}}}});
}

TEST_CASE("avg_pool2d: float agrees with the reference") {
  Generator gen(47);
  Tensor<float> x = test::uniform<float>({2, 3, 7, 6}, gen);
  test::require_close(avg_pool2d(Variable<float>(x), 3, 2, 1).value(), naive_pool(x, 3, 2, 1, false), 1e-6);
  test::require_close(avg_pool2d(Variable<float>(x), 2).value(), naive_pool(x, 2, 2, 0, false), 1e-6);
}

TEST_CASE("avg_pool2d: forward and gradcheck default stride") { check_config(false, {2, 2, 4, 6}, 2, 0, 0, 48); }
TEST_CASE("avg_pool2d: forward and gradcheck stride below the kernel") { check_config(false, {1, 2, 7, 5}, 3, 2, 0, 49); }
TEST_CASE("avg_pool2d: forward and gradcheck stride above the kernel") { check_config(false, {1, 2, 7, 8}, 2, 3, 0, 50); }
TEST_CASE("avg_pool2d: forward and gradcheck padding") {
  check_config(false, {2, 1, 5, 6}, 3, 2, 1, 51);
  check_config(false, {1, 2, 5, 4}, 2, 1, 1, 52);
}

TEST_CASE("pooling: output shapes") {
  Variable<double> x(xt::zeros<double>({2, 3, 7, 10}));
  CHECK(max_pool2d(x, 2).shape() == Shape{2, 3, 3, 5});
  CHECK(avg_pool2d(x, 3, 2, 1).shape() == Shape{2, 3, 4, 5});
  CHECK(max_pool2d(x, 3, 1).shape() == Shape{2, 3, 5, 8});
}

TEST_CASE("pooling: the graph is released after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    auto x = test::param(Tensor<double>(xt::ones<double>({1, 1, 4, 4})));
    Variable<double> y = avg_pool2d(max_pool2d(x, 2, 1), 2, 1);
    y.backward(xt::ones<double>(y.shape()));
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("pooling: rejects bad shapes and arguments naming the function and the values") {
  Variable<double> x(xt::zeros<double>({1, 2, 5, 5}));
  for (bool is_max : {true, false}) {
    const std::string name = is_max ? "max_pool2d" : "avg_pool2d";
    auto pool = [is_max](const Variable<double>& v, std::size_t k, std::size_t s, std::size_t p) {
      return is_max ? max_pool2d(v, k, s, p) : avg_pool2d(v, k, s, p);
    };
    auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
    CHECK(err([&] { pool(Variable<double>(xt::zeros<double>({2, 5, 5})), 2, 0, 0); }) ==
          name + ": input must be 4-D (N, C, H, W), got (2, 5, 5)");
    CHECK(err([&] { pool(x, 0, 0, 0); }) == name + ": kernel size must be positive, got 0");
    CHECK(err([&] { pool(x, 3, 1, 2); }) == name + ": padding 2 must be at most half the kernel size 3 (at most 1)");
    CHECK(err([&] { pool(Variable<double>(xt::zeros<double>({1, 2, 2, 6})), 3, 1, 0); }) ==
          name + ": input (1, 2, 2, 6) is too small for kernel 3 with stride 1 and padding 0");
    CHECK(err([&] { pool(Variable<double>(xt::zeros<double>({1, 2, 6, 1})), 4, 0, 1); }) ==
          name + ": input (1, 2, 6, 1) is too small for kernel 4 with stride 4 and padding 1");
  }
}
