// User operators of either order, and gradgradcheck itself: it passes correct second derivatives,
// fails wrong ones naming the op, the input and the element, reports first-order-only ops as
// failures, restores its inputs and rejects invalid use.
#include "test_prelude.hpp"

#include <optional>

namespace {

using V = Variable<double>;
using Vs = std::vector<Variable<double>>;
using Grads = std::vector<Tensor<double>>;

// y = x^3 with a backward written with tapegrad functions: differentiable to any order.
V cube(const V& x) {
  return record_differentiable_op<double>("cube", Tensor<double>(x.value() * x.value() * x.value()), {x},
                                          [x](const V& g) { return Vs{g * x * x * 3.0}; });
}

// y = x^3 recorded with the Tensor form: first-order only.
V cube_first_order(const V& x) {
  const Tensor<double> xv = x.value();
  return record_op<double>("cube_first_order", Tensor<double>(xv * xv * xv), {x},
                           [xv](const Tensor<double>& g) { return Grads{Tensor<double>(g * 3.0 * xv * xv)}; });
}

// y = x^2, the right value, with a derivative that is 2x except at flat element `bad`, where it
// is 2x + 5.
V square_wrong_at(const V& x, std::size_t bad) {
  Tensor<double> extra = xt::zeros<double>(x.shape());
  extra.data()[bad] = 5.0;
  return record_differentiable_op<double>("square_wrong_at", Tensor<double>(x.value() * x.value()), {x},
                                          [x, extra](const V& g) { return Vs{g * x * 2.0 + g * V(extra)}; });
}

// y = x^3 whose backward, g * 3 * x^2, takes x^2 from square_wrong_at: the first derivative has
// the right values (gradcheck passes), the second is wrong at element `bad` (gradgradcheck fails):
// there d/dx (3 v x^2) comes out as 3 v (2x + 5) instead of 6 v x.
V cube_wrong_second(const V& x, std::size_t bad) {
  return record_differentiable_op<double>("cube_wrong_second", Tensor<double>(x.value() * x.value() * x.value()),
                                          {x}, [x, bad](const V& g) { return Vs{g * 3.0 * square_wrong_at(x, bad)}; });
}

}  // namespace

TEST_CASE("record_differentiable_op: a user's x^3 passes gradcheck and gradgradcheck, and third order") {
  Generator gen(101);
  auto x = test::param(test::uniform({2, 3}, gen));
  test::require_higher_order([](const Vs& v) { return cube(v[0]); }, {x});
  test::require_higher_order([](const Vs& v) { return cube(v[0] * v[1]); }, {x, test::param(test::uniform({3}, gen))});
  // third derivatives: gradgradcheck of the first derivative, itself computed with create_graph
  test::require_grad_and_gradgrad(test::gradient_of([](const Vs& v) { return cube(v[0]); }), {x});
  // closed forms: 3x^2, 6x, 6
  V p(Tensor<double>{-1.0, 0.5, 2.0}, true);
  V d1 = grad<double>({sum(cube(p))}, {p}, {}, std::nullopt, true)[0];
  V d2 = grad<double>({sum(d1)}, {p}, {}, std::nullopt, true)[0];
  V d3 = grad<double>({sum(d2)}, {p})[0];
  test::require_close(d1.value(), Tensor<double>{3.0, 0.75, 12.0});
  test::require_close(d2.value(), Tensor<double>{-6.0, 3.0, 12.0});
  test::require_close(d3.value(), Tensor<double>{6.0, 6.0, 6.0});
}

TEST_CASE("record_differentiable_op records nothing where no gradient is needed") {
  V c(Tensor<double>{1.0, 2.0});
  CHECK_FALSE(cube(c).requires_grad());
  V x(Tensor<double>{1.0, 2.0}, true);
  {
    NoGradGuard guard;
    CHECK_FALSE(cube(x).requires_grad());
  }
  CHECK(cube(x).requires_grad());
  CHECK(cube(x).op() == "cube");
}

TEST_CASE("record_op's Tensor form is first-order only under create_graph") {
  V x(Tensor<double>{0.5, -1.0, 2.0}, true);
  test::require_gradcheck([](const Vs& v) { return cube_first_order(v[0]); }, {test::param(Tensor<double>{0.3, -0.7})});

  V g = grad<double>({sum(cube_first_order(x))}, {x}, {}, std::nullopt, true)[0];
  test::require_close(g.value(), Tensor<double>{0.75, 3.0, 12.0});  // the first gradient is right: 3x^2
  std::string msg = message_of<std::logic_error>([&] { grad<double>({sum(g)}, {x}, {}, true); });
  CHECK_THAT(msg, Contains("'cube_first_order' is first-order only") && Contains("record_differentiable_op"));
  msg = message_of<std::logic_error>([&] { sum(g * g).backward(); });
  CHECK_THAT(msg, Contains("'cube_first_order'"));
  CHECK_FALSE(x.has_grad());

  SECTION("gradgradcheck reports it as failed, naming the op, and does not throw") {
    GradcheckResult r;
    REQUIRE_NOTHROW(r = gradgradcheck([](const Vs& v) { return cube_first_order(v[0]); }, {x}));
    INFO(r.report);
    CHECK_FALSE(r.ok);
    CHECK(report_has(r, "gradgradcheck FAILED"));
    CHECK(report_has(r, "'cube_first_order' is first-order only"));
    CHECK(report_has(r, "ops recorded by f: cube_first_order"));
    // also when it is one op among others
    GradcheckResult mixed = gradgradcheck([](const Vs& v) { return tg::tanh(cube_first_order(v[0]) + v[0] * v[0]); }, {x});
    INFO(mixed.report);
    CHECK_FALSE(mixed.ok);
    CHECK(report_has(mixed, "'cube_first_order' is first-order only"));
  }
}

TEST_CASE("gradgradcheck fails a wrong second derivative, naming the op, the input and the element") {
  Generator gen(102);
  auto x = test::param(test::uniform({2, 3}, gen, 0.2, 1.0));
  // The first derivative is right, so gradcheck passes: only the second is wrong.
  test::require_gradcheck([](const Vs& v) { return cube_wrong_second(v[0], 5); }, {x});

  GradcheckResult r = gradgradcheck([](const Vs& v) { return cube_wrong_second(v[0], 5); }, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  REQUIRE(r.inputs.size() == 1);
  const GradcheckInputReport& in = r.inputs[0];
  CHECK_FALSE(in.ok);
  CHECK(in.entries == 6 * 6);   // 6 first-derivative elements by 6 input elements
  CHECK(in.failures == 1);      // only d (first derivative [1, 2]) / d x[1, 2]
  CHECK(in.worst_element == Shape{1, 2});  // flat 5 in (2, 3)
  CHECK(in.worst_output == Shape{1, 2});
  CHECK(std::abs(in.analytic - in.numeric) > 1e-3);
  CHECK(report_has(r, "gradgradcheck FAILED"));
  CHECK(report_has(r, "input 0, shape (2, 3): FAILED, 1 of 36 Jacobian entries out of tolerance"));
  CHECK(report_has(r, "input element [1, 2], first derivative for input 0, element [1, 2]"));
  CHECK(report_has(r, "ops recorded by f: cube_wrong_second"));

  SECTION("with two inputs it names the one whose second derivative is wrong") {
    auto a = test::param(test::uniform({2, 3}, gen, 0.5, 1.5));
    GradcheckResult r2 = gradgradcheck([](const Vs& v) { return v[0] * cube_wrong_second(v[1], 0); }, {a, x});
    INFO(r2.report);
    CHECK_FALSE(r2.ok);
    REQUIRE(r2.inputs.size() == 2);
    CHECK(r2.inputs[0].ok);   // d/da of both first derivatives is right
    CHECK_FALSE(r2.inputs[1].ok);
    CHECK(r2.inputs[1].entries == 12 * 6);  // rows: the first derivatives for a and for x
    CHECK(r2.inputs[1].failures == 1);
    CHECK(r2.inputs[1].worst_element == Shape{0, 0});
    CHECK(report_has(r2, "input 1, shape (2, 3): FAILED"));
    CHECK(report_has(r2, "input element [0, 0], first derivative for input 1, element [0, 0]"));
    CHECK(report_has(r2, "cube_wrong_second"));
  }
}

TEST_CASE("gradgradcheck passes correct second derivatives") {
  Generator gen(103);
  auto a = test::param(test::uniform({3, 4}, gen));
  auto b = test::param(test::away_from_zero({4}, gen, 0.5));
  GradcheckResult r = gradgradcheck([](const Vs& v) { return v[0] * v[1] + v[0] / v[1]; }, {a, b});
  INFO(r.report);
  CHECK(r.ok);
  REQUIRE(r.inputs.size() == 2);
  CHECK(r.inputs[0].entries == (12 + 4) * 12);
  CHECK(r.inputs[1].entries == (12 + 4) * 4);
  CHECK(report_has(r, "gradgradcheck passed"));
  CHECK(report_has(r, "ops recorded by f:"));
  CHECK(report_has(r, "div"));
  CHECK_FALSE(report_has(r, "FAILED"));
  // a constant input is skipped, as in gradcheck
  V c(test::uniform({4}, gen));
  GradcheckResult rc = gradgradcheck([](const Vs& v) { return v[0] * v[0] * v[1]; }, {a, c});
  INFO(rc.report);
  CHECK(rc.ok);
  CHECK_FALSE(rc.inputs[1].checked);
}

TEST_CASE("gradgradcheck restores its inputs and clears their gradients") {
  Generator gen(104);
  auto x = test::param(test::uniform({2, 3}, gen, 0.2, 1.0));
  auto w = test::param(test::uniform({2, 3}, gen));
  const Tensor<double> x0 = x.value(), w0 = w.value();
  sum(x * w).backward();  // stale gradients it must not mix in or leave behind
  SECTION("after passing") { CHECK(gradgradcheck([](const Vs& v) { return cube(v[0]) * v[1]; }, {x, w}).ok); }
  SECTION("after failing") {
    CHECK_FALSE(gradgradcheck([](const Vs& v) { return cube_wrong_second(v[0], 1) * v[1]; }, {x, w}).ok);
  }
  SECTION("after reporting a first-order-only op") {
    CHECK_FALSE(gradgradcheck([](const Vs& v) { return cube_first_order(v[0]) * v[1]; }, {x, w}).ok);
  }
  test::require_close(x.value(), x0, 0);
  test::require_close(w.value(), w0, 0);
  CHECK_FALSE(x.has_grad());
  CHECK_FALSE(w.has_grad());
}

TEST_CASE("gradgradcheck rejects invalid use") {
  auto f = [](const Vs& v) { return v[0] * v[0]; };
  std::string msg = message_of<std::invalid_argument>(
      [&] { gradgradcheck(f, {test::param(Tensor<double>{1.0}), V()}); });
  CHECK_THAT(msg, Contains("gradgradcheck:") && Contains("input 1 is an undefined Variable"));
  msg = message_of<std::invalid_argument>([&] { gradgradcheck(f, {V(Tensor<double>{1.0, 2.0})}); });
  CHECK_THAT(msg, Contains("gradgradcheck:") && Contains("none of the 1 inputs requires grad"));
  GradcheckOptions zero_eps;
  zero_eps.eps = 0;
  msg = message_of<std::invalid_argument>([&] { gradgradcheck(f, {test::param(Tensor<double>{1.0})}, zero_eps); });
  CHECK_THAT(msg, Contains("gradgradcheck:") && Contains("eps"));
  msg = message_of<std::invalid_argument>([&] { gradgradcheck([](const Vs&) { return V(); }, {test::param(Tensor<double>{1.0})}); });
  CHECK_THAT(msg, Contains("gradgradcheck:") && Contains("undefined"));
}
