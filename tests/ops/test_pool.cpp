#include <algorithm>
#include <limits>
#include <numeric>

#include "gradient_function.hpp"
#include "test_util.hpp"

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

// Forward values against the loops; gradcheck and gradgradcheck; and the gradient's derivative with
// respect to the output gradient (max: a gather by the argmax; avg: avg_pool2d again), to third order.
void check_config(bool is_max, const Shape& xs, std::size_t k, std::size_t s, std::size_t p, std::uint64_t seed) {
  Generator gen(seed);
  auto x = test::param(distinct(xs, gen));
  const std::size_t stride = s == 0 ? k : s;
  Variable<double> y = is_max ? max_pool2d(x, k, s, p) : avg_pool2d(x, k, s, p);
  test::require_close(y.value(), naive_pool(x.value(), k, stride, p, is_max), 1e-12);
  auto f = [=](auto& v) { return is_max ? max_pool2d(v[0], k, s, p) : avg_pool2d(v[0], k, s, p); };
  test::require_grad_and_gradgrad(f, {x});
  test::require_grad_and_gradgrad(test::gradient_function(f), {x, test::param(test::uniform(y.shape(), gen))});
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

TEST_CASE("max_pool2d: forward, gradcheck and gradgradcheck default stride") {
  check_config(true, {2, 2, 4, 6}, 2, 0, 0, 42);
}
TEST_CASE("max_pool2d: forward, gradcheck and gradgradcheck 2x2 windows on an odd-sized input") {
  check_config(true, {2, 3, 5, 7}, 2, 0, 0, 45);
}
TEST_CASE("max_pool2d: forward, gradcheck and gradgradcheck stride below the kernel") {
  check_config(true, {1, 2, 7, 5}, 3, 2, 0, 43);
}
TEST_CASE("max_pool2d: forward, gradcheck and gradgradcheck stride above the kernel") {
  check_config(true, {1, 2, 7, 8}, 2, 3, 0, 44);
}
TEST_CASE("max_pool2d: forward, gradcheck and gradgradcheck padding") {
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

TEST_CASE("avg_pool2d: forward, gradcheck and gradgradcheck default stride") {
  check_config(false, {2, 2, 4, 6}, 2, 0, 0, 48);
}
TEST_CASE("avg_pool2d: forward, gradcheck and gradgradcheck stride below the kernel") {
  check_config(false, {1, 2, 7, 5}, 3, 2, 0, 49);
}
TEST_CASE("avg_pool2d: forward, gradcheck and gradgradcheck stride above the kernel") {
  check_config(false, {1, 2, 7, 8}, 2, 3, 0, 50);
}
TEST_CASE("avg_pool2d: forward, gradcheck and gradgradcheck padding") {
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

TEST_CASE("pooling: a kernel near 2^63 or 2^32 throws naming the function and the values") {
  Variable<double> x(xt::ones<double>({1, 1, 4, 4}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  const std::size_t k63 = std::size_t(1) << 63, k32 = std::size_t(1) << 32;
  CHECK(err([&] { max_pool2d(x, k63, 1, k63 / 2); }) ==
        "max_pool2d: kernel size 9223372036854775808 is too large: a 9223372036854775808x9223372036854775808 window "
        "would hold more elements than a tensor can");
  CHECK(err([&] { max_pool2d(x, k63 + 5, 0, k63 / 2); }) ==
        "max_pool2d: kernel size 9223372036854775813 is too large: a 9223372036854775813x9223372036854775813 window "
        "would hold more elements than a tensor can");
  CHECK(err([&] { avg_pool2d(x, k32, 1, k32 / 2); }) ==
        "avg_pool2d: kernel size 4294967296 is too large: a 4294967296x4294967296 window would hold more elements "
        "than a tensor can");
  CHECK(err([&] { max_pool2d(x, k63); }) ==
        "max_pool2d: kernel size 9223372036854775808 is too large: a "
        "9223372036854775808x9223372036854775808 window would hold more "
        "elements than a tensor can");
  CHECK(err([&] {
          avg_pool2d(Variable<double>(xt::ones<double>({1, 1, 0, 4})), 2, 2, 1);
        }) == "avg_pool2d: input (1, 1, 0, 4) has an empty plane");
}

TEST_CASE("pooling: a huge kernel costs what the image costs") {
  // A 2^20 kernel padded by 2^19: every window covers the whole 3x4 image (and 2^40 - 12 padding
  // elements). The loops visit only the kernel columns that reach the image.
  auto x = test::param(Tensor<double>{{{{1, 5, 2, 0}, {3, 4, 8, 1}, {0, 2, 6, 7}}}});
  const std::size_t k = std::size_t(1) << 20;
  Variable<double> m = max_pool2d(x, k, 1, k / 2);
  CHECK(m.shape() == Shape{1, 1, 4, 5});
  test::require_close(m.value(), Tensor<double>(8.0 * xt::ones<double>({1, 1, 4, 5})), 0.0);
  Variable<double> a = avg_pool2d(x, k, 1, k / 2);
  test::require_close(a.value(), Tensor<double>(39.0 / double(k * k) * xt::ones<double>({1, 1, 4, 5})), 1e-30);
  m.backward(xt::ones<double>(m.shape()));
  test::require_close(x.grad(), Tensor<double>{{{{0, 0, 0, 0}, {0, 0, 20, 0}, {0, 0, 0, 0}}}}, 0.0);
  // A stride past every size leaves one window per row and column.
  test::require_close(max_pool2d(x, 3, ~std::size_t(0), 1).value(),
                      Tensor<double>(5.0 * xt::ones<double>({1, 1, 1, 1})), 0.0);
}

TEST_CASE("max_pool2d: under create_graph its gradient is a recorded scatter whose derivative gathers") {
  auto x = test::param(Tensor<double>{{{{1, 5, 2, 0}, {3, 4, 8, 1}, {0, 2, 6, 7}, {9, 1, 3, 2}}}});
  Generator gen(3);
  for (std::size_t stride : {2, 1}) {  // the 2x2 kernel with its byte per window, and the general one
    INFO("stride " << stride);
    Variable<double> y = max_pool2d(x, 2, stride);
    auto gy = test::param(test::uniform(y.shape(), gen));
    Variable<double> gx = grad<double>({y}, {x}, {gy}, std::nullopt, true)[0];
    CHECK(gx.op() == "max_pool2d_backward");
    // d <gx, u> / d gy = u read at each window's maximum.
    Tensor<double> u = Tensor<double>::from_shape({1, 1, 4, 4});
    for (std::size_t i = 0; i < 16; ++i) u.data()[i] = double(i);
    Variable<double> ggy = grad<double>({gx}, {gy}, {Variable<double>(u)})[0];
    const Tensor<double> expected =
        stride == 2 ? Tensor<double>{{{{1, 6}, {12, 11}}}} : Tensor<double>{{{{1, 6, 6}, {5, 6, 6}, {12, 10, 11}}}};
    test::require_close(ggy.value(), expected, 0.0);
  }
}

namespace {

// Averages over [floor(i·H/OH), ceil((i+1)·H/OH)) by direct loops, the reference for random cases.
Tensor<double> naive_adaptive(const Tensor<double>& x, std::size_t OH, std::size_t OW) {
  const std::size_t H = x.shape()[2], W = x.shape()[3];
  Tensor<double> y = xt::zeros<double>({x.shape()[0], x.shape()[1], OH, OW});
  for (std::size_t n = 0; n < x.shape()[0]; ++n)
    for (std::size_t c = 0; c < x.shape()[1]; ++c)
      for (std::size_t i = 0; i < OH; ++i)
        for (std::size_t j = 0; j < OW; ++j) {
          const std::size_t r0 = i * H / OH, r1 = ((i + 1) * H + OH - 1) / OH;
          const std::size_t c0 = j * W / OW, c1 = ((j + 1) * W + OW - 1) / OW;
          double s = 0;
          for (std::size_t r = r0; r < r1; ++r)
            for (std::size_t q = c0; q < c1; ++q) s += x(n, c, r, q);
          y(n, c, i, j) = s / double((r1 - r0) * (c1 - c0));
        }
  return y;
}

Tensor<double> pattern(const Shape& shape) {  // ((7i) mod 11 - 5) / 4, as the PyTorch script builds it
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = double(long(i) * 7 % 11 - 5) / 4;
  return t;
}

}  // namespace

// Printed by PyTorch 1.13.1 (Debian's python3-torch):
//   x = tensor([((i*7) % 11 - 5) / 4 for i in range(n)], dtype=float64).reshape(shape)
//   print(torch.nn.functional.adaptive_avg_pool2d(x, output_size).flatten().tolist())
TEST_CASE("adaptive_avg_pool2d: values printed by PyTorch") {
  test::require_close(adaptive_avg_pool2d(Variable<double>(pattern({1, 2, 5, 7})), {3, 4}).value(),
                      Tensor<double>{{{{-0.4375, 0.125, -0.041666666666666664, 0.0625},
                                       {-0.16666666666666666, -0.1388888888888889, 0.0, -0.125},
                                       {-0.125, -0.25, 0.041666666666666664, -0.3125}},
                                      {{0.3125, -0.041666666666666664, 0.25, 0.125},
                                       {0.125, 0.0, 0.1388888888888889, 0.16666666666666666},
                                       {-0.0625, 0.041666666666666664, -0.125, 0.4375}}}},
                      1e-15);
  test::require_close(adaptive_avg_pool2d(Variable<double>(pattern({1, 1, 4, 6})), {2, 3}).value(),
                      Tensor<double>{{{{0.0625, 0.125, -0.5}, {-0.25, 0.5, -0.125}}}}, 1e-15);
  // 3-D input, and more output columns than input columns (overlapping one-column windows).
  test::require_close(adaptive_avg_pool2d(Variable<double>(pattern({2, 3, 3})), {2, 5}).value(),
                      Tensor<double>{{{0.0, 0.1875, 0.375, -0.125, -0.625}, {1.125, 0.625, 0.125, -0.375, -0.875}},
                                     {{0.625, 0.125, -0.375, -0.1875, 0.0}, {0.375, -0.125, -0.625, 0.25, 1.125}}},
                      1e-15);
}

TEST_CASE("adaptive_avg_pool2d: forward, gradcheck and gradgradcheck, sizes that divide and that do not") {
  Generator gen(80);
  struct Case {
    Shape x, out;
  };
  for (const Case& c : {Case{{2, 2, 4, 6}, {2, 3}}, Case{{1, 2, 5, 7}, {3, 4}}, Case{{1, 1, 3, 2}, {4, 5}},
                        Case{{2, 1, 4, 4}, {1, 1}}, Case{{1, 3, 3, 5}, {3, 5}}}) {
    INFO("input " << format_shape(c.x) << " to " << format_shape(c.out));
    auto x = test::param(test::uniform(c.x, gen));
    Variable<double> y = adaptive_avg_pool2d(x, c.out);
    test::require_close(y.value(), naive_adaptive(x.value(), c.out[0], c.out[1]), 1e-14);
    auto f = [out = c.out](auto& v) { return adaptive_avg_pool2d(v[0], out); };
    test::require_grad_and_gradgrad(f, {x});
    test::require_grad_and_gradgrad(test::gradient_function(f), {x, test::param(test::uniform(y.shape(), gen))});
  }
  // float
  const Tensor<double> xd = test::uniform({2, 3, 7, 5}, gen);
  test::require_close(
      Tensor<double>(xt::cast<double>(adaptive_avg_pool2d(Variable<float>(xt::cast<float>(xd)), {3, 2}).value())),
      naive_adaptive(xd, 3, 2), 1e-6);
}

TEST_CASE("adaptive_avg_pool2d: rejects bad shapes and sizes naming the function and the values") {
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  Variable<double> x(xt::zeros<double>({1, 2, 5, 5}));
  CHECK(err([&] {
          adaptive_avg_pool2d(Variable<double>(xt::zeros<double>({5, 5})), {2, 2});
        }) == "adaptive_avg_pool2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got (5, 5)");
  CHECK(err([&] { adaptive_avg_pool2d(x, {2}); }) ==
        "adaptive_avg_pool2d: output_size must have 2 values (OH, OW), got (2,)");
  CHECK(err([&] { adaptive_avg_pool2d(x, {2, 0}); }) == "adaptive_avg_pool2d: output_size (2, 0) must be positive");
  CHECK(err([&] {
          adaptive_avg_pool2d(Variable<double>(xt::zeros<double>({1, 2, 0, 5})), {2, 2});
        }) == "adaptive_avg_pool2d: input (1, 2, 0, 5) has an empty plane");
  CHECK_THAT(err([&] {
               adaptive_avg_pool2d(x, {std::size_t(1) << 62, 2});
             }),
             Contains("adaptive_avg_pool2d") && Contains("4611686018427387904"));
}
