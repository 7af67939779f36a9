// The arithmetic of one recurrent step, shared by the cells and the multi-layer LSTM/GRU. Every
// step is written with tapegrad's differentiable functions, so second derivatives work.
//
// The steps work on the last axis only: the multi-layer modules pass (1, N, F) or (N, 1, F)
// slices of the sequence, so that no per-step reshape is needed, the cells pass (N, F).
//
// Why no projection of the whole input sequence in one GEMM (as PyTorch does): a tapegrad op has
// one output, so cutting a projected (L, N, G·H) sequence into steps takes L slices, and each
// slice's gradient is a tensor of the whole sequence's size: O(L²) work in backward. Instead each
// gate of a step is one GEMM on [x_t, h] with that gate's rows of [W_ih | W_hh] (the same FLOPs,
// K = F + H), and gate tensors are never split.
#pragma once

#include <cstddef>
#include <cstdint>
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

// The LSTM's weights per gate (i, f, g, o): rows of [W_ih | W_hh] (H, F + H) and of b_ih + b_hh
// (H), cut once per call so that a step needs no split of its gates (a split's backward
// zero-fills the whole gate tensor once per piece).
template <class T>
struct LSTMGates {
  std::vector<Variable<T>> weights, biases;  // biases empty without bias
};

template <class T>
LSTMGates<T> lstm_gates(const Variable<T>& weight_ih, const Variable<T>& weight_hh, const Variable<T>& bias_ih,
                        const Variable<T>& bias_hh, std::size_t hidden) {
  LSTMGates<T> gates;
  gates.weights = split(concat({weight_ih, weight_hh}, 1), hidden, 0);
  if (bias_ih.defined()) gates.biases = split(bias_ih + bias_hh, hidden, 0);
  return gates;
}

// One LSTM step on the step's input pieces and h joined, [x, h]: each gate is one GEMM with its
// rows of [W_ih | W_hh]. An undefined c is zeros (the first step from a zero state skips f * c).
template <class T>
std::pair<Variable<T>, Variable<T>> lstm_step(std::vector<Variable<T>> inputs, const Variable<T>& h,
                                              const Variable<T>& c, const LSTMGates<T>& gates) {
  inputs.push_back(h);
  const Variable<T> joined = concat(inputs, -1);
  auto gate = [&](std::size_t k) {
    return linear(joined, gates.weights[k], gates.biases.empty() ? Variable<T>() : gates.biases[k]);
  };
  const Variable<T> in_gate = sigmoid(gate(0));
  const Variable<T> forget_gate = sigmoid(gate(1));
  const Variable<T> candidate = tanh(gate(2));
  const Variable<T> out_gate = sigmoid(gate(3));
  const Variable<T> new_c = c.defined() ? forget_gate * c + in_gate * candidate : in_gate * candidate;
  return {out_gate * tanh(new_c), new_c};
}

// The GRU's weights per gate, cut once per call. r and z read [x, h] with their rows of
// [W_ih | W_hh] and b_ih + b_hh; n keeps its input and hidden parts apart (r scales the hidden one).
template <class T>
struct GRUGates {
  Variable<T> reset_weight, update_weight, input_weight, hidden_weight;  // (H, F + H) twice, (H, F), (H, H)
  Variable<T> reset_bias, update_bias, input_bias, hidden_bias;          // undefined without bias
};

template <class T>
GRUGates<T> gru_gates(const Variable<T>& weight_ih, const Variable<T>& weight_hh, const Variable<T>& bias_ih,
                      const Variable<T>& bias_hh, std::size_t hidden) {
  const auto rz_end = static_cast<std::int64_t>(2 * hidden), n_end = static_cast<std::int64_t>(3 * hidden);
  GRUGates<T> gates;
  const std::vector<Variable<T>> rz_weights =
      split(concat({slice(weight_ih, 0, 0, rz_end), slice(weight_hh, 0, 0, rz_end)}, 1), hidden, 0);
  gates.reset_weight = rz_weights[0];
  gates.update_weight = rz_weights[1];
  gates.input_weight = slice(weight_ih, 0, rz_end, n_end);
  gates.hidden_weight = slice(weight_hh, 0, rz_end, n_end);
  if (bias_ih.defined()) {
    const std::vector<Variable<T>> rz_biases = split(slice(bias_ih, 0, 0, rz_end) + slice(bias_hh, 0, 0, rz_end), hidden, 0);
    gates.reset_bias = rz_biases[0];
    gates.update_bias = rz_biases[1];
    gates.input_bias = slice(bias_ih, 0, rz_end, n_end);
    gates.hidden_bias = slice(bias_hh, 0, rz_end, n_end);
  }
  return gates;
}

// One GRU step with PyTorch's gates (order r, z, n):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h = n + z ⊙ (h - n).
template <class T>
Variable<T> gru_step(const std::vector<Variable<T>>& inputs, const Variable<T>& h, const GRUGates<T>& gates) {
  const Variable<T> x = join_features(inputs);
  const Variable<T> joined = concat({x, h}, -1);
  const Variable<T> reset = sigmoid(linear(joined, gates.reset_weight, gates.reset_bias));
  const Variable<T> update = sigmoid(linear(joined, gates.update_weight, gates.update_bias));
  const Variable<T> candidate = tanh(linear(x, gates.input_weight, gates.input_bias) +
                                     reset * linear(h, gates.hidden_weight, gates.hidden_bias));
  return candidate + update * (h - candidate);
}

}  // namespace tg::nn::detail
