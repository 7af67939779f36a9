// min(dim), argmax, var and logsumexp: values and gradients against PyTorch, gradcheck and
// gradgradcheck over axes and keepdim, and errors.
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using Vars = std::vector<Variable<double>>;

// The 3x4 matrix of the PyTorch reference values below (with ties in rows 0 and 2).
Tensor<double> reference() { return Tensor<double>{{3.0, 1.0, 1.0, 2.0}, {0.5, -1.0, 4.0, -1.0}, {2.0, 2.0, 2.0, 2.0}}; }

}  // namespace

// ---------------------------------------------------------------- min and argmax

TEST_CASE("min along an axis: values, and the gradient to the first minimum, as torch.min(dim)", "[reduce-stats]") {
  // torch 1.13: v, i = torch.min(t, 1); v.sum().backward()  -> v [1, -1, 2], i [1, 1, 0]
  Variable<double> t(reference(), true);
  Variable<double> v = tg::min(t, 1);
  test::require_close(v.value(), Tensor<double>{1.0, -1.0, 2.0}, 0);
  sum(v).backward();
  test::require_close(t.grad(), Tensor<double>{{0, 1, 0, 0}, {0, 1, 0, 0}, {1, 0, 0, 0}}, 0);

  // v, i = torch.min(t, 0, keepdim=True) -> v [[0.5, -1, 1, -1]], i [[1, 1, 0, 1]]
  t.zero_grad();
  Variable<double> k = tg::min(t, 0, true);
  REQUIRE(k.shape() == Shape{1, 4});
  test::require_close(k.value(), Tensor<double>{{0.5, -1.0, 1.0, -1.0}}, 0);
  sum(k).backward();
  test::require_close(t.grad(), Tensor<double>{{0, 0, 1, 0}, {1, 1, 0, 1}, {0, 0, 0, 0}}, 0);

  // a NaN is the minimum, as in torch.min: torch.min([[1, nan, -5]], 1) gives nan at index 1
  Variable<double> n(Tensor<double>{{1.0, std::nan(""), -5.0}}, true);
  CHECK(std::isnan(tg::min(n, 1).value()(0)));
  sum(tg::min(n, 1)).backward();
  test::require_close(n.grad(), Tensor<double>{{0.0, 1.0, 0.0}}, 0);
  CHECK(tg::min(Variable<double>(reference(), true), -1).op() == "min");
}

TEST_CASE("argmax: the first maximum along an axis, as torch.argmax", "[reduce-stats]") {
  Variable<double> t(reference());
  // torch.argmax(t, 1) -> [0, 2, 0]; torch.argmax(t, 0) -> [0, 2, 1, 0]
  CHECK((argmax(t, 1) == Indices{0, 2, 0}));
  CHECK((argmax(t, -1) == Indices{0, 2, 0}));
  CHECK((argmax(t, 0) == Indices{0, 2, 1, 0}));
  Variable<float> f(Tensor<float>{{{1, 5}, {7, 2}, {7, 9}}});  // (1, 3, 2)
  const Indices middle = argmax(f, 1);
  REQUIRE(middle.shape().size() == 2);
  CHECK((middle == Indices{{1, 2}}));
  CHECK(argmax(Variable<double>(Tensor<double>(3.0)), 0)() == 0);  // 0-d: its only element
  CHECK(argmax(Variable<double>(Tensor<double>{1.0, std::nan(""), 9.0}), 0)() == 1);  // a NaN is the maximum
}

TEST_CASE("min passes gradcheck and gradgradcheck over every axis", "[reduce-stats]") {
  Generator gen(1321);
  auto x = test::param(test::uniform({2, 3, 4}, gen));
  for (int axis : {0, 1, 2, -1}) {
    for (bool keepdim : {false, true}) {
      INFO("axis " << axis << " keepdim " << keepdim);
      test::require_higher_order([axis, keepdim](const Vars& v) { return tg::min(v[0], axis, keepdim); }, {x});
    }
  }
}

// ---------------------------------------------------------------- var

TEST_CASE("var: unbiased and biased, over axes, with keepdim, as torch.var", "[reduce-stats]") {
  Variable<double> t(reference());
  // torch 1.13: torch.var(t, [1]); torch.var(t, [0], unbiased=False); torch.var(t, [0, 1]); torch.var(t, [1], True, True)
  test::require_close(var(t, {1}).value(), Tensor<double>{0.9166666666666669, 5.5625, 0.0}, 1e-14);
  test::require_close(var(t, {0}, false).value(),
                      Tensor<double>{1.0555555555555556, 1.5555555555555556, 1.5555555555555556, 2.0}, 1e-14);
  CHECK(var(t, {0, 1}).shape() == Shape{});
  CHECK(var(t, {0, 1}).item() == Approx(2.1571969696969697).epsilon(1e-14));
  CHECK(var(t, {-1, 0}).item() == Approx(2.1571969696969697).epsilon(1e-14));
  CHECK(var(t, {}).item() == Approx(2.1571969696969697).epsilon(1e-14));  // empty: every axis
  Variable<double> kept = var(t, {1}, true, true);
  REQUIRE(kept.shape() == Shape{3, 1});
  CHECK(kept.value()(1, 0) == Approx(5.5625));
  // one element, unbiased: 0 / 0 = NaN, as torch.var(torch.tensor([2.0]))
  CHECK(std::isnan(var(Variable<double>(Tensor<double>{2.0}), {0}).item()));
  CHECK(var(Variable<double>(Tensor<double>{2.0}), {0}, false).item() == 0.0);
  // torch.var(torch.zeros(0, 3), [0]) is [nan, nan, nan]
  Tensor<double> empty = var(Variable<double>(xt::zeros<double>({0, 3})), {0}).value();
  REQUIRE(empty.size() == 3);
  CHECK(std::isnan(empty(0)));
}

TEST_CASE("var passes gradcheck and gradgradcheck", "[reduce-stats]") {
  Generator gen(1322);
  auto x = test::param(test::uniform({2, 3, 4}, gen));
  for (const Axes& axes : {Axes{0}, Axes{2}, Axes{0, 2}, Axes{-1, 1}, Axes{}}) {
    for (bool unbiased : {true, false}) {
      for (bool keepdim : {false, true}) {
        INFO("axes " << axes.size() << " unbiased " << unbiased << " keepdim " << keepdim);
        test::require_higher_order([axes, unbiased, keepdim](const Vars& v) { return var(v[0], axes, unbiased, keepdim); },
                                   {x});
      }
    }
  }
}

// ---------------------------------------------------------------- logsumexp

TEST_CASE("logsumexp matches torch and stays finite for large logits", "[reduce-stats]") {
  Variable<double> t(reference());
  // torch 1.13: torch.logsumexp(t, 1); torch.logsumexp(t, 0, keepdim=True)
  test::require_close(logsumexp(t, 1).value(), Tensor<double>{3.4938117090722387, 4.042746487818177, 3.386294361119891},
                      1e-14);
  test::require_close(logsumexp(t, 0, true).value(),
                      Tensor<double>{{3.371539031852683, 2.3490122167681866, 4.169846019556285, 2.7177359186667025}}, 1e-14);
  // torch.logsumexp([[1000, 1000], [-1000, -1001]], 1); [[-inf, -inf], [inf, 1]] gives [-inf, inf]
  Variable<double> big(Tensor<double>{{1000.0, 1000.0}, {-1000.0, -1001.0}});
  test::require_close(logsumexp(big, 1).value(), Tensor<double>{1000.6931471805599, -999.6867383124818}, 1e-14);
  const double inf = std::numeric_limits<double>::infinity();
  Tensor<double> edges = logsumexp(Variable<double>(Tensor<double>{{-inf, -inf}, {inf, 1.0}}), 1).value();
  CHECK(edges(0) == -inf);
  CHECK(edges(1) == inf);
  // the gradient is softmax along the axis
  Variable<double> z(Tensor<double>{{1.0, 2.0, 3.0}}, true);
  logsumexp(z, 1).backward(Tensor<double>{2.0});
  test::require_close(z.grad(), Tensor<double>{{2 * 0.09003057317038046, 2 * 0.24472847105479767, 2 * 0.6652409557748219}},
                      1e-14);
  CHECK(logsumexp(Variable<double>(Tensor<double>(1.5)), 0).item() == 1.5);  // 0-d: itself
}

TEST_CASE("logsumexp passes gradcheck and gradgradcheck, and its third derivatives", "[reduce-stats]") {
  Generator gen(1323);
  auto x = test::param(test::uniform({2, 3, 4}, gen, -2.0, 2.0));
  for (int axis : {0, 1, 2, -1, -3}) {
    for (bool keepdim : {false, true}) {
      INFO("axis " << axis << " keepdim " << keepdim);
      auto f = [axis, keepdim](const Vars& v) { return logsumexp(v[0], axis, keepdim); };
      test::require_higher_order(f, {x});
      test::require_grad_and_gradgrad(test::gradient_of(f), {x});
    }
  }
  auto s = test::param(Tensor<double>(0.3));
  test::require_higher_order([](const Vars& v) { return logsumexp(v[0], -1); }, {s});
}

// ---------------------------------------------------------------- float and errors

TEST_CASE("min, var, logsumexp and argmax work in float", "[reduce-stats]") {
  Variable<float> t(Tensor<float>{{3, 1, 1, 2}, {0.5f, -1, 4, -1}}, true);
  Variable<float> total = sum(tg::min(t, 1)) + sum(var(t, {1})) + sum(logsumexp(t, 0));
  total.backward();
  CHECK(tg::min(t, 1).value()(1) == -1.0f);
  CHECK(var(t, {1}).value()(1) == Approx(5.5625));
  CHECK((argmax(t, 1) == Indices{0, 2}));
  CHECK(format_shape(t.grad().shape()) == "(2, 4)");
}

TEST_CASE("min, var, logsumexp and argmax errors name the function, the axis and the shape", "[reduce-stats]") {
  Variable<double> t(xt::zeros<double>({3, 4}));
  std::string msg = message_of<std::invalid_argument>([&] { tg::min(t, 2); });
  CHECK_THAT(msg, Contains("min:") && Contains("axis 2") && Contains("(3, 4)"));
  msg = message_of<std::invalid_argument>([&] { argmax(t, -3); });
  CHECK_THAT(msg, Contains("argmax:") && Contains("axis -3") && Contains("(3, 4)"));
  msg = message_of<std::invalid_argument>([&] { var(t, {0, 5}); });
  CHECK_THAT(msg, Contains("var:") && Contains("axis 5") && Contains("(3, 4)"));
  msg = message_of<std::invalid_argument>([&] { var(t, {1, -1}); });
  CHECK_THAT(msg, Contains("var:") && Contains("repeated"));
  msg = message_of<std::invalid_argument>([&] { logsumexp(t, 2); });
  CHECK_THAT(msg, Contains("logsumexp:") && Contains("axis 2") && Contains("(3, 4)"));
  Variable<double> empty(xt::zeros<double>({2, 0}));
  msg = message_of<std::invalid_argument>([&] { tg::min(empty, 1); });
  CHECK_THAT(msg, Contains("min:") && Contains("empty") && Contains("(2, 0)"));
  msg = message_of<std::invalid_argument>([&] { argmax(empty, 1); });
  CHECK_THAT(msg, Contains("argmax:") && Contains("empty") && Contains("(2, 0)"));
}
