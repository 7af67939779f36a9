// The arithmetic of one recurrent step, shared by the cells and the multi-layer LSTM/GRU. Every
// step is written with tapegrad's differentiable functions, so second derivatives work.
//
// The steps work on the last axis only: the multi-layer modules pass (1, N, F) or (N, 1, F)
// slices of the sequence, so that no per-step reshape is needed, the cells pass (N, F).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "../../core/variable.hpp"
#include "../../ops/activation.hpp"
#include "../../ops/arithmetic.hpp"
#include "../../ops/linalg.hpp"
#include "../../ops/shape.hpp"

namespace tg::nn::detail {

// The pieces joined along the last axis (a single piece as it is, without a copy).
template <class T>
Variable<T> join_features(const std::vector<Variable<T>>& pieces) {
  return pieces.size() == 1 ? pieces.front() : concat(pieces, -1);
}

// One LSTM step. `joined_weight` is [W_ih | W_hh] (4H, F + H) and `bias` is b_ih + b_hh (or
// undefined), so the gates of the whole step are ONE GEMM on [x, h]. Gate order i, f, g, o.
// An undefined c is zeros (the first step from a zero state skips f * c).
template <class T>
std::pair<Variable<T>, Variable<T>> lstm_step(std::vector<Variable<T>> inputs, const Variable<T>& h,
                                              const Variable<T>& c, const Variable<T>& joined_weight,
                                              const Variable<T>& bias, std::size_t hidden) {
  inputs.push_back(h);
  const std::vector<Variable<T>> gates = split(linear(concat(inputs, -1), joined_weight, bias), hidden, -1);
  const Variable<T> in_gate = sigmoid(gates[0]);
  const Variable<T> forget_gate = sigmoid(gates[1]);
  const Variable<T> candidate = tanh(gates[2]);
  const Variable<T> out_gate = sigmoid(gates[3]);
  const Variable<T> new_c = c.defined() ? forget_gate * c + in_gate * candidate : in_gate * candidate;
  return {out_gate * tanh(new_c), new_c};
}

// One GRU step with PyTorch's gates (order r, z, n):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h = n + z ⊙ (h - n).
// n needs the input and hidden parts apart, so the two projections stay two GEMMs.
template <class T>
Variable<T> gru_step(const Variable<T>& x, const Variable<T>& h, const Variable<T>& weight_ih,
                     const Variable<T>& weight_hh, const Variable<T>& bias_ih, const Variable<T>& bias_hh,
                     std::size_t hidden) {
  const std::vector<Variable<T>> from_input = split(linear(x, weight_ih, bias_ih), hidden, -1);
  const std::vector<Variable<T>> from_hidden = split(linear(h, weight_hh, bias_hh), hidden, -1);
  const Variable<T> reset = sigmoid(from_input[0] + from_hidden[0]);
  const Variable<T> update = sigmoid(from_input[1] + from_hidden[1]);
  const Variable<T> candidate = tanh(from_input[2] + reset * from_hidden[2]);
  return candidate + update * (h - candidate);
}

}  // namespace tg::nn::detail
