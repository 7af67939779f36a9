// sin, cos, log1p, clamp, maximum, minimum, where, masked_fill: forward values and gradients
// against PyTorch, gradcheck and gradgradcheck (with broadcasting), NaN handling and errors.
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using Vars = std::vector<Variable<double>>;

Tensor<double> grad_of(const Variable<double>& x) { return x.has_grad() ? x.grad() : Tensor<double>(); }

// Distinct values at least `gap` apart from each of `avoid`, so no input sits on a kink or a tie.
Tensor<double> avoiding(const Shape& shape, Generator& gen, std::vector<double> avoid, double gap = 0.05) {
  Tensor<double> t = Tensor<double>::from_shape(shape);
  for (auto& e : t) {
    bool near = true;
    while (near) {
      e = gen.uniform(-2.0, 2.0);
      near = false;
      for (double k : avoid) near = near || std::abs(e - k) < gap;
    }
  }
  return t;
}

}  // namespace

// ---------------------------------------------------------------- forward values against PyTorch

TEST_CASE("sin, cos and log1p match torch", "[elementwise]") {
  Variable<double> x(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0});
  // torch 1.13 (float64): torch.sin(x), torch.cos(x)
  test::require_close(tg::sin(x).value(),
                      Tensor<double>{-0.9092974268256817, -0.479425538604203, 0.0, 0.8414709848078965, 0.1411200080598672},
                      1e-15);
  test::require_close(tg::cos(x).value(),
                      Tensor<double>{-0.4161468365471424, 0.8775825618903728, 1.0, 0.5403023058681398, -0.9899924966004454},
                      1e-15);
  // torch.log1p(torch.tensor([-0.5, 0.0, 1e-10, 1.0, 3.0], dtype=torch.float64)): accurate near 0
  Variable<double> p(Tensor<double>{-0.5, 0.0, 1e-10, 1.0, 3.0});
  test::require_close(tg::log1p(p).value(),
                      Tensor<double>{-0.6931471805599453, 0.0, 9.999999999500001e-11, 0.6931471805599453, 1.3862943611198906},
                      1e-15);
  CHECK(tg::log1p(p).value()(2) == Approx(9.999999999500001e-11).epsilon(1e-14));
}

TEST_CASE("clamp: values and gradient as torch.clamp, bounds included, min > max gives max", "[elementwise]") {
  // torch: x = [-2, -0.5, 0, 1, 3]; y = torch.clamp(x, -0.5, 1.0); y.sum().backward()
  Variable<double> x(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0}, true);
  Variable<double> y = clamp(x, -0.5, 1.0);
  test::require_close(y.value(), Tensor<double>{-0.5, -0.5, 0.0, 1.0, 1.0}, 0);
  sum(y).backward();
  test::require_close(x.grad(), Tensor<double>{0.0, 1.0, 1.0, 1.0, 0.0}, 0);  // the bounds pass the gradient

  // torch.clamp(x, 1.0, -0.5): every element becomes max, no gradient anywhere
  Variable<double> z(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0}, true);
  Variable<double> w = clamp(z, 1.0, -0.5);
  test::require_close(w.value(), Tensor<double>{-0.5, -0.5, -0.5, -0.5, -0.5}, 0);
  sum(w).backward();
  test::require_close(z.grad(), Tensor<double>{0, 0, 0, 0, 0}, 0);

  // NaN stays NaN (torch.clamp(nan, 0, 1) is nan)
  Variable<double> n(Tensor<double>{std::nan(""), 5.0});
  CHECK(std::isnan(clamp(n, 0.0, 1.0).value()(0)));
  CHECK(clamp(n, 0.0, 1.0).value()(1) == 1.0);
}

TEST_CASE("maximum and minimum: values and gradients as torch, a tie splits the gradient in half", "[elementwise]") {
  // torch: a = [[1, 2, 3], [4, -1, 0.5]], b = [2, 2, -3]; y = torch.maximum(a, b); y.backward(ones)
  Variable<double> a(Tensor<double>{{1.0, 2.0, 3.0}, {4.0, -1.0, 0.5}}, true);
  Variable<double> b(Tensor<double>{2.0, 2.0, -3.0}, true);
  Variable<double> y = maximum(a, b);
  test::require_close(y.value(), Tensor<double>{{2.0, 2.0, 3.0}, {4.0, 2.0, 0.5}}, 0);
  y.backward(xt::ones<double>({2, 3}));
  test::require_close(a.grad(), Tensor<double>{{0.0, 0.5, 1.0}, {1.0, 0.0, 1.0}}, 0);
  test::require_close(b.grad(), Tensor<double>{1.0, 1.5, 0.0}, 0);

  a.zero_grad();
  b.zero_grad();
  Variable<double> m = minimum(a, b);  // torch.minimum(a, b), same seed
  test::require_close(m.value(), Tensor<double>{{1.0, 2.0, -3.0}, {2.0, -1.0, -3.0}}, 0);
  m.backward(xt::ones<double>({2, 3}));
  test::require_close(a.grad(), Tensor<double>{{1.0, 0.5, 0.0}, {0.0, 1.0, 0.0}}, 0);
  test::require_close(b.grad(), Tensor<double>{1.0, 0.5, 2.0}, 0);
}

TEST_CASE("maximum and minimum propagate NaN from either side", "[elementwise]") {
  const double nan = std::nan("");
  Variable<double> a(Tensor<double>{nan, 1.0, 2.0}), b(Tensor<double>{0.0, nan, 3.0});
  for (const auto& y : {maximum(a, b), minimum(a, b), maximum(b, a), minimum(b, a)}) {
    CHECK(std::isnan(y.value()(0)));
    CHECK(std::isnan(y.value()(1)));
  }
  CHECK(maximum(a, b).value()(2) == 3.0);
  CHECK(minimum(a, b).value()(2) == 2.0);
}

TEST_CASE("where and masked_fill: values and gradients as torch, with broadcasting", "[elementwise]") {
  // torch: cond = [[True], [False]]; y = torch.where(cond, a, b); y.backward(ones)
  Variable<double> a(Tensor<double>{{1.0, 2.0, 3.0}, {4.0, -1.0, 0.5}}, true);
  Variable<double> b(Tensor<double>{2.0, 2.0, -3.0}, true);
  Mask cond = Mask::from_shape({2, 1});
  cond(0, 0) = true;
  cond(1, 0) = false;
  Variable<double> y = tg::where(cond, a, b);
  test::require_close(y.value(), Tensor<double>{{1.0, 2.0, 3.0}, {2.0, 2.0, -3.0}}, 0);
  y.backward(xt::ones<double>({2, 3}));
  test::require_close(a.grad(), Tensor<double>{{1.0, 1.0, 1.0}, {0.0, 0.0, 0.0}}, 0);
  test::require_close(b.grad(), Tensor<double>{1.0, 1.0, 1.0}, 0);

  // torch.masked_fill(a, torch.tensor([True, False, True]), 7.5)
  a.zero_grad();
  Variable<double> f = masked_fill(a, Mask{true, false, true}, 7.5);
  test::require_close(f.value(), Tensor<double>{{7.5, 2.0, 7.5}, {7.5, -1.0, 7.5}}, 0);
  f.backward(xt::ones<double>({2, 3}));
  test::require_close(a.grad(), Tensor<double>{{0.0, 1.0, 0.0}, {0.0, 1.0, 0.0}}, 0);

  // torch.masked_fill(torch.zeros(2, 3), torch.zeros(2, 1, 3, dtype=torch.bool), 1.0).shape == (2, 2, 3):
  // the mask broadcasts against the input, out of place
  CHECK(masked_fill(Variable<double>(xt::zeros<double>({2, 3})), Mask(xt::zeros<bool>({2, 1, 3})), 1.0).shape() ==
        Shape{2, 2, 3});
  // a 0-d condition selects everything
  CHECK((tg::where(Mask(true), a, b).value() == a.value()));
}

// ---------------------------------------------------------------- gradcheck and gradgradcheck

TEST_CASE("sin, cos and log1p pass gradcheck and gradgradcheck", "[elementwise]") {
  Generator gen(1301);
  for (const Shape& shape : {Shape{5}, Shape{2, 3}, Shape{}}) {
    INFO("shape " << format_shape(shape));
    auto x = test::param(test::uniform(shape, gen, -3.0, 3.0));
    auto positive = test::param(test::uniform(shape, gen, -0.8, 2.0));
    test::require_higher_order([](const Vars& v) { return tg::sin(v[0]); }, {x});
    test::require_higher_order([](const Vars& v) { return tg::cos(v[0]); }, {x});
    test::require_higher_order([](const Vars& v) { return tg::log1p(v[0]); }, {positive});
    // third derivatives too
    test::require_grad_and_gradgrad(test::gradient_of([](const Vars& v) { return tg::sin(v[0]); }), {x});
  }
}

TEST_CASE("clamp passes gradcheck and gradgradcheck away from its bounds", "[elementwise]") {
  Generator gen(1302);
  auto x = test::param(avoiding({3, 4}, gen, {-0.5, 0.7}));
  test::require_higher_order([](const Vars& v) { return clamp(v[0], -0.5, 0.7); }, {x});
  test::require_higher_order([](const Vars& v) { return clamp(v[0] * v[0], -0.5, 0.7); }, {x});
  test::require_higher_order([](const Vars& v) { return clamp(v[0], 0.7, -0.5); }, {x});  // constant
}

TEST_CASE("maximum and minimum pass gradcheck and gradgradcheck with broadcasting", "[elementwise]") {
  Generator gen(1303);
  struct Case { Shape a, b; };
  for (const Case& c : std::vector<Case>{{{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{2, 1, 3}, {4, 1}}, {{}, {2, 3}}}) {
    INFO(format_shape(c.a) << " with " << format_shape(c.b));
    // random values: a tie (within gradcheck's eps) is practically impossible
    auto a = test::param(test::uniform(c.a, gen, -2.0, 2.0));
    auto b = test::param(test::uniform(c.b, gen, -2.0, 2.0));
    test::require_higher_order([](const Vars& v) { return maximum(v[0], v[1]); }, {a, b});
    test::require_higher_order([](const Vars& v) { return minimum(v[0], v[1]); }, {a, b});
    test::require_higher_order([](const Vars& v) { return maximum(v[0] * v[1], v[1]); }, {a, b});
  }
}

TEST_CASE("where and masked_fill pass gradcheck and gradgradcheck with broadcasting", "[elementwise]") {
  Generator gen(1304);
  Mask column = Mask::from_shape({3, 1});
  column(0, 0) = true;
  column(1, 0) = false;
  column(2, 0) = true;
  Mask row = Mask{false, true, true, false};
  auto a = test::param(test::uniform({4}, gen));
  auto b = test::param(test::uniform({3, 4}, gen));
  auto c = test::param(test::uniform({2, 1, 1}, gen));
  test::require_higher_order([column](const Vars& v) { return tg::where(column, v[0], v[1]); }, {a, b});
  test::require_higher_order([row](const Vars& v) { return tg::where(row, v[1], v[0]); }, {a, b});
  test::require_higher_order([column](const Vars& v) { return tg::where(column, v[0] * v[1], v[1]); }, {a, c});
  test::require_higher_order([row](const Vars& v) { return masked_fill(v[0], row, -1.5); }, {b});
  test::require_higher_order([column](const Vars& v) { return masked_fill(v[0] * v[0], column, 2.0); }, {a});
}

// ---------------------------------------------------------------- float, recording, errors

TEST_CASE("the elementwise functions work in float, with double literals for the scalars", "[elementwise]") {
  Variable<float> x(Tensor<float>{-1.0f, 0.25f, 2.0f}, true);
  Variable<float> y(Tensor<float>{0.0f, 0.25f, 3.0f}, true);
  Variable<float> total = sum(tg::sin(x)) + sum(tg::cos(x)) + sum(tg::log1p(y)) + sum(clamp(x, -0.5, 1.0)) +
                          sum(maximum(x, y)) + sum(minimum(x, y)) + sum(tg::where(Mask{true, false, true}, x, y)) +
                          sum(masked_fill(x, Mask{false, true, false}, 0.5));
  total.backward();
  CHECK(clamp(x, -0.5, 1.0).value()(0) == -0.5f);
  CHECK(tg::sin(x).value()(2) == Approx(std::sin(2.0)).epsilon(1e-6));
  // d/dx: cos - sin + clamp' + max/min shares + where + masked_fill, at x = 0.25 (tie with y)
  const double at = 0.25;
  CHECK(x.grad()(1) == Approx(std::cos(at) - std::sin(at) + 1.0 + 0.5 + 0.5 + 0.0 + 0.0).epsilon(1e-6));
}

TEST_CASE("elementwise errors name the function and the shapes", "[elementwise]") {
  Variable<double> a(xt::zeros<double>({2, 3})), b(xt::zeros<double>({4}));
  std::string msg = message_of<std::invalid_argument>([&] { tg::where(Mask::from_shape({2, 1}), a, b); });
  CHECK_THAT(msg, Contains("where:") && Contains("(2, 1)") && Contains("(2, 3)") && Contains("(4,)") &&
                      Contains("cannot be broadcast"));
  msg = message_of<std::invalid_argument>([&] { tg::where(Mask::from_shape({5}), a, a); });
  CHECK_THAT(msg, Contains("where:") && Contains("(5,)") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { masked_fill(a, Mask::from_shape({2, 2}), 1.0); });
  CHECK_THAT(msg, Contains("masked_fill:") && Contains("(2, 2)") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { maximum(a, b); });
  CHECK_THAT(msg, Contains("maximum:") && Contains("(2, 3)") && Contains("(4,)"));
  msg = message_of<std::invalid_argument>([&] { minimum(b, a); });
  CHECK_THAT(msg, Contains("minimum:") && Contains("(4,)") && Contains("(2, 3)"));
}

TEST_CASE("the elementwise functions record their names and release their graph", "[elementwise]") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Variable<double> x(Tensor<double>{0.5, -0.25}, true);
    CHECK(tg::sin(x).op() == "sin");
    CHECK(tg::cos(x).op() == "cos");
    CHECK(tg::log1p(x).op() == "log1p");
    CHECK(clamp(x, 0.0, 1.0).op() == "clamp");
    CHECK(tg::where(Mask{true, false}, x, x).op() == "where");
    CHECK(masked_fill(x, Mask{true, false}, 0.0).op() == "masked_fill");
    CHECK(maximum(x, x).op() == "maximum");
    CHECK(minimum(x, x).op() == "minimum");
    {
      NoGradGuard no_grad;
      CHECK_FALSE(tg::where(Mask{true, false}, x, x).requires_grad());
    }
    Variable<double> y = sum(tg::where(Mask{true, false}, tg::cos(x), minimum(x, tg::sin(x))));
    y.backward();
    CHECK(grad_of(x).size() == 2);
  }
  CHECK(tape_stats().live_nodes == before);
}
