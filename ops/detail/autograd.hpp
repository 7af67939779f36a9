// What every op needs to record itself: the record function, and small helpers for backwards.
//
// An op computes its value with a kernel, then records a node whose backward is written with
// tapegrad's own differentiable functions (often a dedicated backward op such as relu_backward,
// itself recorded with its own derivative). Without create_graph nothing in the backward records,
// so it costs what a hand-written backward would; with create_graph it can be differentiated again.
#pragma once

#include <utility>
#include <vector>

#include "../../core/detail/record.hpp"
#include "../../core/no_grad.hpp"
#include "../../core/record_op.hpp"

namespace tg::detail {

// A Variable no gradient flows into (a mask, a scale, a sign).
template <class T>
Variable<T> constant(Tensor<T> value) {
  return Variable<T>(std::move(value), false);
}

// True when an op handed g (a gradient at its last use, moved in) may write its result into g's
// buffer: nothing else holds g and nothing is being recorded (g is no recorded op's input).
template <class T>
bool reusable(const Variable<T>& g) {
  return !grad_enabled() && g.impl().use_count() == 1;
}

// g's buffer when reusable (taken over: g is left empty), else a copy of its value.
template <class T>
Tensor<T> take_buffer(Variable<T>&& g) {
  if (reusable(g)) return std::move(g.impl()->value);
  return std::as_const(g).value();
}

// The gradient list of a one-input op.
template <class T>
Gradients<T> single(Variable<T> g) {
  Gradients<T> grads;
  grads.push_back(std::move(g));
  return grads;
}

// Saves for an op whose backward reads the given inputs, or its output.
inline Saves saves_inputs(std::initializer_list<std::size_t> inputs) {
  Saves saves;
  for (std::size_t i : inputs) {
    if (i < 64) saves.inputs |= std::uint64_t{1} << i;
    else saves.all_inputs = true;
  }
  return saves;
}
inline Saves saves_output() {
  Saves saves;
  saves.output = true;
  return saves;
}
inline Saves saves_nothing() { return Saves{}; }

}  // namespace tg::detail
