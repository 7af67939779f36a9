#include <array>
#include <cmath>

#include "gradient_function.hpp"
#include "ops/detail/im2col.hpp"  // an internal kernel, tested on its own
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

struct Conv {
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
};

// Direct nested-loop convolution (PyTorch's cross-correlation), the independent reference.
template <class T>
Tensor<T> naive_conv2d(const Tensor<T>& x, const Tensor<T>& w, const Tensor<T>* b, Conv c) {
  const std::size_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], Cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
  const std::size_t Og = O / c.groups;
  (void)C;
  const long OH = (long(H) + 2 * long(c.padding) - long(c.dilation) * (long(kh) - 1) - 1) / long(c.stride) + 1;
  const long OW = (long(W) + 2 * long(c.padding) - long(c.dilation) * (long(kw) - 1) - 1) / long(c.stride) + 1;
  Tensor<T> y = xt::zeros<T>({N, O, std::size_t(OH), std::size_t(OW)});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t o = 0; o < O; ++o)
      for (long oh = 0; oh < OH; ++oh)
        for (long ow = 0; ow < OW; ++ow) {
          double s = b ? double((*b)(o)) : 0.0;
          const std::size_t grp = o / Og;
          for (std::size_t ci = 0; ci < Cg; ++ci)
            for (std::size_t i = 0; i < kh; ++i)
              for (std::size_t j = 0; j < kw; ++j) {
                const long ih = oh * long(c.stride) - long(c.padding) + long(i * c.dilation);
                const long iw = ow * long(c.stride) - long(c.padding) + long(j * c.dilation);
                if (ih < 0 || iw < 0 || ih >= long(H) || iw >= long(W)) continue;
                s += double(x(n, grp * Cg + ci, ih, iw)) * double(w(o, ci, i, j));
              }
          y(n, o, oh, ow) = static_cast<T>(s);
        }
  return y;
}

// Checks forward values against the reference, the first and second derivatives with gradcheck
// and gradgradcheck, and the gradients' derivatives with respect to the output gradient too.
void check_config(const Shape& xs, const Shape& ws, bool bias, Conv c, std::uint64_t seed) {
  Generator gen(seed);
  auto x = test::param(test::uniform(xs, gen)), w = test::param(test::uniform(ws, gen));
  auto b = test::param(test::uniform({ws[0]}, gen));
  Variable<double> y = conv2d(x, w, bias ? b : Variable<double>(), c.stride, c.padding, c.dilation, c.groups);
  test::require_close(y.value(), naive_conv2d(x.value(), w.value(), bias ? &b.value() : nullptr, c), 1e-12);
  auto g = test::param(test::uniform(y.shape(), gen));
  if (bias) {
    auto f = [c](auto& v) { return conv2d(v[0], v[1], v[2], c.stride, c.padding, c.dilation, c.groups); };
    test::require_grad_and_gradgrad(f, {x, w, b});
    test::require_gradcheck(test::gradient_function(f), {x, w, b, g});
  } else {
    auto f = [c](auto& v) { return conv2d(v[0], v[1], Variable<double>(), c.stride, c.padding, c.dilation, c.groups); };
    test::require_grad_and_gradgrad(f, {x, w});
    test::require_gradcheck(test::gradient_function(f), {x, w, g});
  }
}

}  // namespace

TEST_CASE("conv2d: hand-computed small cases") {
  Tensor<double> img{{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}};
  // Cross-correlation with [[1, 0], [0, -1]]: x[i][j] - x[i+1][j+1] = -4 everywhere, plus bias 0.5.
  Variable<double> x(img), w(Tensor<double>{{{{1, 0}, {0, -1}}}}), b(Tensor<double>{0.5});
  test::require_close(conv2d(x, w, b).value(), Tensor<double>{{{{-3.5, -3.5}, {-3.5, -3.5}}}});
  // A 2x2 box filter over [[1, 2], [3, 4]] padded by 1 with zeros: every window sum.
  Variable<double> small(Tensor<double>{{{{1, 2}, {3, 4}}}}), box(xt::ones<double>({1, 1, 2, 2}));
  test::require_close(conv2d(small, box, Variable<double>(), 1, 1).value(),
                      Tensor<double>{{{{1, 3, 2}, {4, 10, 6}, {3, 7, 4}}}});
  // Stride 2 keeps the corners of that 3x3 result.
  test::require_close(conv2d(small, box, Variable<double>(), 2, 1).value(), Tensor<double>{{{{1, 2}, {3, 4}}}});
  // Dilation 2 on the 3x3 image: a 2x2 kernel reads the four corners: 1 + 3 + 7 + 9 = 20.
  test::require_close(conv2d(x, Variable<double>(xt::ones<double>({1, 1, 2, 2})), Variable<double>(), 1, 0, 2).value(),
                      Tensor<double>(20.0 * xt::ones<double>({1, 1, 1, 1})));
}

TEST_CASE("conv2d: output size is floor((H + 2p - d(k-1) - 1)/s) + 1") {
  Variable<double> x(xt::zeros<double>({2, 3, 7, 10})), w(xt::zeros<double>({4, 3, 3, 2}));
  CHECK(conv2d(x, w).shape() == Shape{2, 4, 5, 9});
  CHECK(conv2d(x, w, Variable<double>(), 2, 1).shape() == Shape{2, 4, 4, 6});      // (7+2-3)/2+1, (10+2-2)/2+1
  CHECK(conv2d(x, w, Variable<double>(), 3, 2, 2).shape() == Shape{2, 4, 3, 4});   // (7+4-5)/3+1, (10+4-3)/3+1
}

// Up to 16 taps per group (C/groups·kH·kW) the weight gradient is a hand loop, above it GEMM: the
// 3x3 cases below with 2 channels (18 taps) take GEMM, a grey first layer (9 taps) the loop.
TEST_CASE("conv2d: forward, gradcheck and gradgradcheck plain 3x3 with bias") {
  check_config({2, 2, 5, 4}, {3, 2, 3, 3}, true, {}, 21);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck a one-channel first layer") {
  check_config({2, 1, 6, 5}, {5, 1, 3, 3}, true, {}, 31);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck stride 2 and padding 1") {
  check_config({2, 2, 5, 6}, {3, 2, 3, 3}, true, {2, 1, 1, 1}, 22);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck dilation 2 (with padding 1)") {
  check_config({1, 2, 6, 5}, {2, 2, 2, 3}, true, {1, 1, 2, 1}, 23);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck groups 2") {
  check_config({2, 4, 4, 5}, {6, 2, 3, 3}, true, {1, 0, 1, 2}, 24);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck 1x1 kernel (read in place and strided)") {
  check_config({2, 3, 3, 4}, {4, 3, 1, 1}, true, {}, 25);
  check_config({2, 4, 3, 4}, {4, 2, 1, 1}, true, {1, 0, 1, 2}, 26);  // grouped, still read in place
  check_config({1, 3, 5, 4}, {2, 3, 1, 1}, true, {2, 1, 1, 1}, 27);  // stride and padding: lowered
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck no bias") {
  check_config({2, 2, 4, 4}, {3, 2, 2, 2}, false, {}, 28);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck non-square input and kernel") {
  check_config({1, 2, 4, 7}, {2, 2, 2, 3}, true, {1, 1, 1, 1}, 29);
}

TEST_CASE("conv2d: forward, gradcheck and gradgradcheck everything at once") {
  check_config({2, 3, 7, 6}, {3, 1, 3, 2}, true, {2, 2, 2, 3}, 30);
}

TEST_CASE("conv2d: third derivatives through the gradients' own derivatives") {
  test::require_third_derivatives([](auto& v) { return conv2d(v[0], v[1], v[2], 2, 1, 1, 2); },
                                  {{1, 2, 4, 3}, {2, 1, 2, 2}, {2}, {1, 2, 3, 2}}, 35);
}

TEST_CASE("conv2d: under create_graph its gradients are recorded ops, without it plain values") {
  Generator gen(36);
  auto x = test::param(test::uniform({1, 2, 4, 4}, gen)), w = test::param(test::uniform({3, 2, 3, 3}, gen));
  auto b = test::param(test::uniform({3}, gen));
  Variable<double> y = conv2d(x, w, b, 1, 1);
  const Variable<double> seed = test::param(test::uniform(y.shape(), gen));  // db depends only on it
  auto graphs = grad<double>({y}, {x, w, b}, {seed}, std::nullopt, true);
  CHECK(graphs[0].op() == "conv2d_input_grad");
  CHECK(graphs[1].op() == "conv2d_weight_grad");
  CHECK(graphs[2].op() == "conv2d_bias_grad");
  auto plain = grad<double>({y}, {x, w, b}, {seed});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK_FALSE(plain[i].requires_grad());
    CHECK(plain[i].op().empty());
    test::require_close(plain[i].value(), graphs[i].value(), 0.0);  // the same one-pass computation
  }
}

TEST_CASE("conv2d: float agrees with the reference") {
  Generator gen(31);
  Tensor<float> x = test::uniform<float>({2, 4, 9, 8}, gen), w = test::uniform<float>({6, 2, 3, 3}, gen);
  Tensor<float> b = test::uniform<float>({6}, gen);
  Conv c{2, 1, 1, 2};
  Variable<float> y = conv2d(Variable<float>(x), Variable<float>(w), Variable<float>(b), 2, 1, 1, 2);
  test::require_close(y.value(), naive_conv2d(x, w, &b, c), 1e-5);
}

TEST_CASE("conv2d: a batch spread over two threads gives the one-thread result") {
  // Big enough (12 images, 1.8M multiply-adds) for the images to be split between threads.
  Generator gen(34);
  const Tensor<double> xt0 = test::uniform({12, 8, 16, 16}, gen), wt0 = test::uniform({16, 4, 3, 3}, gen);
  const Tensor<double> bt0 = test::uniform({16}, gen), gt0 = test::uniform({12, 16, 16, 16}, gen);
  const int threads_before = get_num_threads();
  std::vector<Tensor<double>> results[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    auto x = test::param(xt0), w = test::param(wt0), b = test::param(bt0);
    Variable<double> y = conv2d(x, w, b, 1, 1, 1, 2);
    y.backward(gt0);
    results[threads - 1] = {y.value(), x.grad(), w.grad(), b.grad()};
  }
  set_num_threads(threads_before);
  Conv c{1, 1, 1, 2};
  test::require_close(results[1][0], naive_conv2d(xt0, wt0, &bt0, c), 1e-12);
  for (std::size_t i = 0; i < 4; ++i) test::require_close(results[1][i], results[0][i], 1e-12);
}

TEST_CASE("conv2d: only the inputs that require grad get one") {
  Generator gen(32);
  Variable<double> x(test::uniform({1, 2, 4, 4}, gen));
  auto w = test::param(test::uniform({2, 2, 3, 3}, gen)), b = test::param(test::uniform({2}, gen));
  test::require_gradcheck([x](auto& v) { return conv2d(x, v[0], v[1], 1, 1); }, {w, b});
  Variable<double> y = conv2d(x, w, b, 1, 1);
  y.backward(xt::ones<double>(y.shape()));
  CHECK_FALSE(x.has_grad());
  // db = number of output positions per channel: 1 image x 4 x 4.
  test::require_close(b.grad(), Tensor<double>{16, 16});
  // Only the input requiring grad.
  auto xg = test::param(test::uniform({1, 2, 5, 5}, gen));
  Variable<double> wc(test::uniform({3, 2, 3, 3}, gen));
  test::require_gradcheck([wc](auto& v) { return conv2d(v[0], wc, Variable<double>(), 2, 1, 2); }, {xg});
}

TEST_CASE("conv2d: the graph is released after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Generator gen(33);
    auto w = test::param(test::uniform({2, 1, 3, 3}, gen));
    Variable<double> y = conv2d(Variable<double>(test::uniform({1, 1, 5, 5}, gen)), w);
    y.backward(xt::ones<double>(y.shape()));
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("conv2d: rejects bad shapes and arguments naming the function and the shapes") {
  Variable<double> x(xt::zeros<double>({1, 3, 5, 5})), w(xt::zeros<double>({8, 3, 3, 3}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };

  CHECK_THAT(err([&] { conv2d(Variable<double>(xt::zeros<double>({3, 5, 5})), w); }),
             Contains("conv2d") && Contains("4-D") && Contains("(3, 5, 5)"));
  CHECK_THAT(err([&] { conv2d(x, Variable<double>(xt::zeros<double>({8, 3, 3}))); }),
             Contains("conv2d") && Contains("weight") && Contains("4-D") && Contains("(8, 3, 3)"));
  CHECK(err([&] { conv2d(x, Variable<double>(xt::zeros<double>({8, 4, 3, 3}))); }) ==
        "conv2d: input has 3 channels but weight (8, 4, 3, 3) with groups 1 expects 4");
  Variable<double> x4(xt::zeros<double>({1, 4, 5, 5}));
  CHECK(err([&] { conv2d(x4, Variable<double>(xt::zeros<double>({6, 1, 3, 3})), Variable<double>(), 1, 0, 1, 4); }) ==
        "conv2d: weight (6, 1, 3, 3) has 6 output channels, which groups 4 does not divide");
  CHECK(err([&] { conv2d(x, w, Variable<double>(xt::zeros<double>({5}))); }) ==
        "conv2d: bias has shape (5,) but weight (8, 3, 3, 3) needs (8,)");
  CHECK_THAT(err([&] { conv2d(x, w, Variable<double>(xt::zeros<double>({8, 1}))); }),
             Contains("conv2d") && Contains("(8, 1)") && Contains("(8,)"));
  CHECK(err([&] { conv2d(x, w, Variable<double>(), 0); }) == "conv2d: stride must be positive, got 0");
  CHECK(err([&] { conv2d(x, w, Variable<double>(), 1, 0, 0); }) == "conv2d: dilation must be positive, got 0");
  CHECK(err([&] { conv2d(x, w, Variable<double>(), 1, 0, 1, 0); }) == "conv2d: groups must be positive, got 0");
  CHECK_THAT(err([&] { conv2d(x, Variable<double>(xt::zeros<double>({8, 3, 0, 3}))); }),
             Contains("conv2d") && Contains("(8, 3, 0, 3)") && Contains("empty kernel"));
  CHECK(err([&] { conv2d(Variable<double>(xt::zeros<double>({1, 3, 2, 5})), w); }) ==
        "conv2d: input (1, 3, 2, 5) is too small for kernel 3x3 with stride 1, padding 0, dilation 1: "
        "the output would be 0x3");
  CHECK_THAT(err([&] { conv2d(x, w, Variable<double>(), 1, 0, 3); }),  // dilated kernel spans 7 > 5
             Contains("conv2d") && Contains("(1, 3, 5, 5)") && Contains("dilation 3") && Contains("-1x-1"));
}

TEST_CASE("conv2d: a padding or dilation near 2^63 throws naming the values instead of wrapping around") {
  Variable<double> x(xt::ones<double>({1, 1, 5, 5})), w(xt::ones<double>({1, 1, 3, 3}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  const std::size_t big = std::size_t(1) << 63;
  CHECK(err([&] { conv2d(x, w, Variable<double>(), 1, big); }) ==
        "conv2d: padding 9223372036854775808 on an input height of 5 overflows the padded size "
        "5 + 2 x 9223372036854775808");
  // 2^62 does not overflow 64 bits, but no tensor is that large.
  CHECK_THAT(err([&] { conv2d(x, w, Variable<double>(), 1, big / 2); }),
             Contains("conv2d: padding 4611686018427387904") && Contains("overflows the padded size"));
  CHECK(err([&] { conv2d(x, w, Variable<double>(), 1, 0, big); }) ==
        "conv2d: dilation 9223372036854775808 with kernel size 3 overflows the dilated kernel size "
        "9223372036854775808 x (3 - 1) + 1");
  CHECK_THAT(err([&] { conv2d(x, w, Variable<double>(), 1, 0, std::size_t(1) << 57); }),  // fits: too small an input
             Contains("conv2d: input (1, 1, 5, 5) is too small") && Contains("the output would be -"));
  // A stride past the input leaves one output per row and column, whatever its size.
  Variable<double> img(Tensor<double>{
      {{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}, {16, 17, 18, 19, 20}, {21, 22, 23, 24, 25}}}});
  const std::size_t huge_stride = ~std::size_t(0);
  test::require_close(
      conv2d(img, w, Variable<double>(), huge_stride, 1).value(),
      Tensor<double>((1 + 2 + 6 + 7.0) * xt::ones<double>({1, 1, 1, 1})));  // the top-left window over the padding
  test::require_close(conv2d(img, w, Variable<double>(), huge_stride).value(),
                      Tensor<double>(63.0 * xt::ones<double>({1, 1, 1, 1})));
}

TEST_CASE("im2col: every entry written from its definition col2im is its adjoint and accumulates") {
  using detail::ConvGeometry;
  Generator gen(34);
  // (channels, H, W, kH, kW, stride, padding, dilation)
  const std::vector<std::array<std::size_t, 8>> cases = {
      {2, 5, 4, 3, 3, 1, 0, 1}, {2, 5, 6, 3, 2, 2, 1, 1}, {1, 7, 6, 3, 2, 2, 2, 2}, {3, 4, 4, 1, 1, 2, 1, 1},
      {1, 3, 3, 3, 3, 1, 2, 1}, {2, 6, 5, 2, 3, 3, 1, 2}};
  for (const auto& c : cases) {
    ConvGeometry g;
    g.channels = c[0], g.height = c[1], g.width = c[2], g.kernel_h = c[3], g.kernel_w = c[4];
    g.stride = c[5], g.padding = c[6], g.dilation = c[7];
    g.out_h = (g.height + 2 * g.padding - g.dilation * (g.kernel_h - 1) - 1) / g.stride + 1;
    g.out_w = (g.width + 2 * g.padding - g.dilation * (g.kernel_w - 1) - 1) / g.stride + 1;
    INFO("case " << format_shape(c));
    const std::size_t rows = g.col_rows(), cols = g.col_cols(), H = g.height, W = g.width;
    Tensor<double> x = test::uniform({g.channels, H, W}, gen);
    std::vector<double> col(rows * cols, std::nan(""));  // garbage: every entry must be written
    detail::im2col(x.data(), g, col.data());
    for (std::size_t ci = 0; ci < g.channels; ++ci)
      for (std::size_t i = 0; i < g.kernel_h; ++i)
        for (std::size_t j = 0; j < g.kernel_w; ++j)
          for (std::size_t oh = 0; oh < g.out_h; ++oh)
            for (std::size_t ow = 0; ow < g.out_w; ++ow) {
              const long ih = long(oh * g.stride + i * g.dilation) - long(g.padding);
              const long iw = long(ow * g.stride + j * g.dilation) - long(g.padding);
              const bool inside = ih >= 0 && iw >= 0 && ih < long(H) && iw < long(W);
              const double expected = inside ? x(ci, ih, iw) : 0.0;
              REQUIRE(col[((ci * g.kernel_h + i) * g.kernel_w + j) * cols + oh * g.out_w + ow] == expected);
            }
    // <im2col(x), c> == <x, col2im(c)>, and col2im adds onto what x already holds.
    Tensor<double> c_in = test::uniform({rows, cols}, gen);
    Tensor<double> back = xt::ones<double>({g.channels, H, W});
    detail::col2im(c_in.data(), g, back.data());
    double lhs = 0, rhs = 0;
    for (std::size_t k = 0; k < col.size(); ++k) lhs += col[k] * c_in.data()[k];
    for (std::size_t k = 0; k < x.size(); ++k) rhs += x.data()[k] * (back.data()[k] - 1.0);
    REQUIRE(lhs == Approx(rhs).epsilon(1e-12));
  }
}
