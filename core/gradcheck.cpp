#include "gradcheck.hpp"

#include <set>
#include <stdexcept>
#include <unordered_set>

#include "detail/graph.hpp"
#include "detail/jacobian_check.hpp"
#include "errors.hpp"
#include "generator.hpp"
#include "grad.hpp"
#include "no_grad.hpp"

namespace tg {
namespace {

using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;
using Inputs = std::vector<Variable<double>>;

// The ops recorded below `root`, each named once, from the output down: "tanh, matmul".
std::string recorded_ops(const Variable<double>& root) {
  std::vector<std::string> names;
  std::set<std::string> named;
  std::unordered_set<const detail::VariableImpl<double>*> seen{root.impl().get()};
  std::vector<const detail::VariableImpl<double>*> stack{root.impl().get()};
  while (!stack.empty()) {
    const auto* impl = stack.back();
    stack.pop_back();
    if (!impl->grad_fn) continue;
    if (named.insert(impl->op).second) names.push_back(impl->op);
    for (const auto& input : impl->grad_fn->inputs) {
      if (input.defined() && seen.insert(input.impl().get()).second) stack.push_back(input.impl().get());
    }
  }
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

// The inputs that require grad, with their positions among all inputs.
std::pair<Inputs, std::vector<std::size_t>> differentiable_inputs(const Inputs& inputs) {
  std::pair<Inputs, std::vector<std::size_t>> out;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].defined() && inputs[k].requires_grad()) {
      out.first.push_back(inputs[k]);
      out.second.push_back(k);
    }
  }
  return out;
}

// The first derivatives of <v, f(inputs)> with respect to the inputs that require grad; with
// create_graph they are recorded, so they can be differentiated once more.
Inputs first_derivatives(const Fn& f, const Inputs& inputs, const Tensor<double>& v, bool create_graph) {
  const Variable<double> y = f(inputs);
  const Inputs wrt = differentiable_inputs(inputs).first;
  if (!y.requires_grad()) return Inputs(wrt.size());  // constant in every input: zero derivatives
  if (y.shape() != shape_of(v)) {
    fail("gradgradcheck", "f's output changed shape from {} to {} when an input was perturbed",
         format_shape(v.shape()), format_shape(y.shape()));
  }
  return grad<double>({y}, wrt, {Variable<double>(v)}, create_graph, create_graph, /*allow_unused=*/true);
}

}  // namespace

GradcheckResult gradcheck(Fn f, Inputs inputs, GradcheckOptions opts) {
  detail::JacobianCheck check;
  check.name = "gradcheck";
  check.what = "analytic Jacobian of f";
  check.traced = [f](const Inputs& x) { return Inputs{f(x)}; };
  check.values = [f](const Inputs& x) {
    NoGradGuard no_grad;
    return Inputs{f(x)};
  };
  return detail::check_jacobian(check, std::move(inputs), opts);
}

GradcheckResult gradgradcheck(Fn f, Inputs inputs, GradcheckOptions opts) {
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) fail("gradgradcheck", "input {} is an undefined Variable", k);
  }
  const Variable<double> y = f(inputs);
  if (!y.defined()) fail("gradgradcheck", "f returned an undefined Variable");
  const std::string ops = recorded_ops(y);
  // Seeded random output gradients, as torch.autograd.gradgradcheck draws them.
  Generator gen(2024);
  Tensor<double> v = Tensor<double>::from_shape(y.shape());
  for (auto& e : v) e = gen.uniform(-1.0, 1.0);
  const std::vector<std::size_t> positions = differentiable_inputs(inputs).second;

  detail::JacobianCheck check;
  check.name = "gradgradcheck";
  check.what = "second derivatives of f (the Jacobian of its first derivatives, seeded output gradient)";
  check.traced = [f, v](const Inputs& x) { return first_derivatives(f, x, v, true); };
  check.values = [f, v](const Inputs& x) { return first_derivatives(f, x, v, false); };
  check.output_name = [positions](std::size_t o, const Shape& index) {
    return fmt::format("first derivative for input {}, element {}", positions.at(o), detail::format_index(index));
  };
  GradcheckResult result;
  try {
    result = detail::check_jacobian(check, std::move(inputs), opts);
  } catch (const std::logic_error& e) {  // an op that is first-order only, or another engine refusal
    if (dynamic_cast<const std::invalid_argument*>(&e)) throw;
    result.ok = false;
    result.report = fmt::format("gradgradcheck FAILED: differentiating f's first derivatives threw: {}\n", e.what());
  }
  result.report += fmt::format("  ops recorded by f: {}\n", ops);
  return result;
}

}  // namespace tg
