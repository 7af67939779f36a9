// The one place where an op's output joins the tape (record_op and the library's own ops).
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "../anomaly.hpp"
#include "../no_grad.hpp"
#include "graph.hpp"

namespace tg::detail {

// Whether an op on the inputs [first, last) is recorded: grad mode is on and one of them requires grad.
template <class T>
bool records(const Variable<T>* first, const Variable<T>* last) {
  return grad_enabled() && std::any_of(first, last, [](const Variable<T>& v) { return v.requires_grad(); });
}

// Wraps `output` in a Variable and, when an op on `inputs` is to be recorded (grad mode on, some
// input requiring grad), gives it a Node named `name`. `saves` names what `backward` reads (the
// engine checks their versions first). Anomaly mode checks the output here.
template <class T>
Variable<T> record(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs, const Saves& saves,
                   OpBackward<T> backward, bool differentiable = true);

// The same for a call that lists its inputs and writes its backward in place, as the library's ops
// do: when nothing is to be recorded (grad mode off, as in a first-order backward, or no input
// requiring grad) neither the input list nor the backward's closure is built on the heap.
template <class T, class Backward>
Variable<T> record(std::string name, Tensor<T> output, std::initializer_list<Variable<T>> inputs, const Saves& saves,
                   Backward&& backward, bool differentiable = true) {
  if (!records(inputs.begin(), inputs.end()) && !anomaly_enabled()) return Variable<T>(std::move(output), false);
  return record<T>(std::move(name), std::move(output), std::vector<Variable<T>>(inputs), saves,
                   OpBackward<T>(std::forward<Backward>(backward)), differentiable);
}

// Every defined input, for user operators, whose backward may read any of them.
template <class T>
Saves saves_all_inputs(const std::vector<Variable<T>>& inputs);

}  // namespace tg::detail
