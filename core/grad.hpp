// tg::grad: gradients of outputs with respect to chosen inputs, returned rather than accumulated,
// and with create_graph, differentiable again (torch.autograd.grad).
//
//   auto g = tg::grad<double>({loss}, {x}, {}, std::nullopt, /*create_graph=*/true);
//   auto penalty = tg::sum(g[0] * g[0]);   // part of the next loss, differentiated through
#pragma once

#include <optional>
#include <vector>

#include "variable.hpp"

namespace tg {

// The gradients of `outputs` with respect to `inputs`, one per input, each of its input's shape;
// nothing accumulates into any .grad(). grad_outputs holds each output's seed gradient; empty,
// every output must have one element and gets seed 1. retain_graph unset: = create_graph.
// create_graph: the backward's ops are recorded, so the results can be differentiated again, to
// any order. An input that no output depends on throws std::invalid_argument naming its position,
// or with allow_unused gives an undefined Variable; one on the graph that no gradient reaches
// gets zeros (as a kink's derivative). Inputs may be any Variables that require grad, leaves or not.
template <class T>
std::vector<Variable<T>> grad(const std::vector<Variable<T>>& outputs, const std::vector<Variable<T>>& inputs,
                              const std::vector<Variable<T>>& grad_outputs = {},
                              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                              bool allow_unused = false);

}  // namespace tg
