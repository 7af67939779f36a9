#include <typeinfo>

#include "gradient_function.hpp"
#include "test_util.hpp"

using namespace tg;
using tg::test::message_of;

namespace {

struct Options {
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
};

// Exact equality, two NaNs counting as equal: the fused op must reproduce the three ops bit for bit.
template <class T>
bool identical(const Tensor<T>& a, const Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const T x = a.data()[i], y = b.data()[i];
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

// Values from {-2, -1, 0, 1, 2}: the products have many ties for the pooling and many outputs at
// or below zero for the ReLU, the cases where the routing of the gradient could differ.
template <class T>
Tensor<T> small_integers(const Shape& shape, Generator& gen) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>(std::floor(gen.uniform(-2.0, 3.0)));
  return t;
}

// Runs the fused op and conv2d -> relu -> max_pool2d(2) on the same inputs and requires the same
// output and the same gradients for x, w and b.
template <class T>
void check_against_three_ops(const Shape& xs, const Shape& ws, Options o, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor<T> xv = small_integers<T>(xs, gen), wv = small_integers<T>(ws, gen);
  const Tensor<T> bv = small_integers<T>({ws[0]}, gen);
  Variable<T> x1(xv, true), w1(wv, true), b1(bv, true), x2(xv, true), w2(wv, true), b2(bv, true);
  Variable<T> fused = conv2d_relu_max_pool2d(x1, w1, b1, o.stride, o.padding, o.dilation, o.groups);
  Variable<T> apart = max_pool2d(relu(conv2d(x2, w2, b2, o.stride, o.padding, o.dilation, o.groups)), 2);
  REQUIRE(identical(fused.value(), apart.value()));
  const Tensor<T> gy = small_integers<T>(apart.shape(), gen);
  fused.backward(gy);
  apart.backward(gy);
  CHECK(identical(x1.grad(), x2.grad()));
  CHECK(identical(w1.grad(), w2.grad()));
  CHECK(identical(b1.grad(), b2.grad()));
}

template <class T>
void check_all_configs() {
  check_against_three_ops<T>({3, 1, 9, 8}, {4, 1, 3, 3}, {}, 1);           // a grey first layer, odd output
  check_against_three_ops<T>({2, 3, 8, 9}, {5, 3, 3, 3}, {}, 2);           // 27 taps: GEMM weight gradient
  check_against_three_ops<T>({2, 2, 9, 9}, {3, 2, 3, 3}, {2, 1, 1, 1}, 3);  // stride 2, padding 1
  check_against_three_ops<T>({2, 4, 9, 10}, {6, 2, 3, 2}, {1, 1, 2, 2}, 4);  // dilation 2, groups 2
  check_against_three_ops<T>({2, 3, 4, 6}, {2, 3, 1, 1}, {}, 5);           // 1x1: read in place
  check_against_three_ops<T>({40, 2, 8, 8}, {8, 2, 3, 3}, {}, 6);          // a batch split over the threads
  check_against_three_ops<T>({3, 16, 8, 9}, {16, 16, 3, 3}, {1, 1, 1, 1}, 7);  // 16 channels: oneDNN's in float
  check_against_three_ops<T>({2, 32, 9, 8}, {8, 16, 3, 3}, {1, 1, 1, 2}, 8);   // 16 per group, 2 groups
}

}  // namespace

TEST_CASE("conv2d_relu_max_pool2d: values and gradients equal conv2d then relu then max_pool2d bit for bit") {
  check_all_configs<double>();
  check_all_configs<float>();
}

TEST_CASE("conv2d_relu_max_pool2d: gradcheck with respect to input weight and bias") {
  Generator gen(7);
  // Away from zero and from ties: gradcheck's finite differences must not cross a kink.
  auto x = test::param(test::away_from_zero({2, 2, 7, 6}, gen, 0.2));
  auto w = test::param(test::away_from_zero({3, 2, 3, 3}, gen, 0.2));
  auto b = test::param(test::away_from_zero({3}, gen, 0.2, 0.5));
  test::require_gradcheck([](auto& v) { return conv2d_relu_max_pool2d(v[0], v[1], v[2]); }, {x, w, b});
}

TEST_CASE("conv2d_relu_max_pool2d: gradgradcheck and the derivatives of its gradients") {
  Generator gen(11);
  auto x = test::param(test::away_from_zero({2, 2, 6, 5}, gen, 0.2));
  auto w = test::param(test::away_from_zero({3, 2, 3, 3}, gen, 0.2));
  auto b = test::param(test::away_from_zero({3}, gen, 0.2, 0.5));
  auto f = [](auto& v) { return conv2d_relu_max_pool2d(v[0], v[1], v[2], 1, 1); };
  test::require_gradgradcheck(f, {x, w, b});
  auto g = test::param(test::uniform({2, 3, 3, 2}, gen));
  test::require_gradcheck(test::gradient_function(f), {x, w, b, g});
}

namespace {

// Under create_graph, the fused op's gradients and the derivatives of <gradients, r> with respect
// to x, w, b and the output gradient must equal those of the three ops.
void check_second_order(const Shape& xs, const Shape& ws, Options o, std::uint64_t seed) {
  Generator gen(seed);
  const Tensor<double> xv = small_integers<double>(xs, gen), wv = small_integers<double>(ws, gen);
  const Tensor<double> bv = small_integers<double>({ws[0]}, gen);
  std::vector<Tensor<double>> results[2];
  std::vector<std::string> ops[2];
  Tensor<double> gyv, rx, rw, rb;
  for (int fused : {1, 0}) {
    auto x = test::param(xv), w = test::param(wv), b = test::param(bv);
    Variable<double> y = fused ? conv2d_relu_max_pool2d(x, w, b, o.stride, o.padding, o.dilation, o.groups)
                               : max_pool2d(relu(conv2d(x, w, b, o.stride, o.padding, o.dilation, o.groups)), 2);
    if (fused) {
      gyv = small_integers<double>(y.shape(), gen);
      rx = test::uniform(xs, gen), rw = test::uniform(ws, gen), rb = test::uniform({ws[0]}, gen);
    }
    auto gy = test::param(gyv);
    auto g = grad<double>({y}, {x, w, b}, {gy}, std::nullopt, true);
    for (const auto& gi : g) ops[fused].push_back(gi.op());
    Variable<double> s =
        sum(g[0] * Variable<double>(rx)) + sum(g[1] * Variable<double>(rw)) + sum(g[2] * Variable<double>(rb));
    auto h = grad<double>({s}, {x, w, b, gy}, {}, std::nullopt, false, true);
    for (const auto& gi : g) results[fused].push_back(gi.value());
    // An input no gradient reaches: undefined where it is not in the graph of s, zeros where it is.
    const std::vector<Variable<double>> wrt{x, w, b, gy};
    for (std::size_t i = 0; i < h.size(); ++i) {
      results[fused].push_back(h[i].defined() ? h[i].value() : Tensor<double>(xt::zeros<double>(wrt[i].shape())));
    }
  }
  CHECK(ops[1] == std::vector<std::string>{"conv2d_input_grad", "conv2d_weight_grad", "conv2d_bias_grad"});
  CHECK(ops[1] == ops[0]);
  for (std::size_t i = 0; i < results[0].size(); ++i) {
    INFO("result " << i);
    test::require_close(results[1][i], results[0][i], 1e-12);
  }
}

}  // namespace

TEST_CASE("conv2d_relu_max_pool2d: under create_graph it differentiates as the three ops do") {
  check_second_order({2, 1, 7, 6}, {3, 1, 3, 3}, {}, 21);
  check_second_order({2, 2, 9, 9}, {3, 2, 3, 3}, {2, 1, 1, 1}, 22);
  check_second_order({1, 4, 8, 9}, {4, 2, 3, 2}, {1, 1, 2, 2}, 23);
}

TEST_CASE("conv2d_relu_max_pool2d: without recording it gives the same values and no graph") {
  Generator gen(8);
  const Tensor<float> xv = test::uniform<float>({3, 2, 8, 8}, gen), wv = test::uniform<float>({4, 2, 3, 3}, gen);
  Variable<float> w(wv, true);
  const Tensor<float> expected = max_pool2d(relu(conv2d(Variable<float>(xv), w)), 2).value();
  NoGradGuard guard;
  Variable<float> y = conv2d_relu_max_pool2d(Variable<float>(xv), w);
  CHECK_FALSE(y.requires_grad());
  CHECK(identical(y.value(), expected));
}

TEST_CASE("conv2d_relu_max_pool2d: bad arguments throw as the separate ops do") {
  Variable<double> w(Tensor<double>(xt::ones<double>({2, 1, 3, 3})));
  // A 1x1 convolution output is too small to pool: max_pool2d reports it.
  const std::string tiny = message_of<std::invalid_argument>(
      [&] { conv2d_relu_max_pool2d(Variable<double>(Tensor<double>(xt::ones<double>({1, 1, 3, 3}))), w); });
  CHECK_THAT(tiny, Catch::Matchers::Contains("max_pool2d"));
  const std::string channels = message_of<std::invalid_argument>(
      [&] { conv2d_relu_max_pool2d(Variable<double>(Tensor<double>(xt::ones<double>({1, 2, 6, 6}))), w); });
  CHECK_THAT(channels, Catch::Matchers::Contains("conv2d"));
  CHECK_THAT(channels, Catch::Matchers::Contains("(2, 1, 3, 3)"));
}

namespace {
nn::Sequential<double> small_cnn() {
  return nn::Sequential<double>(nn::Conv2d<double>(1, 4, 3), nn::ReLU<double>(), nn::MaxPool2d<double>(2),
                                nn::Conv2d<double>(4, 6, 3), nn::ReLU<double>(), nn::MaxPool2d<double>(2),
                                nn::Flatten<double>(), nn::Linear<double>(6 * 2 * 2, 3));
}
}  // namespace

TEST_CASE("fuse_conv_relu_pool: the fused model trains exactly as the modules one by one") {
  manual_seed(3);
  nn::Sequential<double> plain = small_cnn();
  nn::Sequential<double> fused;  // the same child modules, so the same weights
  for (const auto& child : plain.children()) fused.push_back(child.second);
  REQUIRE(nn::fuse_conv_relu_pool(fused) == 2);
  REQUIRE(fused.size() == 4);
  CHECK(fused[0].describe() ==
        "ConvReLUMaxPool2d(Conv2d(1, 4, kernel_size=3), ReLU(), MaxPool2d(kernel_size=2, stride=2, padding=0))");
  CHECK_THAT(nn::summary(fused, {1, 1, 15, 14}), Catch::Matchers::Contains("3 (ConvReLUMaxPool2d(Conv2d(4, 6"));
  // The same parameters under the same names, so checkpoints and optimisers are unaffected.
  const auto names = [](const nn::Module<double>& m) {
    std::vector<std::string> out;
    for (const auto& [name, p] : m.named_parameters()) out.push_back(name);
    return out;
  };
  CHECK(names(fused) == names(plain));
  CHECK(names(fused) == std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"});
  for (std::size_t i = 0; i < plain.parameters().size(); ++i) {
    CHECK(fused.parameters()[i].impl() == plain.parameters()[i].impl());
  }

  Generator gen(9);
  const Tensor<double> images = test::uniform({5, 1, 15, 14}, gen);
  const Labels labels{0, 2, 1, 1, 0};
  Variable<double> fused_out = fused(Variable<double>(images));
  Variable<double> fused_loss = cross_entropy(fused_out, labels);
  CHECK_THAT(to_dot(fused_loss), Catch::Matchers::Contains("conv2d_relu_max_pool2d"));
  fused_loss.backward();
  std::vector<Tensor<double>> fused_grads;
  for (auto& p : fused.parameters()) fused_grads.push_back(p.grad());
  fused.zero_grad();

  Variable<double> out = plain(Variable<double>(images));
  Variable<double> loss = cross_entropy(out, labels);
  CHECK_THAT(to_dot(loss), !Catch::Matchers::Contains("conv2d_relu_max_pool2d"));
  loss.backward();
  CHECK(identical(fused_out.value(), out.value()));
  const auto params = plain.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    INFO("parameter " << i);
    CHECK(identical(params[i].grad(), fused_grads[i]));
  }
  // Children added after fusion take fresh names.
  fused.push_back(nn::ReLU<double>());
  CHECK(fused.children().back().first == "8");
}

namespace {
// A ReLU whose forward differs: the pass must not fuse a subclass.
struct HalfReLU : nn::ReLU<double> {
  Variable<double> forward(const Variable<double>& x) override { return relu(x) * 0.5; }
};
}  // namespace

TEST_CASE("fuse_conv_relu_pool: other pooling or a ReLU subclass is not fused, nested Sequentials are") {
  Generator gen(10);
  const Variable<double> x(test::uniform({2, 1, 8, 8}, gen));
  manual_seed(4);
  nn::Sequential<double> pool3(nn::Conv2d<double>(1, 2, 3), nn::ReLU<double>(), nn::MaxPool2d<double>(3));
  CHECK(nn::fuse_conv_relu_pool(pool3) == 0);
  nn::Sequential<double> stride1(nn::Conv2d<double>(1, 2, 3), nn::ReLU<double>(), nn::MaxPool2d<double>(2, 1));
  CHECK(nn::fuse_conv_relu_pool(stride1) == 0);
  nn::Sequential<double> custom(nn::Conv2d<double>(1, 2, 3), HalfReLU(), nn::MaxPool2d<double>(2));
  CHECK(nn::fuse_conv_relu_pool(custom) == 0);
  CHECK(custom(x).op() == "max_pool2d");
  nn::Sequential<double> fusable(nn::Conv2d<double>(1, 2, 3), nn::ReLU<double>(), nn::MaxPool2d<double>(2));
  CHECK(fusable(x).op() == "max_pool2d");  // Sequential itself never fuses
  auto inner = std::make_shared<nn::Sequential<double>>(nn::Conv2d<double>(1, 2, 3), nn::ReLU<double>(),
                                                        nn::MaxPool2d<double>(2));
  nn::Sequential<double> outer;
  outer.push_back(inner);
  CHECK(nn::fuse_conv_relu_pool(outer) == 1);
  CHECK((*inner)(x).op() == "conv2d_relu_max_pool2d");
  CHECK(outer.named_parameters().front().first == "0.0.weight");
}
