#include "gradcheck.hpp"

#include <cmath>
#include <stdexcept>

#include "errors.hpp"
#include "no_grad.hpp"

namespace tg {
namespace {

using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// The multi-index of flat position `flat` in a row-major tensor of shape `shape`.
Shape unravel(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

// analytic[k] is input k's Jacobian, (output size) x (input size), row by row from one
// backward pass per output element with a one-hot seed.
std::vector<std::vector<double>> analytic_jacobians(const Variable<double>& out,
                                                    std::vector<Variable<double>>& inputs) {
  const std::size_t m = out.size();
  std::vector<std::vector<double>> jac(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) jac[k].assign(m * inputs[k].size(), 0.0);
  if (!out.requires_grad()) return jac;  // nothing reaches the inputs: the gradient is zero
  for (std::size_t j = 0; j < m; ++j) {
    for (auto& v : inputs) v.zero_grad();
    Tensor<double> seed = xt::zeros<double>(out.value().shape());
    seed.data()[j] = 1.0;
    Variable<double>(out).backward(seed, /*retain_graph=*/true);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k].has_grad()) continue;
      const double* g = inputs[k].grad().data();
      std::copy(g, g + inputs[k].size(), jac[k].begin() + static_cast<std::ptrdiff_t>(j * inputs[k].size()));
    }
  }
  for (auto& v : inputs) v.zero_grad();
  return jac;
}

Tensor<double> evaluate(const Fn& f, const std::vector<Variable<double>>& inputs, const Shape& expected) {
  NoGradGuard guard;
  Tensor<double> y = f(inputs).value();
  if (shape_of(y) != expected) {
    fail("gradcheck", "f's output changed shape from {} to {} when an input was perturbed", format_shape(expected),
         format_shape(y.shape()));
  }
  return y;
}

std::string describe(const GradcheckInputReport& r) {
  if (!r.checked) return fmt::format("  input {} {}: not checked (does not require grad)\n", r.input,
                                     format_shape(r.shape));
  return fmt::format(
      "  input {} {}: {} ({} of the Jacobian's entries out of tolerance); worst at input element {}, "
      "output element {}: analytic {:.10g}, numeric {:.10g}, |difference| {:.3g}\n",
      r.input, format_shape(r.shape), r.ok ? "ok" : "FAILED", r.failures, format_shape(r.worst_element),
      format_shape(r.worst_output), r.analytic, r.numeric, r.error);
}

}  // namespace

GradcheckResult gradcheck(Fn f, std::vector<Variable<double>> inputs, GradcheckOptions opts) {
  bool any = false;
  for (const auto& v : inputs) {
    if (!v.defined()) fail("gradcheck", "input is an undefined Variable");
    any = any || v.requires_grad();
  }
  if (!any) fail("gradcheck", "none of the {} inputs requires grad, so there is nothing to check", inputs.size());
  if (!(opts.eps > 0)) fail("gradcheck", "eps must be positive, got {}", opts.eps);

  Variable<double> out = f(inputs);
  const Shape out_shape = out.shape();
  const std::size_t m = out.size();
  const auto jac = analytic_jacobians(out, inputs);

  GradcheckResult result;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    GradcheckInputReport rep;
    rep.input = k;
    rep.shape = inputs[k].shape();
    rep.checked = inputs[k].requires_grad();
    double worst_excess = -INFINITY;
    const std::size_t n = inputs[k].size();
    for (std::size_t i = 0; rep.checked && i < n; ++i) {
      double& x = inputs[k].value().data()[i];
      const double saved = x;
      x = saved + opts.eps;
      const Tensor<double> plus = evaluate(f, inputs, out_shape);
      x = saved - opts.eps;
      const Tensor<double> minus = evaluate(f, inputs, out_shape);
      x = saved;
      for (std::size_t j = 0; j < m; ++j) {
        const double numeric = (plus.data()[j] - minus.data()[j]) / (2 * opts.eps);
        const double analytic = jac[k][j * n + i];
        const double error = std::abs(analytic - numeric);
        const double excess = error - (opts.atol + opts.rtol * std::abs(numeric));
        const bool bad = !(excess <= 0);  // NaN counts as a failure
        rep.failures += bad;
        const double score = std::isnan(excess) ? INFINITY : excess;
        if (!(score > worst_excess)) continue;
        worst_excess = score;
        rep.worst_element = unravel(i, rep.shape);
        rep.worst_output = unravel(j, out_shape);
        rep.analytic = analytic;
        rep.numeric = numeric;
        rep.error = error;
      }
    }
    rep.ok = rep.failures == 0;
    result.ok = result.ok && rep.ok;
    result.inputs.push_back(rep);
  }

  result.report = fmt::format("gradcheck {}: output {}, eps {:g}, atol {:g}, rtol {:g}\n",
                              result.ok ? "passed" : "FAILED", format_shape(out_shape), opts.eps, opts.atol, opts.rtol);
  for (const auto& rep : result.inputs) result.report += describe(rep);
  return result;
}

}  // namespace tg
