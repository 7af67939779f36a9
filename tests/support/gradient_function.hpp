// An op's gradients as a function of its inputs and of its output gradient, for checking the
// derivatives of gradient ops with respect to that output gradient (gradgradcheck seeds a constant
// one, so it cannot see them), and, with gradgradcheck, third derivatives.
#pragma once

#include "core/no_grad.hpp"  // detail::GradModeGuard: gradcheck evaluates f under NoGradGuard
#include "test_util.hpp"

namespace tg::test {

using DoubleFn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// Takes f's inputs followed by a gradient for f's output; returns the gradients of f with respect
// to its inputs that require grad, flattened and concatenated, recorded with create_graph.
inline DoubleFn gradient_function(DoubleFn f) {
  return [f](const std::vector<Variable<double>>& v) {
    detail::GradModeGuard recording(true);  // the gradients need f's graph even where gradcheck turned it off
    const std::vector<Variable<double>> inputs(v.begin(), v.end() - 1);
    const Variable<double> y = f(inputs);
    std::vector<Variable<double>> wrt;
    for (const auto& in : inputs) {
      if (in.defined() && in.requires_grad()) wrt.push_back(in);
    }
    const auto grads = grad<double>({y}, wrt, {v.back()}, std::nullopt, /*create_graph=*/true, /*allow_unused=*/true);
    std::vector<Variable<double>> flat;
    for (const auto& g : grads) {
      if (g.defined()) flat.push_back(reshape(g, {g.size()}));
    }
    return concat(flat, 0);
  };
}

// f's third derivatives: gradgradcheck of gradient_function(f) at inputs of the given shapes
// (f's inputs, then its output gradient), drawn in that order from Generator(seed).
inline void require_third_derivatives(DoubleFn f, const std::vector<Shape>& shapes, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<Variable<double>> inputs;
  for (const Shape& shape : shapes) inputs.push_back(param(uniform(shape, gen)));
  require_gradgradcheck(gradient_function(f), inputs);
}

}  // namespace tg::test
