#include "jacobian_check.hpp"

#include <algorithm>
#include <cmath>

#include "../errors.hpp"
#include "../no_grad.hpp"

namespace tg::detail {
namespace {

constexpr std::size_t kListedFailures = 5;  // failing entries the report lists per input

void check_arguments(const JacobianCheck& check, const std::vector<Variable<double>>& inputs,
                     const GradcheckOptions& opts) {
  bool any = false;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) fail(check.name, "input {} is an undefined Variable", k);
    any = any || inputs[k].requires_grad();
  }
  if (!any) fail(check.name, "none of the {} inputs requires grad, so there is nothing to check", inputs.size());
  if (!(opts.eps > 0)) fail(check.name, "eps must be positive, got {}", opts.eps);
}

// The checked function's outputs as one flat row space: output o's elements start at offset[o].
struct Outputs {
  std::vector<Shape> shapes;
  std::vector<std::size_t> offset;
  std::size_t total = 0;

  explicit Outputs(const std::vector<Variable<double>>& outs) {
    for (const auto& o : outs) {
      shapes.push_back(o.defined() ? o.shape() : Shape{0});
      offset.push_back(total);
      total += element_count(shapes.back());
    }
  }
  // (output, index within it) of flat row j.
  std::pair<std::size_t, Shape> locate(std::size_t j) const {
    std::size_t o = 0;
    while (o + 1 < offset.size() && offset[o + 1] <= j) ++o;
    return {o, unravel(j - offset[o], shapes[o])};
  }
};

// jacobians[k] is input k's Jacobian, (rows) x (input size), row by row from one backward pass per
// output element with a one-hot seed. reached[k]: whether any pass delivered a gradient to input k.
struct Analytic {
  std::vector<std::vector<double>> jacobians;
  std::vector<bool> reached;
};

Analytic analytic_jacobians(const std::vector<Variable<double>>& outs, const Outputs& layout,
                            std::vector<Variable<double>>& inputs) {
  Analytic a;
  a.jacobians.resize(inputs.size());
  a.reached.assign(inputs.size(), false);
  for (std::size_t k = 0; k < inputs.size(); ++k) a.jacobians[k].assign(layout.total * inputs[k].size(), 0.0);
  for (auto& v : inputs) v.zero_grad();
  for (std::size_t o = 0; o < outs.size(); ++o) {
    if (!outs[o].defined() || !outs[o].requires_grad()) continue;  // a constant: its rows are zero
    for (std::size_t e = 0; e < outs[o].size(); ++e) {
      Tensor<double> seed = xt::zeros<double>(outs[o].value().shape());
      seed.data()[e] = 1.0;
      Variable<double>(outs[o]).backward(seed, /*retain_graph=*/true);
      const std::size_t row = layout.offset[o] + e;
      for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k].has_grad()) continue;
        a.reached[k] = true;
        const double* g = inputs[k].grad().data();
        std::copy(g, g + inputs[k].size(), a.jacobians[k].begin() + static_cast<std::ptrdiff_t>(row * inputs[k].size()));
      }
      for (auto& v : inputs) v.zero_grad();
    }
  }
  return a;
}

// The outputs' values, one flat vector, when an input is perturbed.
std::vector<double> evaluate(const JacobianCheck& check, const std::vector<Variable<double>>& inputs,
                             const Outputs& expected) {
  const std::vector<Variable<double>> outs = check.values(inputs);
  if (outs.size() != expected.shapes.size()) {
    fail(check.name, "f returned {} outputs when an input was perturbed, {} before", outs.size(), expected.shapes.size());
  }
  std::vector<double> flat(expected.total, 0.0);
  for (std::size_t o = 0; o < outs.size(); ++o) {
    if (!outs[o].defined()) continue;
    if (outs[o].shape() != expected.shapes[o]) {
      fail(check.name, "f's output changed shape from {} to {} when an input was perturbed",
           format_shape(expected.shapes[o]), format_shape(outs[o].shape()));
    }
    const double* v = outs[o].value().data();
    std::copy(v, v + outs[o].size(), flat.begin() + static_cast<std::ptrdiff_t>(expected.offset[o]));
  }
  return flat;
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
  bool failed() const { return !(error <= tolerance); }  // NaN counts as a failure
  double excess() const { return std::isnan(error) ? INFINITY : error - tolerance; }
};

// The entries of one input, as they are compared.
struct InputEntries {
  GradcheckInputReport report;
  Entry worst;                // furthest past the tolerance (when all pass: closest to it)
  double largest_error = 0;   // for the report of an input that passes
  std::vector<Entry> listed;  // the first failing entries, in order
  bool all_zero = true;       // every analytic entry is 0
};

void add_entry(InputEntries& in, const Entry& e) {
  ++in.report.entries;
  if (e.failed()) {
    ++in.report.failures;
    if (in.listed.size() < kListedFailures) in.listed.push_back(e);
  }
  in.largest_error = std::max(in.largest_error, e.error);
  in.all_zero = in.all_zero && e.analytic == 0.0;
  if (in.report.entries == 1 || e.excess() > in.worst.excess()) in.worst = e;
}

// Compares input k's analytic Jacobian `jac` with central differences, element by element.
InputEntries compare_input(const JacobianCheck& check, std::vector<Variable<double>>& inputs, std::size_t k,
                           const std::vector<double>& jac, const Outputs& layout, const GradcheckOptions& opts) {
  InputEntries in;
  in.report.input = k;
  in.report.shape = inputs[k].shape();
  in.report.checked = true;
  const std::size_t n = inputs[k].size(), m = layout.total;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> plus, minus;
    {
      Perturbation element(inputs[k].value().data()[i]);
      element.shift(opts.eps);
      plus = evaluate(check, inputs, layout);
      element.shift(-opts.eps);
      minus = evaluate(check, inputs, layout);
    }
    for (std::size_t j = 0; j < m; ++j) {
      Entry e;
      e.i = i;
      e.j = j;
      e.numeric = (plus[j] - minus[j]) / (2 * opts.eps);
      e.analytic = jac[j * n + i];
      e.error = std::abs(e.analytic - e.numeric);
      e.tolerance = opts.atol + opts.rtol * std::abs(e.numeric);
      add_entry(in, e);
    }
  }
  in.report.ok = in.report.failures == 0;
  if (in.report.entries > 0) {
    in.report.worst_element = unravel(in.worst.i, in.report.shape);
    in.report.worst_output = layout.locate(in.worst.j).second;
    in.report.analytic = in.worst.analytic;
    in.report.numeric = in.worst.numeric;
    in.report.error = in.worst.error;
  }
  return in;
}

std::string describe_entry(const char* lead, const Entry& e, const Shape& in_shape, const std::string& output) {
  return fmt::format("    {} input element {}, {}: analytic {:.8g}, numeric {:.8g}, |difference| {:.3g} {} tolerance {:.3g}\n",
                     lead, format_index(unravel(e.i, in_shape)), output, e.analytic, e.numeric, e.error,
                     e.error <= e.tolerance ? "<=" : ">", e.tolerance);
}

// The report's lines about one checked input.
std::string describe_input(const InputEntries& in, const std::function<std::string(std::size_t)>& output_name, bool reached,
                           bool out_has_grad) {
  const GradcheckInputReport& rep = in.report;
  if (rep.ok) {
    return fmt::format("  input {}, shape {}: ok, all {} Jacobian entries within tolerance (largest |difference| {:.3g})\n",
                       rep.input, format_shape(rep.shape), rep.entries, in.largest_error);
  }
  std::string text = fmt::format("  input {}, shape {}: FAILED, {} of {} Jacobian entries out of tolerance\n", rep.input,
                                 format_shape(rep.shape), rep.failures, rep.entries);
  text += describe_entry("worst at", in.worst, rep.shape, output_name(in.worst.j));
  bool worst_listed = false;
  for (const Entry& e : in.listed) {
    if (e.i == in.worst.i && e.j == in.worst.j) {
      worst_listed = true;
    } else {
      text += describe_entry("also at", e, rep.shape, output_name(e.j));
    }
  }
  const std::size_t shown = in.listed.size() + (worst_listed ? 0 : 1);
  if (rep.failures > shown) text += fmt::format("    ... and {} more\n", rep.failures - shown);
  if (!reached && out_has_grad) {
    text += "    no gradient reached this input: f uses it only through detach() or under NoGradGuard "
            "(or not at all), so its analytic gradient is zero\n";
  } else if (in.all_zero && out_has_grad) {
    text += "    the analytic gradient is zero everywhere: does the op's backward return zeros?\n";
  }
  return text;
}

}  // namespace

Shape unravel(std::size_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

std::string format_index(const Shape& index) { return fmt::format("[{}]", fmt::join(index, ", ")); }

GradcheckResult check_jacobian(const JacobianCheck& check, std::vector<Variable<double>> inputs,
                               const GradcheckOptions& opts) {
  check_arguments(check, inputs, opts);
  const std::vector<Variable<double>> outs = check.traced(inputs);
  const Outputs layout(outs);
  const auto output_name = [&](std::size_t j) {
    const auto [o, index] = layout.locate(j);
    return check.output_name ? check.output_name(o, index) : "output element " + format_index(index);
  };
  bool any_graph = false;
  for (const auto& o : outs) any_graph = any_graph || (o.defined() && o.requires_grad());
  const Analytic analytic = analytic_jacobians(outs, layout, inputs);

  GradcheckResult result;
  std::string details;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].requires_grad()) {
      GradcheckInputReport rep;
      rep.input = k;
      rep.shape = inputs[k].shape();
      result.inputs.push_back(rep);
      details += fmt::format("  input {}, shape {}: not checked (does not require grad)\n", k, format_shape(rep.shape));
      continue;
    }
    const InputEntries in = compare_input(check, inputs, k, analytic.jacobians[k], layout, opts);
    details += describe_input(in, output_name, analytic.reached[k], any_graph);
    result.ok = result.ok && in.report.ok;
    result.inputs.push_back(in.report);
  }

  const std::string shapes = outs.size() == 1 ? "output shape " + format_shape(layout.shapes[0])
                                              : fmt::format("{} outputs", outs.size());
  result.report = fmt::format(
      "{} {}: {} against central differences, {}, eps {:g}; an entry passes when |analytic - numeric| <= "
      "atol + rtol * |numeric|, atol {:g}, rtol {:g}\n",
      check.name, result.ok ? "passed" : "FAILED", check.what, shapes, opts.eps, opts.atol, opts.rtol);
  if (!any_graph) {
    result.report += "  f's output does not require grad, so no gradient reaches any input: is it computed under "
                     "NoGradGuard or only from detached values?\n";
  }
  result.report += details;
  return result;
}

}  // namespace tg::detail
