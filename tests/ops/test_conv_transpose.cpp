#include "test_prelude.hpp"

namespace {

struct Options {
  std::size_t stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1;
};

// Direct scatter loops (each input element adds its kernel-weighted copy to the output), the
// independent reference for random configurations.
Tensor<double> naive_conv_transpose2d(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b,
                                      Options o) {
  const std::size_t N = x.shape()[0], Cin = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t Cog = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3], Cig = Cin / o.groups;
  const long OH = long((H - 1) * o.stride + o.dilation * (kh - 1) + o.output_padding + 1) - 2 * long(o.padding);
  const long OW = long((W - 1) * o.stride + o.dilation * (kw - 1) + o.output_padding + 1) - 2 * long(o.padding);
  Tensor<double> y = xt::zeros<double>({N, Cog * o.groups, std::size_t(OH), std::size_t(OW)});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t ci = 0; ci < Cin; ++ci)
      for (std::size_t i = 0; i < H; ++i)
        for (std::size_t j = 0; j < W; ++j)
          for (std::size_t co = 0; co < Cog; ++co)
            for (std::size_t a = 0; a < kh; ++a)
              for (std::size_t c = 0; c < kw; ++c) {
                const long r = long(i * o.stride + a * o.dilation) - long(o.padding);
                const long s = long(j * o.stride + c * o.dilation) - long(o.padding);
                if (r < 0 || s < 0 || r >= OH || s >= OW) continue;
                y(n, ci / Cig * Cog + co, r, s) += x(n, ci, i, j) * w(ci, co, a, c);
              }
  if (b) {
    for (std::size_t n = 0; n < N; ++n)
      for (std::size_t c = 0; c < y.shape()[1]; ++c)
        for (long r = 0; r < OH; ++r)
          for (long s = 0; s < OW; ++s) y(n, c, r, s) += (*b)(c);
  }
  return y;
}

Variable<double> apply(const std::vector<Variable<double>>& v, bool bias, Options o) {
  return conv_transpose2d(v[0], v[1], bias ? v[2] : Variable<double>(), o.stride, o.padding, o.output_padding, o.groups,
                          o.dilation);
}

// Forward values against the loops; gradcheck, gradgradcheck, and the gradients' derivatives with
// respect to the output gradient.
void check_config(const Shape& xs, const Shape& ws, bool bias, Options o, std::uint64_t seed) {
  Generator gen(seed);
  auto x = test::param(test::uniform(xs, gen)), w = test::param(test::uniform(ws, gen));
  auto b = test::param(test::uniform({ws[1] * o.groups}, gen));
  std::vector<Variable<double>> inputs{x, w};
  if (bias) inputs.push_back(b);
  Variable<double> y = apply(inputs, bias, o);
  test::require_close(y.value(), naive_conv_transpose2d(x.value(), w.value(), bias ? &b.value() : nullptr, o), 1e-12);
  auto f = [bias, o](auto& v) { return apply(v, bias, o); };
  test::require_grad_and_gradgrad(f, inputs);
  inputs.push_back(test::param(test::uniform(y.shape(), gen)));
  test::require_gradcheck(test::gradient_function(f), inputs);
}

}  // namespace

// The expected values were printed by PyTorch 1.13.1 (Debian's python3-torch) from the same inputs:
//   def pat(shape, a, m, c, d): n = prod(shape); return tensor([((i*a) % m - c) / d for i in range(n)],
//                                                              dtype=float64).reshape(shape)
//   x = pat(xs, 7, 11, 5, 4); w = pat(ws, 5, 7, 3, 2); b = pat(bs, 1, 100, 1, 2)
//   print(torch.nn.functional.conv_transpose2d(x, w, b, stride=..., ...).flatten().tolist())
TEST_CASE("conv_transpose2d: values printed by PyTorch") {
  auto x = [](const Shape& s) { return Variable<double>(pattern(s, 7, 11, 5, 4)); };
  auto w = [](const Shape& s) { return Variable<double>(pattern(s, 5, 7, 3, 2)); };
  auto b = [](std::size_t n) { return Variable<double>(pattern({n}, 1, 100, 1, 2)); };

  // stride 2, padding 1, output_padding 1
  test::require_close(
      conv_transpose2d(x({1, 2, 3, 3}), w({2, 3, 2, 2}), b(3), 2, 1, 1).value(),
      values({1, 3, 5, 5},
             {1.5,    -0.125, -1.25,  1.375,  -1.25,  0.5,   -1.125, 0.0,    1.25,   -1.875, -1.25,  0.25,   -1.25,
              -2.375, 1.5,    0.375,  -0.875, -0.125, 1.5,   -2.0,   -1.25,  0.625,  -1.25,  -2.0,   1.5,    2.25,
              -0.625, -0.875, -1.625, 0.125,  0.125,  0.375, 0.625,  -1.125, -1.625, -1.625, -0.875, -0.625, 2.25,
              1.75,   0.25,   0.0,    0.75,   -1.5,   -1.5,  -1.375, -1.125, -0.375, 2.0,    2.0,    -1.375, -0.25,
              1.25,   -0.25,  -0.25,  -0.25,  1.0,    1.25,  -0.875, -1.375, 2.375,  -0.25,  0.875,  2.5,    -0.625,
              0.125,  0.875,  1.625,  -1.0,   -1.0,   2.0,   -0.25,  0.5,    2.5,    -1.0}),
      0.0);
  // groups 2, dilation 2, output_padding 1 (smaller than the dilation, not the stride), no bias
  test::require_close(
      conv_transpose2d(x({1, 4, 2, 3}), w({4, 1, 2, 2}), Variable<double>(), 1, 0, 1, 2, 2).value(),
      values({1, 2, 5, 6},
             {3.375, -0.75, -1.5,  0.5,    -1.0,   0.0,    -0.75,  -0.75,  0.875, 0.125, -1.375, 0.0, -0.5, 0.0, 0.25,
              -0.5,  2.0,   0.0,   -0.375, 0.125,  -1.75,  0.125,  2.625,  0.0,   0.0,   0.0,    0.0, 0.0,  0.0, 0.0,
              0.5,   -1.0,  1.625, 0.5,    -0.375, 0.0,    0.125,  -1.375, 1.375, 0.625, -0.25,  0.0, -0.5, 2.0, -1.625,
              -1.75, 2.625, 0.0,   0.125,  2.625,  -1.625, -2.375, 2.0,    0.0,   0.0,   0.0,    0.0, 0.0,  0.0, 0.0}),
      0.0);
  // stride 3, padding 2, output_padding 2, groups 2, dilation 2, a 3x2 kernel
  test::require_close(
      conv_transpose2d(x({1, 2, 2, 2}), w({2, 1, 3, 2}), b(2), 3, 2, 2, 2, 2).value(),
      values({1, 2, 6, 4}, {0.75, -0.5,  -0.5, -1.0,  -1.0, -2.375, -0.5, 0.75, -1.125, 0.25,  -0.5, -0.25,
                            0.0,  -0.5,  -0.5, -1.75, -0.5, -0.5,   -0.5, -0.5, -0.75,  1.375, -0.5, 0.125,
                            0.0,  -0.75, 0.0,  0.0,   -1.5, 0.0,    0.0,  0.0,  0.375,  0.75,  0.0,  -1.125,
                            0.0,  0.0,   0.0,  0.0,   0.0,  0.0,    0.0,  0.0,  1.5,    0.0,   0.0,  0.0}),
      0.0);
}

TEST_CASE("conv_transpose2d: output size is (H-1)s - 2p + d(k-1) + output_padding + 1") {
  Variable<double> x(xt::zeros<double>({2, 4, 5, 3})), w(xt::zeros<double>({4, 3, 3, 2}));
  CHECK(conv_transpose2d(x, w).shape() == Shape{2, 3, 7, 4});
  CHECK(conv_transpose2d(x, w, Variable<double>(), 2, 1, 1).shape() == Shape{2, 3, 10, 5});  // 8-2+2+1+1, 4-2+1+1+1
  CHECK(conv_transpose2d(x, w, Variable<double>(), 1, 0, 0, 2).shape() == Shape{2, 6, 7, 4});
  CHECK(conv_transpose2d(x, w, Variable<double>(), 1, 2, 1, 1, 3).shape() ==
        Shape{2, 3, 8, 3});  // 4-4+6+1+1, 2-4+3+1+1
}

TEST_CASE("conv_transpose2d: the adjoint of conv2d with the same options") {
  // <conv2d(a, w), g> = <a, conv_transpose2d(g, w)>, with output_padding making the shapes meet.
  Generator gen(60);
  struct Case {
    Shape a, w;
    Options o;
  };
  for (const Case& c : {Case{{2, 2, 8, 6}, {3, 2, 3, 3}, {2, 1, 1, 1, 1}},
                        Case{{1, 4, 7, 9}, {4, 2, 2, 3}, {3, 2, 2, 2, 2}}, Case{{2, 3, 5, 5}, {2, 3, 1, 1}, {}}}) {
    Variable<double> a(test::uniform(c.a, gen)), w(test::uniform(c.w, gen));
    Variable<double> y = conv2d(a, w, Variable<double>(), c.o.stride, c.o.padding, c.o.dilation, c.o.groups);
    Variable<double> g(test::uniform(y.shape(), gen));
    Variable<double> back = conv_transpose2d(g, w, Variable<double>(), c.o.stride, c.o.padding, c.o.output_padding,
                                             c.o.groups, c.o.dilation);
    REQUIRE(back.shape() == c.a);
    CHECK(xt::sum(y.value() * g.value())() == Approx(xt::sum(a.value() * back.value())()).epsilon(1e-12));
  }
}

TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck plain 3x3 with bias") {
  check_config({2, 2, 3, 4}, {2, 3, 3, 3}, true, {}, 61);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck stride 2, padding 1, output_padding 1") {
  check_config({2, 2, 3, 3}, {2, 2, 3, 3}, true, {2, 1, 1, 1, 1}, 62);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck groups 2") {
  check_config({1, 4, 3, 3}, {4, 2, 2, 2}, true, {1, 0, 0, 2, 1}, 63);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck dilation 2 with output_padding 1") {
  check_config({1, 2, 3, 3}, {2, 2, 2, 2}, true, {1, 0, 1, 1, 2}, 64);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck 1x1 kernels") {
  check_config({2, 3, 3, 2}, {3, 2, 1, 1}, true, {}, 65);               // read in place
  check_config({1, 2, 3, 3}, {2, 2, 1, 1}, true, {2, 1, 1, 1, 1}, 66);  // strided, padded
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck no bias") {
  check_config({2, 2, 3, 3}, {2, 2, 2, 2}, false, {2, 0, 0, 1, 1}, 67);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck non-square input and kernel") {
  check_config({1, 2, 2, 4}, {2, 2, 3, 2}, true, {1, 1, 0, 1, 1}, 68);
}
TEST_CASE("conv_transpose2d: forward, gradcheck and gradgradcheck everything at once") {
  check_config({2, 4, 2, 3}, {4, 1, 3, 2}, true, {3, 2, 2, 2, 2}, 69);
}

TEST_CASE("conv_transpose2d: third derivatives") {
  test::require_third_derivatives([](auto& v) { return conv_transpose2d(v[0], v[1], v[2], 2, 1, 1, 2); },
                                  {{1, 2, 2, 2}, {2, 1, 2, 2}, {2}, {1, 2, 3, 3}}, 70);
}

TEST_CASE("conv_transpose2d: float agrees with double") {
  Generator gen(71);
  const Tensor<double> x = test::uniform({2, 4, 5, 6}, gen), w = test::uniform({4, 3, 3, 3}, gen);
  const Tensor<double> b = test::uniform({6}, gen);
  Variable<float> yf = conv_transpose2d(Variable<float>(xt::cast<float>(x)), Variable<float>(xt::cast<float>(w)),
                                        Variable<float>(xt::cast<float>(b)), 2, 1, 1, 2);
  Variable<double> yd = conv_transpose2d(Variable<double>(x), Variable<double>(w), Variable<double>(b), 2, 1, 1, 2);
  test::require_close(Tensor<double>(xt::cast<double>(yf.value())), yd.value(), 1e-5);
}

TEST_CASE("conv_transpose2d: the graph is released after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Generator gen(72);
    auto x = test::param(test::uniform({1, 2, 3, 3}, gen)), w = test::param(test::uniform({2, 2, 3, 3}, gen));
    Variable<double> y = conv_transpose2d(x, w, Variable<double>(), 2);
    auto g = grad<double>({sum(y * y)}, {x, w}, {}, std::nullopt, true);
    sum(g[0] * g[0] + sum(g[1])).backward();
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("conv_transpose2d: rejects bad shapes and arguments naming the function and the shapes") {
  Variable<double> x(xt::zeros<double>({1, 4, 5, 5})), w(xt::zeros<double>({4, 3, 3, 3}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  CHECK(err([&] {
          conv_transpose2d(Variable<double>(xt::zeros<double>({4, 5, 5})), w);
        }) == "conv_transpose2d: input must be 4-D (N, C, H, W), got (4, 5, 5)");
  CHECK(err([&] {
          conv_transpose2d(x, Variable<double>(xt::zeros<double>({4, 3, 3})));
        }) == "conv_transpose2d: weight must be 4-D (C_in, C_out/groups, kH, kW), got (4, 3, 3)");
  CHECK(err([&] {
          conv_transpose2d(x, Variable<double>(xt::zeros<double>({3, 3, 3, 3})));
        }) == "conv_transpose2d: input has 4 channels but weight (3, 3, 3, 3) expects 3");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 1, 0, 0, 3); }) ==
        "conv_transpose2d: input channels 4 are not divisible by groups 3");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(xt::zeros<double>({4}))); }) ==
        "conv_transpose2d: bias has shape (4,) but weight (4, 3, 3, 3) needs (3,)");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(xt::zeros<double>({3})), 1, 0, 0, 2); }) ==
        "conv_transpose2d: bias has shape (3,) but weight (4, 3, 3, 3) needs (6,)");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 0); }) ==
        "conv_transpose2d: stride must be positive, got 0");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 1, 0, 0, 0); }) ==
        "conv_transpose2d: groups must be positive, got 0");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 1, 0, 0, 1, 0); }) ==
        "conv_transpose2d: dilation must be positive, got 0");
  CHECK(err([&] {
          conv_transpose2d(x, Variable<double>(xt::zeros<double>({4, 3, 0, 3})));
        }) == "conv_transpose2d: weight (4, 3, 0, 3) has an empty kernel");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 2, 0, 2); }) ==
        "conv_transpose2d: output_padding 2 must be smaller than either stride 2 or dilation 1");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 1, 0, 1, 1, 1); }) ==
        "conv_transpose2d: output_padding 1 must be smaller than either stride 1 or dilation 1");
  CHECK(err([&] {
          conv_transpose2d(Variable<double>(xt::zeros<double>({1, 4, 0, 5})), w);
        }) == "conv_transpose2d: input (1, 4, 0, 5) has an empty plane");
  // (1-1)·1 + 3 - 2·2 = -1 rows.
  CHECK(err([&] {
          conv_transpose2d(Variable<double>(xt::zeros<double>({1, 4, 1, 5})), w, Variable<double>(), 1, 2);
        }) ==
        "conv_transpose2d: input (1, 4, 1, 5) is too small for kernel 3x3 with stride 1, padding 2, output_padding 0, "
        "dilation 1: the output would be -1x3");
}

TEST_CASE("conv_transpose2d: a stride, padding or dilation near 2^63 throws naming the values") {
  Variable<double> x(xt::ones<double>({1, 1, 3, 3})), w(xt::ones<double>({1, 1, 2, 2}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  const std::size_t big = std::size_t(1) << 63;
  CHECK(
      err([&] { conv_transpose2d(x, w, Variable<double>(), 1, big); }) ==
      "conv_transpose2d: padding 9223372036854775808 is too large: 2 x 9223372036854775808 overflows the output size");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), 1, 0, 0, 1, big); }) ==
        "conv_transpose2d: dilation 9223372036854775808 with kernel size 2 overflows the dilated kernel size "
        "9223372036854775808 x (2 - 1) + 1");
  CHECK(err([&] { conv_transpose2d(x, w, Variable<double>(), big); }) ==
        "conv_transpose2d: input height of 3 with stride 9223372036854775808, kernel size 2, dilation 1 and "
        "output_padding 0 overflows the output size");
  // output_padding is bounded by the stride or the dilation, which bound it in turn.
  CHECK_THAT(
      err([&] {
        conv_transpose2d(Variable<double>(xt::ones<double>({1, 1, 1, 1})), w, Variable<double>(), big, 0, big - 1);
      }),
      Contains("conv_transpose2d: input height of 1 with stride 9223372036854775808") &&
          Contains("output_padding 9223372036854775807 overflows the output size"));
}
