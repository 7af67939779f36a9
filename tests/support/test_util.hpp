// Helpers shared by the tests: seeded random inputs and tensor comparison.
#pragma once

#include <catch2/catch.hpp>
#include <tapegrad/tapegrad.hpp>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tg::test {

// A tensor of `shape` with values uniform in [low, high), from `gen`.
template <class T = double>
Tensor<T> uniform(const Shape& shape, Generator& gen, double low = -1.0, double high = 1.0) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>(gen.uniform(low, high));
  return t;
}

// Uniform values whose magnitude is at least `gap`: keeps inputs away from kinks at 0 (relu, abs).
template <class T = double>
Tensor<T> away_from_zero(const Shape& shape, Generator& gen, double gap = 0.1, double high = 1.0) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (auto& e : t) e = static_cast<T>((gen.uniform() < 0.5 ? -1 : 1) * gen.uniform(gap, high));
  return t;
}

template <class T = double>
Variable<T> param(Tensor<T> value) {
  return Variable<T>(std::move(value), true);
}

// Checks that two tensors have the same shape and agree elementwise within `tol`.
template <class T>
void require_close(const Tensor<T>& actual, const Tensor<T>& expected, double tol = 1e-9) {
  REQUIRE(format_shape(actual.shape()) == format_shape(expected.shape()));
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO("flat element " << i);
    REQUIRE(static_cast<double>(actual.data()[i]) ==
            Approx(static_cast<double>(expected.data()[i])).margin(tol).epsilon(tol));
  }
}

// True when no element is NaN or infinite.
inline bool all_finite(const Tensor<double>& t) {
  for (double v : t) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// True when gradcheck's or gradgradcheck's report mentions `text`.
inline bool report_has(const GradcheckResult& r, const std::string& text) {
  return r.report.find(text) != std::string::npos;
}

// Runs gradcheck and fails the test with its report when it does not pass.
inline void require_gradcheck(const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
                              const std::vector<Variable<double>>& inputs, GradcheckOptions opts = {}) {
  GradcheckResult r = gradcheck(f, inputs, opts);
  INFO(r.report);
  REQUIRE(r.ok);
}

// Runs gradgradcheck and fails the test with its report when it does not pass.
inline void require_gradgradcheck(const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
                                  const std::vector<Variable<double>>& inputs, GradcheckOptions opts = {}) {
  GradcheckResult r = gradgradcheck(f, inputs, opts);
  INFO(r.report);
  REQUIRE(r.ok);
}

// Both checks: the first derivatives and the second.
inline void require_grad_and_gradgrad(const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
                                      const std::vector<Variable<double>>& inputs, GradcheckOptions opts = {}) {
  require_gradcheck(f, inputs, opts);
  require_gradgradcheck(f, inputs, opts);
}

// Both checks on f, and gradgradcheck of f(x) * f(x) as well: there the gradient flowing into f's
// backward depends on the inputs, so the derivative of f's backward with respect to that incoming
// gradient is checked too (for an op linear in its input, such as reshape or sum, the only
// second-order path there is; gradgradcheck of f alone sees a constant first derivative).
inline void require_higher_order(const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
                                 const std::vector<Variable<double>>& inputs, GradcheckOptions opts = {}) {
  require_grad_and_gradgrad(f, inputs, opts);
  require_gradgradcheck([f](const std::vector<Variable<double>>& v) {
    const Variable<double> y = f(v);
    return y * y;
  }, inputs, opts);
}

// x -> d sum(f(x)) / dx for x the first input, with its graph (create_graph), computed with grad
// mode on even under gradcheck's NoGradGuard: gradcheck and gradgradcheck of it check f's second
// and third derivatives.
inline std::function<Variable<double>(const std::vector<Variable<double>>&)> gradient_of(
    std::function<Variable<double>(const std::vector<Variable<double>>&)> f) {
  return [f](const std::vector<Variable<double>>& v) {
    detail::GradModeGuard enable(true);
    const Variable<double> y = sum(f(v));
    return grad<double>({y}, {v[0]}, {}, std::nullopt, true)[0];
  };
}

// Checks named_parameters() of a module against the expected names and shapes, in order.
template <class Named>
void check_named_parameters(const Named& named, const std::vector<std::pair<std::string, Shape>>& expected) {
  REQUIRE(named.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("parameter " << i);
    CHECK(named[i].first == expected[i].first);
    CHECK(named[i].second.shape() == expected[i].second);
  }
}

// Runs `f`, requires that it throws E, and returns the message for further checks.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("threw the wrong exception type: " << e.what());
  }
  FAIL("did not throw");
  return {};
}

}  // namespace tg::test
