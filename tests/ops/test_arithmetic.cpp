#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using Vars = std::vector<Variable<double>>;

// Gradchecks `op` (a binary function of two Variables, or of a Variable and a double) over the
// broadcast cases every binary op must support. Inputs stay at least 0.5 away from 0, so that
// division is well conditioned.
template <class Op>
void gradcheck_binary(Op op, std::uint64_t seed) {
  Generator gen(seed);
  auto value = [&](const Shape& s) { return test::away_from_zero(s, gen, 0.5, 1.5); };
  SECTION("(3,4) with (4,)") {
    test::require_higher_order([op](const Vars& v) { return op(v[0], v[1]); },
                            {test::param(value({3, 4})), test::param(value({4}))});
  }
  SECTION("(4,) with (3,4)") {
    test::require_higher_order([op](const Vars& v) { return op(v[0], v[1]); },
                            {test::param(value({4})), test::param(value({3, 4}))});
  }
  SECTION("(3,1) with (1,4)") {
    test::require_higher_order([op](const Vars& v) { return op(v[0], v[1]); },
                            {test::param(value({3, 1})), test::param(value({1, 4}))});
  }
  SECTION("(3,4) with a 0-d Variable, and the other way round") {
    test::require_higher_order([op](const Vars& v) { return op(v[0], v[1]); },
                            {test::param(value({3, 4})), test::param(value({}))});
    test::require_higher_order([op](const Vars& v) { return op(v[0], v[1]); },
                            {test::param(value({})), test::param(value({3, 4}))});
  }
  SECTION("same shape, only one side requiring grad") {
    Variable<double> constant(value({3, 4}));
    test::require_higher_order([op, constant](const Vars& v) { return op(v[0], constant); }, {test::param(value({3, 4}))});
    test::require_higher_order([op, constant](const Vars& v) { return op(constant, v[0]); }, {test::param(value({3, 4}))});
  }
  SECTION("with a scalar on either side") {
    test::require_higher_order([op](const Vars& v) { return op(v[0], 1.7); }, {test::param(value({3, 4}))});
    test::require_higher_order([op](const Vars& v) { return op(-0.8, v[0]); }, {test::param(value({3, 4}))});
  }
}

// a = [[1..4], [5..8], [9..12]], b = [1, 2, 4, 8], c = [[1], [2], [3]], d = [[10, 20, 30, 40]].
Tensor<double> a_values() { return {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}; }
Variable<double> a_var() { return Variable<double>(a_values()); }
Variable<double> b_var() { return Variable<double>(Tensor<double>{1, 2, 4, 8}); }
Variable<double> c_var() {
  Tensor<double> c{1, 2, 3};
  c.reshape({3, 1});
  return Variable<double>(c);
}
Variable<double> d_var() { return Variable<double>(Tensor<double>{{10, 20, 30, 40}}); }

}  // namespace

TEST_CASE("add: gradcheck and gradgradcheck with broadcasting 0-d Variables and scalars") {
  gradcheck_binary([](const auto& x, const auto& y) { return x + y; }, 11);
}

TEST_CASE("sub: gradcheck and gradgradcheck with broadcasting 0-d Variables and scalars") {
  gradcheck_binary([](const auto& x, const auto& y) { return x - y; }, 12);
}

TEST_CASE("mul: gradcheck and gradgradcheck with broadcasting 0-d Variables and scalars") {
  gradcheck_binary([](const auto& x, const auto& y) { return x * y; }, 13);
}

TEST_CASE("div: gradcheck and gradgradcheck with broadcasting 0-d Variables and scalars") {
  gradcheck_binary([](const auto& x, const auto& y) { return x / y; }, 14);
}

// Expected values below were printed by numpy 1.24 (/usr/bin/python3) for the same inputs.
TEST_CASE("binary ops: forward values with (34) and (4)") {
  auto a = a_var(), b = b_var();
  test::require_close((a + b).value(), Tensor<double>{{2, 4, 7, 12}, {6, 8, 11, 16}, {10, 12, 15, 20}});
  test::require_close((a - b).value(), Tensor<double>{{0, 0, -1, -4}, {4, 4, 3, 0}, {8, 8, 7, 4}});
  test::require_close((a * b).value(), Tensor<double>{{1, 4, 12, 32}, {5, 12, 28, 64}, {9, 20, 44, 96}});
  test::require_close((a / b).value(), Tensor<double>{{1, 1, 0.75, 0.5}, {5, 3, 1.75, 1}, {9, 5, 2.75, 1.5}});
}

TEST_CASE("binary ops: forward values with (31) and (14)") {
  auto c = c_var(), d = d_var();
  test::require_close((c + d).value(), Tensor<double>{{11, 21, 31, 41}, {12, 22, 32, 42}, {13, 23, 33, 43}});
  test::require_close((c - d).value(),
                      Tensor<double>{{-9, -19, -29, -39}, {-8, -18, -28, -38}, {-7, -17, -27, -37}});
  test::require_close((c * d).value(), Tensor<double>{{10, 20, 30, 40}, {20, 40, 60, 80}, {30, 60, 90, 120}});
  test::require_close((c / d).value(), Tensor<double>{{0.1, 0.05, 0.03333333333333333, 0.025},
                                                      {0.2, 0.1, 0.06666666666666667, 0.05},
                                                      {0.3, 0.15, 0.1, 0.075}});
}

TEST_CASE("binary ops: forward values with a scalar on either side and with a 0-d Variable") {
  auto a = a_var();
  const Tensor<double> plus{{3.5, 4.5, 5.5, 6.5}, {7.5, 8.5, 9.5, 10.5}, {11.5, 12.5, 13.5, 14.5}};
  const Tensor<double> minus{{-1.5, -0.5, 0.5, 1.5}, {2.5, 3.5, 4.5, 5.5}, {6.5, 7.5, 8.5, 9.5}};
  const Tensor<double> times{{2.5, 5, 7.5, 10}, {12.5, 15, 17.5, 20}, {22.5, 25, 27.5, 30}};
  const Tensor<double> over{{0.4, 0.8, 1.2, 1.6}, {2.0, 2.4, 2.8, 3.2}, {3.6, 4.0, 4.4, 4.8}};
  const Tensor<double> under{{2.5, 1.25, 0.8333333333333334, 0.625},
                             {0.5, 0.4166666666666667, 0.35714285714285715, 0.3125},
                             {0.2777777777777778, 0.25, 0.22727272727272727, 0.20833333333333334}};
  test::require_close((a + 2.5).value(), plus);
  test::require_close((2.5 + a).value(), plus);
  test::require_close((a - 2.5).value(), minus);
  test::require_close((2.5 - a).value(), Tensor<double>(-minus));
  test::require_close((a * 2.5).value(), times);
  test::require_close((2.5 * a).value(), times);
  test::require_close((a / 2.5).value(), over);
  test::require_close((2.5 / a).value(), under);

  Variable<double> s(Tensor<double>(2.5));  // 0-d
  test::require_close((a - s).value(), minus);
  test::require_close((s / a).value(), under);
  CHECK((s * s).shape() == Shape{});
  CHECK((s * s).item() == 6.25);
}

TEST_CASE("binary ops: the gradient of a broadcast input is summed back to its shape") {
  // d/da sum(a * b) = b broadcast to (3,4); d/db = column sums of a = [15, 18, 21, 24].
  auto a = test::param(a_values());
  auto b = test::param(Tensor<double>{1, 2, 4, 8});
  auto y = a * b;
  y.backward(xt::ones<double>({3, 4}));
  test::require_close(b.grad(), Tensor<double>{15, 18, 21, 24});
  test::require_close(a.grad(), Tensor<double>{{1, 2, 4, 8}, {1, 2, 4, 8}, {1, 2, 4, 8}});
}

TEST_CASE("unary ops: gradcheck and gradgradcheck of neg exp log sqrt abs") {
  Generator gen(21);
  test::require_higher_order([](const Vars& v) { return -v[0]; }, {test::param(test::uniform({3, 4}, gen))});
  test::require_higher_order([](const Vars& v) { return exp(v[0]); }, {test::param(test::uniform({3, 4}, gen, -2, 2))});
  test::require_higher_order([](const Vars& v) { return log(v[0]); }, {test::param(test::uniform({3, 4}, gen, 0.5, 3))});
  test::require_higher_order([](const Vars& v) { return sqrt(v[0]); }, {test::param(test::uniform({3, 4}, gen, 0.5, 3))});
  test::require_higher_order([](const Vars& v) { return abs(v[0]); }, {test::param(test::away_from_zero({3, 4}, gen))});
}

TEST_CASE("pow: gradcheck and gradgradcheck for integer fractional negative exponents and 0") {
  Generator gen(22);
  for (double p : {2.0, 3.0, 1.0, 0.0}) {
    INFO("exponent " << p);
    test::require_higher_order([p](const Vars& v) { return pow(v[0], p); }, {test::param(test::uniform({3, 4}, gen))});
  }
  for (double p : {0.5, -1.5, 2.7}) {  // non-integer exponents need positive bases
    INFO("exponent " << p);
    test::require_higher_order([p](const Vars& v) { return pow(v[0], p); },
                            {test::param(test::uniform({3, 4}, gen, 0.5, 2))});
  }
}

TEST_CASE("unary ops: forward values") {
  // Expected values printed by numpy 1.24 for u = [-2, -0.5, 0, 0.25, 1, 3] and w = [0.25, 1, 2, 9].
  Variable<double> u(Tensor<double>{-2, -0.5, 0, 0.25, 1, 3});
  Variable<double> w(Tensor<double>{0.25, 1, 2, 9});
  test::require_close((-u).value(), Tensor<double>{2, 0.5, 0, -0.25, -1, -3});
  test::require_close(abs(u).value(), Tensor<double>{2, 0.5, 0, 0.25, 1, 3});
  test::require_close(pow(u, 2.0).value(), Tensor<double>{4, 0.25, 0, 0.0625, 1, 9});
  test::require_close(pow(u, 3.0).value(), Tensor<double>{-8, -0.125, 0, 0.015625, 1, 27});
  test::require_close(pow(u, 0.0).value(), Tensor<double>{1, 1, 1, 1, 1, 1});  // 0^0 = 1
  test::require_close(exp(u).value(), Tensor<double>{0.13533528323661267, 0.6065306597126334, 1.0,
                                                     1.2840254166877414, 2.718281828459045, 20.085536923187668});
  test::require_close(log(w).value(), Tensor<double>{-1.3862943611198906, 0.0, 0.6931471805599453, 2.197224577336219});
  test::require_close(sqrt(w).value(), Tensor<double>{0.5, 1.0, 1.4142135623730951, 3.0});
  test::require_close(pow(w, 0.5).value(), Tensor<double>{0.5, 1.0, 1.4142135623730951, 3.0});
  test::require_close(pow(w, -1.5).value(), Tensor<double>{8.0, 1.0, 0.3535533905932738, 0.037037037037037035});
}

TEST_CASE("pow at 0 with a power <= 0, in a tensor long enough for the vector paths") {
  Tensor<double> zeros = xt::zeros<double>({64});
  CHECK(xt::all(xt::equal(pow(Variable<double>(zeros), 0.0).value(), 1.0)));
  CHECK(xt::all(xt::isinf(pow(Variable<double>(zeros), -1.5).value())));
  Variable<float> x(Tensor<float>(xt::zeros<float>({64})), true);
  pow(x, 1.0f).backward(xt::ones<float>({64}));  // 1 * x^0 = 1, at 0 too
  CHECK(xt::all(xt::equal(x.grad(), 1.0f)));
}

TEST_CASE("unary ops: gradient values at chosen points") {
  Variable<double> u(Tensor<double>{-2, 0.5, 3}, true);
  pow(u, 3.0).backward(xt::ones<double>({3}));
  test::require_close(u.grad(), Tensor<double>{12, 0.75, 27});  // 3 u^2
  u.zero_grad();
  log(u * u).backward(xt::ones<double>({3}));
  test::require_close(u.grad(), Tensor<double>{-1, 4, 2.0 / 3.0});  // 2 / u
}

TEST_CASE("pow(x 0) has gradient 0 everywhere including at 0 (PyTorch)") {
  Variable<double> x(Tensor<double>{-1.5, 0.0, 2.0}, true);
  pow(x, 0.0).backward(xt::ones<double>({3}));
  test::require_close(x.grad(), Tensor<double>{0, 0, 0});
  CHECK_FALSE(std::isnan(x.grad()(1)));
}

TEST_CASE("abs has gradient 0 at 0 (PyTorch's choice) and the sign elsewhere") {
  Variable<double> x(Tensor<double>{-2.0, 0.0, 3.0}, true);
  abs(x).backward(xt::ones<double>({3}));
  test::require_close(x.grad(), Tensor<double>{-1, 0, 1});
}

TEST_CASE("float arithmetic: values double scalars and gradients") {
  Variable<float> x(Tensor<float>{1.0f, 2.0f, 4.0f}, true);
  auto y = (x * 2.0 + 1.0) / x - pow(x, 2.0f);  // 2 + 1/x - x^2
  test::require_close(y.value(), Tensor<float>{2.0f, -1.5f, -13.75f}, 1e-6);
  y.backward(xt::ones<float>({3}));
  test::require_close(x.grad(), Tensor<float>{-3.0f, -4.25f, -8.0625f}, 1e-6);  // -1/x^2 - 2x
}

TEST_CASE("binary ops reject shapes NumPy would refuse naming the op and both shapes") {
  Variable<double> a(xt::zeros<double>({3, 4})), b(xt::zeros<double>({5}));
  const std::vector<std::pair<std::string, std::function<void()>>> ops = {
      {"add", [&] { a + b; }}, {"sub", [&] { a - b; }}, {"mul", [&] { a * b; }}, {"div", [&] { a / b; }}};
  for (const auto& [name, f] : ops) {
    INFO(name);
    std::string msg = message_of<std::invalid_argument>(f);
    CHECK_THAT(msg, Contains(name + ":") && Contains("(3, 4)") && Contains("(5,)"));
  }
  std::string msg = message_of<std::invalid_argument>([] {
    Variable<double>(xt::zeros<double>({3, 1})) * Variable<double>(xt::zeros<double>({2, 4}));
  });
  CHECK_THAT(msg, Contains("mul") && Contains("(3, 1)") && Contains("(2, 4)"));
}

TEST_CASE("second derivatives by hand: pow, sqrt, div, abs") {
  // d2/dx2 x^p = p (p - 1) x^(p - 2); sqrt'' = -x^(-3/2) / 4; |x|'' = 0 away from 0 (and at it);
  // for a / b: d2/da db = -1 / b^2, d2/db2 = 2a / b^3, d2/da2 = 0.
  const Tensor<double> xs{0.5, 1.5, 3.0};
  const auto second = [](const std::function<Variable<double>(const Variable<double>&)>& f, const Tensor<double>& at) {
    Variable<double> x(at, true);
    Variable<double> d1 = grad<double>({sum(f(x))}, {x}, {}, std::nullopt, true)[0];
    if (!d1.requires_grad()) return Tensor<double>(xt::zeros<double>(at.shape()));  // constant first derivative
    return Tensor<double>(grad<double>({sum(d1)}, {x}, {}, std::nullopt, false, true)[0].value());
  };
  test::require_close(second([](const Variable<double>& x) { return pow(x, 2.5); }, xs),
                      Tensor<double>(2.5 * 1.5 * xt::pow(xs, 0.5)), 1e-12);
  test::require_close(second([](const Variable<double>& x) { return pow(x, -2.0); }, xs),
                      Tensor<double>(6.0 * xt::pow(xs, -4.0)), 1e-12);
  test::require_close(second([](const Variable<double>& x) { return pow(x, 1.0); }, xs), Tensor<double>{0, 0, 0}, 0);
  test::require_close(second([](const Variable<double>& x) { return sqrt(x); }, xs),
                      Tensor<double>(-0.25 * xt::pow(xs, -1.5)), 1e-12);
  test::require_close(second([](const Variable<double>& x) { return abs(x); }, Tensor<double>{-1.0, 0.0, 2.0}),
                      Tensor<double>{0, 0, 0}, 0);

  const Tensor<double> as{1.0, -2.0, 0.5}, bs{2.0, 0.5, -1.5};
  Variable<double> a(as, true), b(bs, true);
  Variable<double> ga = grad<double>({sum(a / b)}, {a}, {}, std::nullopt, true)[0];  // 1 / b
  test::require_close(ga.value(), Tensor<double>(1.0 / bs), 1e-12);
  std::vector<Variable<double>> h = grad<double>({sum(ga)}, {a, b}, {}, std::nullopt, false, true);
  CHECK_FALSE(h[0].defined());  // 1 / b does not depend on a
  test::require_close(h[1].value(), Tensor<double>(-1.0 / (bs * bs)), 1e-12);
  Variable<double> gb = grad<double>({sum(a / b)}, {b}, {}, std::nullopt, true)[0];  // -a / b^2
  test::require_close(gb.value(), Tensor<double>(-as / (bs * bs)), 1e-12);
  test::require_close(grad<double>({sum(gb)}, {b})[0].value(), Tensor<double>(2.0 * as / (bs * bs * bs)), 1e-12);
}

TEST_CASE("third derivatives: gradcheck and gradgradcheck of the first derivatives") {
  Generator gen(23);
  const Tensor<double> pos = test::uniform({2, 3}, gen, 0.5, 2.0);
  using Fn = std::function<Variable<double>(const Vars&)>;
  const std::vector<std::pair<std::string, Fn>> fs = {
      {"mul", [](const Vars& v) { return v[0] * v[0] * v[1]; }},
      {"div", [](const Vars& v) { return v[1] / v[0]; }},
      {"sub neg", [](const Vars& v) { return -(v[0] * v[0] - v[1] * v[0]); }},
      {"pow", [](const Vars& v) { return pow(v[0], 3.5) * v[1]; }},
      {"exp", [](const Vars& v) { return exp(v[0] * v[1]); }},
      {"log", [](const Vars& v) { return log(v[0]) * v[1]; }},
      {"sqrt", [](const Vars& v) { return sqrt(v[0] * v[1]); }},
      {"abs", [](const Vars& v) { return abs(v[0] - 3.0) * v[0] * v[1]; }},
  };
  for (const auto& [name, f] : fs) {
    INFO(name);
    const Vars inputs{test::param(pos), test::param(test::uniform({3}, gen, 0.5, 2.0))};
    test::require_grad_and_gradgrad(test::gradient_of(f), inputs);
  }
}
