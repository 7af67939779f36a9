// tg::functional (torch.autograd.functional): jacobian, hessian, vjp, jvp and hvp against closed
// forms, in float and double, with their shapes and errors.
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

template <class T>
double tolerance() {
  return std::is_same<T, float>::value ? 2e-5 : 1e-12;
}

// x (N, D) times W (D, M), by loops.
template <class T>
Tensor<T> matmul_by_hand(const Tensor<T>& x, const Tensor<T>& W) {
  const std::size_t N = x.shape()[0], D = x.shape()[1], M = W.shape()[1];
  Tensor<T> out = xt::zeros<T>({N, M});
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t m = 0; m < M; ++m)
      for (std::size_t d = 0; d < D; ++d) out(n, m) += x(n, d) * W(d, m);
  return out;
}

// x (N, M) times W^T for W (D, M).
template <class T>
Tensor<T> matmul_transposed_by_hand(const Tensor<T>& x, const Tensor<T>& W) {
  return matmul_by_hand(x, Tensor<T>(xt::transpose(W)));
}

}  // namespace

TEMPLATE_TEST_CASE("functional: f(x) = tanh(x W) has Jacobian diag(1 - y^2) W^T per row, and vjp/jvp agree", "",
                   float, double) {
  using T = TestType;
  Generator gen(301);
  const Tensor<T> x = test::uniform<T>({2, 3}, gen), W = test::uniform<T>({3, 4}, gen);
  const auto f = [W](const Variable<T>& v) { return tg::tanh(matmul(v, Variable<T>(W))); };
  const Tensor<T> y = xt::tanh(matmul_by_hand(x, W));
  const Tensor<T> s = T(1) - y * y;  // tanh' at each output

  // J[n, m, n', d] = d y[n, m] / d x[n', d] = (n == n') (1 - y[n, m]^2) W[d, m]
  const Tensor<T> J = functional::jacobian(f, x);
  REQUIRE(shape_of(J) == Shape{2, 4, 2, 3});
  Tensor<T> expected = xt::zeros<T>({2, 4, 2, 3});
  for (std::size_t n = 0; n < 2; ++n)
    for (std::size_t m = 0; m < 4; ++m)
      for (std::size_t d = 0; d < 3; ++d) expected(n, m, n, d) = s(n, m) * W(d, m);
  test::require_close(J, expected, tolerance<T>());

  const Tensor<T> u = test::uniform<T>({2, 4}, gen);  // vjp: (f(x), u^T J) = (y, (u * s) W^T)
  const auto [y1, uJ] = functional::vjp(f, x, u);
  test::require_close(y1, y, tolerance<T>());
  test::require_close(uJ, matmul_transposed_by_hand(Tensor<T>(u * s), W), tolerance<T>());

  const Tensor<T> v = test::uniform<T>({2, 3}, gen);  // jvp: (f(x), J v) = (y, s * (v W))
  const auto [y2, Jv] = functional::jvp(f, x, v);
  test::require_close(y2, y, tolerance<T>());
  test::require_close(Jv, Tensor<T>(s * matmul_by_hand(v, W)), tolerance<T>());
}

TEMPLATE_TEST_CASE("functional: the Hessian of sum(x^3) is diag(6x) and hvp is 6x * v", "", float, double) {
  using T = TestType;
  Generator gen(302);
  const Tensor<T> x = test::uniform<T>({2, 3}, gen);
  const auto f = [](const Variable<T>& v) { return sum(v * v * v); };
  const Tensor<T> H = functional::hessian(f, x);
  REQUIRE(shape_of(H) == Shape{2, 3, 2, 3});
  Tensor<T> expected = xt::zeros<T>({2, 3, 2, 3});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j) expected(i, j, i, j) = T(6) * x(i, j);
  test::require_close(H, expected, tolerance<T>());

  const Tensor<T> v = test::uniform<T>({2, 3}, gen);
  const auto [value, Hv] = functional::hvp(f, x, v);
  CHECK(shape_of(value) == Shape{});
  CHECK(static_cast<double>(value()) == Approx(static_cast<double>(xt::sum(x * x * x)())).epsilon(tolerance<T>()));
  test::require_close(Hv, Tensor<T>(T(6) * x * v), tolerance<T>());
}

TEMPLATE_TEST_CASE("functional: a Hessian with off-diagonal terms, f = sum(x^2) sum(x)", "", float, double) {
  // f = Q S with Q = sum(x^2), S = sum(x): df/dx_i = 2 x_i S + Q, d2f/dx_i dx_j = 2 (i == j) S + 2 x_i + 2 x_j,
  // so H v = 2 S v + 2 x sum(v) + 2 (x . v).
  using T = TestType;
  const Tensor<T> x{0.5, -1.0, 2.0};
  const auto f = [](const Variable<T>& v) { return sum(v * v) * sum(v); };
  const T S = xt::sum(x)();
  const Tensor<T> H = functional::hessian(f, x);
  REQUIRE(shape_of(H) == Shape{3, 3});
  Tensor<T> expected = Tensor<T>::from_shape({3, 3});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) expected(i, j) = (i == j ? T(2) * S : T(0)) + T(2) * x(i) + T(2) * x(j);
  test::require_close(H, expected, tolerance<T>());

  const Tensor<T> v{1.0, 2.0, -0.5};
  const auto [value, Hv] = functional::hvp(f, x, v);
  CHECK(static_cast<double>(value()) == Approx(5.25 * 1.5).epsilon(tolerance<T>()));
  const T xv = xt::sum(x * v)(), sv = xt::sum(v)();
  test::require_close(Hv, Tensor<T>(T(2) * S * v + T(2) * x * sv + T(2) * xv), tolerance<T>());
}

TEST_CASE("functional: shapes of scalar outputs and 0-d inputs, identity, constants and linear functions") {
  const Tensor<double> x{{1.0, -2.0}, {0.5, 3.0}};
  // one-element output: the Jacobian has x's shape (the gradient)
  const Tensor<double> J = functional::jacobian([](const Variable<double>& v) { return sum(v * v); }, x);
  REQUIRE(shape_of(J) == Shape{2, 2});
  test::require_close(J, Tensor<double>(2.0 * x));
  // 0-d input and output
  const Tensor<double> s(1.5);
  const Tensor<double> Js = functional::jacobian([](const Variable<double>& v) { return v * v * v; }, s);
  CHECK(shape_of(Js) == Shape{});
  CHECK(Js() == Approx(6.75));
  CHECK(shape_of(functional::hessian([](const Variable<double>& v) { return v * v * v; }, s)) == Shape{});
  // the identity: J = I (as (2, 2, 2, 2)), vjp and jvp give back the vector
  const Tensor<double> I = functional::jacobian([](const Variable<double>& v) { return v; }, x);
  REQUIRE(shape_of(I) == Shape{2, 2, 2, 2});
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t b = 0; b < 2; ++b)
      for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t d = 0; d < 2; ++d) CHECK(I(a, b, c, d) == (a == c && b == d ? 1.0 : 0.0));
  const Tensor<double> v{{0.1, 0.2}, {0.3, 0.4}};
  test::require_close(functional::jvp([](const Variable<double>& w) { return w; }, x, v).second, v);
  test::require_close(functional::vjp([](const Variable<double>& w) { return w * 2.0; }, x, v).second, Tensor<double>(2.0 * v));
  // a function that ignores x: zeros of the right shapes
  const auto constant = [](const Variable<double>&) { return Variable<double>(Tensor<double>{1.0, 2.0, 3.0}); };
  const Tensor<double> J0 = functional::jacobian(constant, x);
  CHECK(shape_of(J0) == Shape{3, 2, 2});
  CHECK(xt::all(xt::equal(J0, 0.0)));
  CHECK(xt::all(xt::equal(functional::jvp(constant, x, v).second, 0.0)));
  CHECK(shape_of(functional::jvp(constant, x, v).second) == Shape{3});
  CHECK(xt::all(xt::equal(functional::vjp(constant, x, Tensor<double>{1.0, 1.0, 1.0}).second, 0.0)));
  // a linear function has a zero Hessian
  const Tensor<double> H = functional::hessian([](const Variable<double>& w) { return sum(w * 3.0); }, x);
  CHECK(shape_of(H) == Shape{2, 2, 2, 2});
  CHECK(xt::all(xt::equal(H, 0.0)));
  CHECK(xt::all(xt::equal(functional::hvp([](const Variable<double>& w) { return sum(w * 3.0); }, x, v).second, 0.0)));
}

TEST_CASE("functional: errors name the function and the shapes") {
  const Tensor<double> x{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}};
  const auto elementwise = [](const Variable<double>& v) { return v * v; };
  const auto scalar = [](const Variable<double>& v) { return sum(v * v); };
  std::string msg = message_of<std::invalid_argument>([&] { functional::hessian(elementwise, x); });
  CHECK_THAT(msg, Contains("hessian:") && Contains("one element") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { functional::hvp(elementwise, x, x); });
  CHECK_THAT(msg, Contains("hvp:") && Contains("one element") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { functional::hvp(scalar, x, Tensor<double>{1.0, 2.0, 3.0}); });
  CHECK_THAT(msg, Contains("hvp:") && Contains("v has shape (3,)") && Contains("must have shape (2, 3)"));
  msg = message_of<std::invalid_argument>([&] { functional::jvp(elementwise, x, Tensor<double>{1.0}); });
  CHECK_THAT(msg, Contains("jvp:") && Contains("v has shape (1,)") && Contains("must have shape (2, 3)"));
  msg = message_of<std::invalid_argument>([&] { functional::vjp(scalar, x, x); });
  CHECK_THAT(msg, Contains("vjp:") && Contains("v has shape (2, 3)") && Contains("must have shape ()"));
  const auto undefined = [](const Variable<double>&) { return Variable<double>(); };
  msg = message_of<std::invalid_argument>([&] { functional::jacobian(undefined, x); });
  CHECK_THAT(msg, Contains("jacobian:") && Contains("undefined"));
  msg = message_of<std::invalid_argument>([&] { functional::hessian(undefined, x); });
  CHECK_THAT(msg, Contains("hessian:") && Contains("undefined"));
}

TEST_CASE("functional leaves no graph behind") {
  const std::size_t before = tape_stats().live_nodes;
  const Tensor<double> x{0.5, -1.0};
  const auto f = [](const Variable<double>& v) { return sum(tg::tanh(v) * v * v); };
  (void)functional::hessian(f, x);
  (void)functional::hvp(f, x, x);
  (void)functional::jvp([](const Variable<double>& v) { return tg::tanh(v); }, x, x);
  (void)functional::vjp([](const Variable<double>& v) { return tg::tanh(v); }, x, x);
  (void)functional::jacobian([](const Variable<double>& v) { return tg::tanh(v); }, x);
  CHECK(tape_stats().live_nodes == before);
}
