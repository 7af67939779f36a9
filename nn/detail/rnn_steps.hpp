// The arithmetic of one recurrent step, shared by the cells and the multi-layer LSTM/GRU. Every
// step is written with tapegrad's differentiable functions, so second derivatives work.
//
// A step starts from its input's projection x W_ihᵀ + b (`projected`): the multi-layer modules
// compute it for the whole sequence in one GEMM and read it step by step ((1, N, G·H) or
// (N, 1, G·H) steps, so no step needs a reshape), a cell computes it for its one step. What is
// left per step is the hidden projection h W_hhᵀ (one GEMM over all gates) and the pointwise part.
#pragma once

#include <cstdint>
#include <utility>

#include "../../core/variable.hpp"
#include "../../ops/activation.hpp"
#include "../../ops/arithmetic.hpp"
#include "../../ops/linalg.hpp"
#include "../../ops/recurrent.hpp"
#include "../../ops/shape.hpp"

namespace tg::nn::detail {

// The bias of an LSTM's input projection: b_ih + b_hh, added once per sequence rather than per
// step (undefined without bias).
template <class T>
Variable<T> lstm_input_bias(const Variable<T>& bias_ih, const Variable<T>& bias_hh) {
  return bias_ih.defined() ? bias_ih + bias_hh : Variable<T>();
}

// One LSTM cell step: gates = projected + h W_hhᵀ (projected holds both biases), then the fused
// pointwise cell (tg::lstm_cell_pointwise). An undefined h or c is zeros; a zero h adds nothing.
template <class T>
std::pair<Variable<T>, Variable<T>> lstm_step(const Variable<T>& projected, const Variable<T>& h,
                                              const Variable<T>& c, const Variable<T>& weight_hh) {
  return lstm_cell_pointwise(h.defined() ? recurrent_gates(projected, h, weight_hh) : projected, c);
}

// One GRU step with PyTorch's gates (order r, z, n) from projected = x W_ihᵀ + b_ih:
//   r, z = σ(projected_rz + (h W_hhᵀ + b_hh)_rz),  n = tanh(projected_n + r ⊙ (h W_hhᵀ + b_hh)_n),
//   h' = (1 - z) ⊙ n + z ⊙ h = n + z ⊙ (h - n).
template <class T>
Variable<T> gru_step(const Variable<T>& projected, const Variable<T>& h, const Variable<T>& weight_hh,
                     const Variable<T>& bias_hh) {
  const auto hidden = static_cast<std::int64_t>(h.shape().back());
  const Variable<T> hidden_projected = linear(h, weight_hh, bias_hh);
  const Variable<T> reset_update =
      sigmoid(slice(projected, -1, 0, 2 * hidden) + slice(hidden_projected, -1, 0, 2 * hidden));
  const Variable<T> reset = slice(reset_update, -1, 0, hidden), update = slice(reset_update, -1, hidden, 2 * hidden);
  const Variable<T> candidate =
      tanh(slice(projected, -1, 2 * hidden, 3 * hidden) + reset * slice(hidden_projected, -1, 2 * hidden, 3 * hidden));
  return candidate + update * (h - candidate);
}

}  // namespace tg::nn::detail
