// gradcheck itself: it passes correct ops, fails wrong ones, points at the wrong Jacobian entry,
// explains itself in its report, restores its inputs and rejects invalid use.
#include "test_util.hpp"

#include <cmath>
#include <limits>

#include <tapegrad/tapegrad.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;
using tg::test::report_has;

namespace {

using Grads = std::vector<Tensor<double>>;
using Inputs = std::vector<Variable<double>>;

// y = x^3 with the wrong derivative 2x^2 (should be 3x^2).
Variable<double> cube_wrong(const Variable<double>& x) {
  Tensor<double> xv = x.value();
  return record_op<double>("cube_wrong", Tensor<double>(xv * xv * xv), {x},
                           [xv](const Tensor<double>& g) { return Grads{Tensor<double>(g * 2.0 * xv * xv)}; });
}

// y = x^2 elementwise, whose derivative is off by 0.5 at flat element `bad` only: exactly one
// Jacobian entry, (bad, bad), is wrong.
Variable<double> square_wrong_at(const Variable<double>& x, std::size_t bad) {
  Tensor<double> xv = x.value();
  return record_op<double>("square_wrong_at", Tensor<double>(xv * xv), {x}, [xv, bad](const Tensor<double>& g) {
    Tensor<double> gx = 2.0 * xv * g;
    gx.data()[bad] += 0.5 * g.data()[bad];
    return Grads{gx};
  });
}

// y = 2x^2 with a backward that returns `factor` times the right gradient.
Variable<double> square_scaled_grad(const Variable<double>& x, double factor) {
  Tensor<double> xv = x.value();
  return record_op<double>("square_scaled", Tensor<double>(2.0 * xv * xv), {x}, [xv, factor](const Tensor<double>& g) {
    return Grads{Tensor<double>(factor * 4.0 * xv * g)};
  });
}

}  // namespace

TEST_CASE("gradcheck passes correct ops with broadcasting") {
  Generator gen(7);
  auto a = test::param(test::uniform({3, 4}, gen));
  auto b = test::param(test::away_from_zero({4}, gen, 0.5));
  const std::size_t live_before = tape_stats().live_nodes;
  GradcheckResult r = gradcheck([](const Inputs& v) { return v[0] * v[1] + v[0] / v[1]; }, {a, b});
  INFO(r.report);
  CHECK(r.ok);
  REQUIRE(r.inputs.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(r.inputs[k].input == k);
    CHECK(r.inputs[k].checked);
    CHECK(r.inputs[k].ok);
    CHECK(r.inputs[k].failures == 0);
    CHECK(r.inputs[k].error < 1e-6);
  }
  CHECK(r.inputs[0].shape == Shape{3, 4});
  CHECK(r.inputs[1].shape == Shape{4});
  CHECK(r.inputs[0].entries == 12 * 12);  // the full Jacobian: 12 outputs x 12 input elements
  CHECK(r.inputs[1].entries == 12 * 4);
  CHECK(r.inputs[0].worst_output.size() == 2);
  CHECK(r.inputs[1].worst_element.size() == 1);
  CHECK(report_has(r, "passed"));
  CHECK(report_has(r, "input 0, shape (3, 4): ok, all 144 Jacobian entries within tolerance (largest |difference|"));
  CHECK_FALSE(report_has(r, "FAILED"));
  CHECK(tape_stats().live_nodes == live_before);  // gradcheck leaves no graph behind
}

TEST_CASE("gradcheck passes scalar and identity functions") {
  auto s = test::param(Tensor<double>(1.5));
  test::require_gradcheck([](const Inputs& v) { return v[0] * v[0] * v[0]; }, {s});
  auto x = test::param(Tensor<double>{0.1, 0.2});
  test::require_gradcheck([](const Inputs& v) { return v[0]; }, {x});
}

TEST_CASE("gradcheck fails a wrong backward and reports input element and both values") {
  auto x = test::param(Tensor<double>{0.5, -1.25, 2.0});
  GradcheckResult r = gradcheck([](const Inputs& v) { return cube_wrong(v[0]); }, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  REQUIRE(r.inputs.size() == 1);
  const GradcheckInputReport& in = r.inputs[0];
  CHECK_FALSE(in.ok);
  CHECK(in.failures == 3);  // the three diagonal entries; the off-diagonal zeros agree
  CHECK(in.entries == 9);
  // The worst entry is at x = 2: analytic 2x^2 = 8, numeric 3x^2 = 12.
  CHECK(in.worst_element == Shape{2});
  CHECK(in.worst_output == Shape{2});
  CHECK(in.analytic == Approx(8.0).epsilon(1e-12));
  CHECK(in.numeric == Approx(12.0).epsilon(1e-6));
  CHECK(in.error == Approx(4.0).epsilon(1e-6));
  CHECK(report_has(r, "FAILED"));
  CHECK(report_has(r, "input 0"));
  CHECK(report_has(r, "input element [2]"));
  CHECK(report_has(r, "output element [2]"));
  CHECK(report_has(r, "analytic 8,"));
  CHECK(report_has(r, "numeric 12,"));
  CHECK(report_has(r, "3 of 9"));
  // The other failing entries are listed too: x = 0.5 (0.5 vs 0.75) and x = -1.25 (3.125 vs 4.6875).
  CHECK(report_has(r, "analytic 0.5,"));
  CHECK(report_has(r, "analytic 3.125,"));
  CHECK(report_has(r, "numeric 4.6875,"));

  SECTION("beyond the worst and five more failing entries the report counts the rest") {
    auto x6 = test::param(Tensor<double>{0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1});
    GradcheckResult r7 = gradcheck([](const Inputs& v) { return cube_wrong(v[0]); }, {x6});
    INFO(r7.report);
    CHECK(r7.inputs[0].failures == 7);
    CHECK(report_has(r7, "... and 1 more"));  // the worst, five more listed, one counted
  }
}

TEST_CASE("gradcheck points at the one element whose gradient is wrong") {
  Generator gen(3);
  auto x = test::param(test::uniform({2, 3}, gen));
  GradcheckResult r = gradcheck([](const Inputs& v) { return square_wrong_at(v[0], 5); }, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  REQUIRE(r.inputs.size() == 1);
  CHECK(r.inputs[0].failures == 1);
  CHECK(r.inputs[0].worst_element == Shape{1, 2});  // flat 5 in a (2, 3) tensor
  CHECK(r.inputs[0].worst_output == Shape{1, 2});
  CHECK(r.inputs[0].analytic - r.inputs[0].numeric == Approx(0.5).epsilon(1e-6));
  CHECK(report_has(r, "input element [1, 2]"));

  SECTION("and at the one input that is wrong") {
    auto w = test::param(test::uniform({2, 3}, gen));
    GradcheckResult r2 =
        gradcheck([](const Inputs& v) { return v[0] * square_wrong_at(v[1], 1); }, {w, x});
    INFO(r2.report);
    CHECK_FALSE(r2.ok);
    REQUIRE(r2.inputs.size() == 2);
    CHECK(r2.inputs[0].ok);
    CHECK_FALSE(r2.inputs[1].ok);
    CHECK(r2.inputs[1].failures == 1);
    CHECK(r2.inputs[1].worst_element == Shape{0, 1});
    CHECK(report_has(r2, "input 1"));
  }
}

TEST_CASE("gradcheck compares the full Jacobian not just its column sums") {
  // y = (2 x0, x1, x2) whose true Jacobian is diag(2, 1, 1). This backward returns
  // (2 g0 + g1 - g2, g1, g2): with a seed of ones it gives (2, 1, 1), the right answer, but the
  // entries d y1 / d x0 (1 instead of 0) and d y2 / d x0 (-1 instead of 0) are wrong.
  auto x = test::param(Tensor<double>{0.3, -0.7, 0.2});
  auto f = [](const Inputs& v) {
    const Tensor<double>& xv = v[0].value();
    return record_op<double>("crossed", Tensor<double>{2 * xv(0), xv(1), xv(2)}, {v[0]}, [](const Tensor<double>& g) {
      return Grads{Tensor<double>{2 * g(0) + g(1) - g(2), g(1), g(2)}};
    });
  };
  GradcheckResult r = gradcheck(f, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  CHECK(r.inputs[0].failures == 2);
  CHECK(r.inputs[0].worst_element == Shape{0});
  CHECK(r.inputs[0].worst_output == Shape{1});
  CHECK(r.inputs[0].analytic == 1.0);
  CHECK(r.inputs[0].numeric == Approx(0.0).margin(1e-9));
  CHECK(report_has(r, "input element [0], output element [2]: analytic -1,"));
}

TEST_CASE("gradcheck fails when the analytic gradient is zero but the numeric one is not") {
  auto a = test::param(Tensor<double>{0.4, -0.9});
  auto b = test::param(Tensor<double>{1.1, 0.6});

  SECTION("a backward that returns zeros") {
    auto f = [](const Inputs& v) {
      return record_op<double>("zero_grad_op", Tensor<double>(v[0].value() * 3.0), {v[0]},
                               [](const Tensor<double>& g) { return Grads{Tensor<double>(xt::zeros_like(g))}; });
    };
    GradcheckResult r = gradcheck(f, {a});
    INFO(r.report);
    CHECK_FALSE(r.ok);
    CHECK(r.inputs[0].failures == 2);
    CHECK(r.inputs[0].analytic == 0.0);
    CHECK(r.inputs[0].numeric == Approx(3.0).epsilon(1e-6));
    CHECK(report_has(r, "zero everywhere"));
  }
  SECTION("an input used only through a detached value") {
    GradcheckResult r = gradcheck([](const Inputs& v) { return v[0] * v[1].detach(); }, {a, b});
    INFO(r.report);
    CHECK_FALSE(r.ok);
    CHECK(r.inputs[0].ok);
    CHECK_FALSE(r.inputs[1].ok);
    CHECK(r.inputs[1].analytic == 0.0);
    CHECK(r.inputs[1].numeric != 0.0);
    CHECK(report_has(r, "no gradient reached"));
  }
  SECTION("an input used only under NoGradGuard") {
    auto f = [](const Inputs& v) {
      Variable<double> t;
      {
        NoGradGuard guard;
        t = v[1] * 2.0;
      }
      return v[0] * t;
    };
    GradcheckResult r = gradcheck(f, {a, b});
    INFO(r.report);
    CHECK_FALSE(r.ok);
    CHECK(r.inputs[0].ok);
    CHECK_FALSE(r.inputs[1].ok);
    CHECK(r.inputs[1].failures == 2);
  }
  SECTION("an output that does not require grad at all") {
    GradcheckResult r = gradcheck([](const Inputs& v) { return v[0].detach() * 2.0; }, {a});
    INFO(r.report);
    CHECK_FALSE(r.ok);
    CHECK(report_has(r, "does not require grad"));
  }
}

TEST_CASE("gradcheck applies atol + rtol * |numeric| per entry") {
  auto x = test::param(Tensor<double>{0.8, 1.2, -1.0});
  // A gradient off by a relative 1e-4: inside the default rtol 1e-3, outside rtol 1e-5.
  auto f = [](const Inputs& v) { return square_scaled_grad(v[0], 1.0 + 1e-4); };
  GradcheckResult loose = gradcheck(f, {x});
  INFO(loose.report);
  CHECK(loose.ok);
  GradcheckOptions tight;
  tight.rtol = 1e-5;
  tight.atol = 1e-8;
  GradcheckResult strict = gradcheck(f, {x}, tight);
  INFO(strict.report);
  CHECK_FALSE(strict.ok);
  CHECK(strict.inputs[0].failures == 3);
  CHECK(report_has(strict, "rtol 1e-05"));
}

TEST_CASE("gradcheck counts NaN gradients as failures") {
  auto x = test::param(Tensor<double>{0.5, 0.25});
  auto f = [](const Inputs& v) {
    return record_op<double>("nan_grad", Tensor<double>(v[0].value()), {v[0]}, [](const Tensor<double>& g) {
      return Grads{Tensor<double>(g * std::numeric_limits<double>::quiet_NaN())};
    });
  };
  GradcheckResult r = gradcheck(f, {x});
  INFO(r.report);
  CHECK_FALSE(r.ok);
  CHECK(r.inputs[0].failures == 4);
  CHECK(std::isnan(r.inputs[0].analytic));
  CHECK(report_has(r, "nan"));
}

TEST_CASE("gradcheck restores the inputs' values and clears their gradients") {
  Generator gen(11);
  auto a = test::param(test::uniform({2, 3}, gen));
  auto b = test::param(test::uniform({3}, gen));
  const Tensor<double> a0 = a.value(), b0 = b.value();
  (a * b).backward(xt::ones<double>({2, 3}));  // a stale gradient gradcheck must not mix in
  REQUIRE(a.has_grad());

  SECTION("after passing") {
    CHECK(gradcheck([](const Inputs& v) { return v[0] * v[1]; }, {a, b}).ok);
  }
  SECTION("after failing") {
    CHECK_FALSE(gradcheck([](const Inputs& v) { return cube_wrong(v[0]) * v[1]; }, {a, b}).ok);
  }
  SECTION("after f throws on a perturbed input") {
    const double first = a.value()(0, 0);
    auto f = [first](const Inputs& v) {
      if (v[0].value()(0, 0) != first) return v[0] * 1.0 + Variable<double>(xt::zeros<double>({4, 2, 3}));
      return v[0] * v[1];
    };
    std::string msg = message_of<std::invalid_argument>([&] { gradcheck(f, {a, b}); });
    CHECK_THAT(msg, Contains("gradcheck") && Contains("(2, 3)") && Contains("(4, 2, 3)"));
  }
  test::require_close(a.value(), a0, 0.0);
  test::require_close(b.value(), b0, 0.0);
  CHECK_FALSE(a.has_grad());
  CHECK_FALSE(b.has_grad());
}

TEST_CASE("an input that does not require grad is reported as not checked") {
  auto a = test::param(Tensor<double>{0.5, 1.5});
  Variable<double> c(Tensor<double>{2.0, 3.0});  // a constant
  GradcheckResult r = gradcheck([](const Inputs& v) { return v[0] * v[1]; }, {a, c});
  INFO(r.report);
  CHECK(r.ok);
  REQUIRE(r.inputs.size() == 2);
  CHECK(r.inputs[0].checked);
  CHECK_FALSE(r.inputs[1].checked);
  CHECK(r.inputs[1].ok);
  CHECK(r.inputs[1].entries == 0);
  CHECK(report_has(r, "input 1, shape (2,): not checked"));
  CHECK_FALSE(c.has_grad());
}

TEST_CASE("gradcheck rejects invalid use") {
  Variable<double> c(Tensor<double>{1.0, 2.0});
  auto f = [](const Inputs& v) { return v[0] * 2.0; };
  std::string msg = message_of<std::invalid_argument>([&] { gradcheck(f, {c}); });
  CHECK_THAT(msg, Contains("gradcheck") && Contains("requires grad"));
  msg = message_of<std::invalid_argument>([&] { gradcheck(f, {}); });
  CHECK_THAT(msg, Contains("gradcheck"));
  msg = message_of<std::invalid_argument>([&] { gradcheck(f, {test::param(Tensor<double>(1.0)), Variable<double>()}); });
  CHECK_THAT(msg, Contains("gradcheck") && Contains("undefined") && Contains("input 1"));
  GradcheckOptions zero_eps;
  zero_eps.eps = 0;
  msg = message_of<std::invalid_argument>([&] { gradcheck(f, {test::param(Tensor<double>(1.0))}, zero_eps); });
  CHECK_THAT(msg, Contains("gradcheck") && Contains("eps"));
}
