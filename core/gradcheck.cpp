#include "gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "errors.hpp"
#include "no_grad.hpp"

namespace tg {
namespace {

using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

constexpr std::size_t kListedFailures = 5;  // failing entries the report lists per input

// The multi-index of flat position `flat` in a row-major tensor of shape `shape`.
Shape unravel(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

// An element index as it would be written in Python: "[1, 2]", "[]" for a 0-d tensor.
std::string format_index(const Shape& index) { return fmt::format("[{}]", fmt::join(index, ", ")); }

// analytic[k] is input k's Jacobian, (output size) x (input size), row by row from one
// backward pass per output element with a one-hot seed. reached[k] tells whether any backward
// pass delivered a gradient to input k at all.
struct Analytic {
  std::vector<std::vector<double>> jacobians;
  std::vector<bool> reached;
};

Analytic analytic_jacobians(const Variable<double>& out, std::vector<Variable<double>>& inputs) {
  const std::size_t m = out.size();
  Analytic a;
  a.jacobians.resize(inputs.size());
  a.reached.assign(inputs.size(), false);
  for (std::size_t k = 0; k < inputs.size(); ++k) a.jacobians[k].assign(m * inputs[k].size(), 0.0);
  for (auto& v : inputs) v.zero_grad();
  if (!out.requires_grad()) return a;  // nothing reaches the inputs: the gradient is zero
  for (std::size_t j = 0; j < m; ++j) {
    Tensor<double> seed = xt::zeros<double>(out.value().shape());
    seed.data()[j] = 1.0;
    Variable<double>(out).backward(seed, /*retain_graph=*/true);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k].has_grad()) continue;
      a.reached[k] = true;
      const double* g = inputs[k].grad().data();
      std::copy(g, g + inputs[k].size(), a.jacobians[k].begin() + static_cast<std::ptrdiff_t>(j * inputs[k].size()));
    }
    for (auto& v : inputs) v.zero_grad();
  }
  return a;
}

Tensor<double> evaluate(const Fn& f, const std::vector<Variable<double>>& inputs, const Shape& expected) {
  NoGradGuard guard;
  Variable<double> y = f(inputs);
  if (!y.defined()) fail("gradcheck", "f returned an undefined Variable when an input was perturbed");
  if (y.shape() != expected) {
    fail("gradcheck", "f's output changed shape from {} to {} when an input was perturbed", format_shape(expected),
         format_shape(y.shape()));
  }
  return y.value();
}

// Sets one element of an input to saved +- eps, and puts the saved value back however the
// scope is left, so an exception from f cannot leave an input perturbed.
class Perturbation {
 public:
  explicit Perturbation(double& element) : element_(element), saved_(element) {}
  ~Perturbation() { element_ = saved_; }
  Perturbation(const Perturbation&) = delete;
  Perturbation& operator=(const Perturbation&) = delete;
  void shift(double offset) { element_ = saved_ + offset; }

 private:
  double& element_;
  double saved_;
};

// One Jacobian entry: d output[j] / d input[i].
struct Entry {
  std::size_t i = 0, j = 0;
  double analytic = 0, numeric = 0, error = 0, tolerance = 0;
};

std::string describe_entry(const char* lead, const Entry& e, const Shape& in_shape, const Shape& out_shape) {
  return fmt::format("    {} input element {}, output element {}: analytic {:.8g}, numeric {:.8g}, "
                     "|difference| {:.3g} {} tolerance {:.3g}\n",
                     lead, format_index(unravel(e.i, in_shape)), format_index(unravel(e.j, out_shape)), e.analytic,
                     e.numeric, e.error, e.error <= e.tolerance ? "<=" : ">", e.tolerance);
}

}  // namespace

GradcheckResult gradcheck(Fn f, std::vector<Variable<double>> inputs, GradcheckOptions opts) {
  bool any = false;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) fail("gradcheck", "input {} is an undefined Variable", k);
    any = any || inputs[k].requires_grad();
  }
  if (!any) fail("gradcheck", "none of the {} inputs requires grad, so there is nothing to check", inputs.size());
  if (!(opts.eps > 0)) fail("gradcheck", "eps must be positive, got {}", opts.eps);

  Variable<double> out = f(inputs);
  if (!out.defined()) fail("gradcheck", "f returned an undefined Variable");
  const Shape out_shape = out.shape();
  const std::size_t m = out.size();
  const Analytic analytic = analytic_jacobians(out, inputs);

  GradcheckResult result;
  std::string details;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    GradcheckInputReport rep;
    rep.input = k;
    rep.shape = inputs[k].shape();
    rep.checked = inputs[k].requires_grad();
    if (!rep.checked) {
      result.inputs.push_back(rep);
      details += fmt::format("  input {}, shape {}: not checked (does not require grad)\n", k, format_shape(rep.shape));
      continue;
    }
    const std::size_t n = inputs[k].size();
    const std::vector<double>& jac = analytic.jacobians[k];
    Entry worst;
    double worst_excess = -INFINITY;
    double largest_error = 0;  // for the report of an input that passes
    std::vector<Entry> listed;  // the first failing entries, in order
    for (std::size_t i = 0; i < n; ++i) {
      Tensor<double> plus, minus;
      {
        Perturbation element(inputs[k].value().data()[i]);
        element.shift(opts.eps);
        plus = evaluate(f, inputs, out_shape);
        element.shift(-opts.eps);
        minus = evaluate(f, inputs, out_shape);
      }
      for (std::size_t j = 0; j < m; ++j) {
        Entry e;
        e.i = i;
        e.j = j;
        e.numeric = (plus.data()[j] - minus.data()[j]) / (2 * opts.eps);
        e.analytic = jac[j * n + i];
        e.error = std::abs(e.analytic - e.numeric);
        e.tolerance = opts.atol + opts.rtol * std::abs(e.numeric);
        const double excess = e.error - e.tolerance;
        const bool bad = !(excess <= 0);  // NaN counts as a failure
        ++rep.entries;
        if (bad) {
          ++rep.failures;
          if (listed.size() < kListedFailures) listed.push_back(e);
        }
        largest_error = std::max(largest_error, e.error);
        const double score = std::isnan(excess) ? INFINITY : excess;
        if (score > worst_excess) {
          worst_excess = score;
          worst = e;
        }
      }
    }
    rep.ok = rep.failures == 0;
    if (rep.entries > 0) {
      rep.worst_element = unravel(worst.i, rep.shape);
      rep.worst_output = unravel(worst.j, out_shape);
      rep.analytic = worst.analytic;
      rep.numeric = worst.numeric;
      rep.error = worst.error;
    }
    result.ok = result.ok && rep.ok;
    result.inputs.push_back(rep);

    if (rep.ok) {
      details += fmt::format("  input {}, shape {}: ok, all {} Jacobian entries within tolerance "
                             "(largest |difference| {:.3g})\n",
                             k, format_shape(rep.shape), rep.entries, largest_error);
      continue;
    }
    details += fmt::format("  input {}, shape {}: FAILED, {} of {} Jacobian entries out of tolerance\n", k,
                           format_shape(rep.shape), rep.failures, rep.entries);
    details += describe_entry("worst at", worst, rep.shape, out_shape);
    for (const Entry& e : listed) {
      if (e.i != worst.i || e.j != worst.j) details += describe_entry("also at", e, rep.shape, out_shape);
    }
    const std::size_t shown = listed.size() + (std::any_of(listed.begin(), listed.end(), [&](const Entry& e) {
                                                 return e.i == worst.i && e.j == worst.j;
                                               }) ? 0 : 1);
    if (rep.failures > shown) details += fmt::format("    ... and {} more\n", rep.failures - shown);
    const bool all_zero = std::all_of(jac.begin(), jac.end(), [](double v) { return v == 0.0; });
    if (!analytic.reached[k] && out.requires_grad()) {
      details += "    no gradient reached this input: f uses it only through detach() or under NoGradGuard "
                 "(or not at all), so its analytic gradient is zero\n";
    } else if (all_zero && out.requires_grad()) {
      details += "    the analytic gradient is zero everywhere: does the op's backward return zeros?\n";
    }
  }

  result.report = fmt::format(
      "gradcheck {}: analytic Jacobian of f against central differences, output shape {}, eps {:g}; an entry passes "
      "when |analytic - numeric| <= atol + rtol * |numeric|, atol {:g}, rtol {:g}\n",
      result.ok ? "passed" : "FAILED", format_shape(out_shape), opts.eps, opts.atol, opts.rtol);
  if (!out.requires_grad()) {
    result.report += "  f's output does not require grad, so no gradient reaches any input: is it computed under "
                     "NoGradGuard or only from detached values?\n";
  }
  result.report += details;
  return result;
}

}  // namespace tg
