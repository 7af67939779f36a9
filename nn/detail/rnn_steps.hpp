// The arithmetic of one recurrent step, shared by the cells and the multi-layer LSTM/GRU. Every
// step is written with tapegrad's differentiable functions, so second derivatives work.
//
// The steps work on the last axis only: the multi-layer modules pass (1, N, F) or (N, 1, F)
// slices of the sequence, so that no per-step reshape is needed, the cells pass (N, F).
//
// An LSTM step is three taped nodes plus the cell's two: the concat [x_t, h], ONE gate GEMM with
// [W_ih | W_hh] (4H wide, K = F + H, joined once per forward) and the fused pointwise cell
// (tg::lstm_cell_pointwise, ops/recurrent.hpp: activations, c' and h' in one pass; its backward
// two small kernels per output, written as ops that have their own derivatives). The earlier
// form, four per-gate linears, three sigmoids, two tanhs, products and sums (about 14 taped ops
// and 12 GEMMs per step), spent more in taping, allocation and gradient accumulation than in
// arithmetic. The GRU joins r and z the same way (one 2H-wide GEMM on [x, h], one sigmoid, cut in
// two); n keeps its input and hidden products apart, since r scales only the hidden one.
//
// Why no projection of the whole input sequence in one GEMM (as PyTorch does): a tapegrad op has
// one output, so cutting a projected (L, N, G·H) sequence into steps takes L slices, and each
// slice's gradient is a tensor of the whole sequence's size: O(L²) work in backward. An O(L)
// "unbind" would need the L pieces' backwards to hand their gradients to one assembling node,
// i.e. state shared between nodes and an order of their backwards the engine does not promise.
// The joined per-step GEMM has the same FLOPs; what it costs extra is the [x_t, h] copy and a
// weight gradient summed per step instead of computed once (together about a tenth of an epoch
// of the MNIST row LSTM, measured after these changes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "../../core/variable.hpp"
#include "../../ops/activation.hpp"
#include "../../ops/arithmetic.hpp"
#include "../../ops/linalg.hpp"
#include "../../ops/recurrent.hpp"
#include "../../ops/shape.hpp"

namespace tg::nn::detail {

// The pieces joined along the last axis (a single piece as it is, without a copy).
template <class T>
Variable<T> join_features(const std::vector<Variable<T>>& pieces) {
  return pieces.size() == 1 ? pieces.front() : concat(pieces, -1);
}

// The LSTM's weights as one GEMM operand: [W_ih | W_hh] (4H, F + H) and b_ih + b_hh (4H), joined
// once per call (their gradients are cut back once per backward).
template <class T>
struct LSTMGates {
  Variable<T> weight, bias;  // bias undefined without bias
};

template <class T>
LSTMGates<T> lstm_gates(const Variable<T>& weight_ih, const Variable<T>& weight_hh, const Variable<T>& bias_ih,
                        const Variable<T>& bias_hh) {
  LSTMGates<T> gates;
  gates.weight = concat({weight_ih, weight_hh}, 1);
  if (bias_ih.defined()) gates.bias = bias_ih + bias_hh;
  return gates;
}

// One LSTM step on the step's input pieces and h joined, [x, h]: the four gates are one GEMM
// (N = 4H, K = F + H), the rest one fused pointwise op. An undefined c is zeros.
template <class T>
std::pair<Variable<T>, Variable<T>> lstm_step(std::vector<Variable<T>> inputs, const Variable<T>& h,
                                              const Variable<T>& c, const LSTMGates<T>& gates) {
  inputs.push_back(h);
  return lstm_cell_pointwise(linear(concat(inputs, -1), gates.weight, gates.bias), c);
}

// The GRU's weights, joined once per call. r and z read [x, h] with their rows of [W_ih | W_hh]
// and b_ih + b_hh, as one 2H-wide GEMM; n keeps its input and hidden parts apart (r scales the
// hidden one).
template <class T>
struct GRUGates {
  Variable<T> reset_update_weight, input_weight, hidden_weight;  // (2H, F + H), (H, F), (H, H)
  Variable<T> reset_update_bias, input_bias, hidden_bias;        // undefined without bias
};

template <class T>
GRUGates<T> gru_gates(const Variable<T>& weight_ih, const Variable<T>& weight_hh, const Variable<T>& bias_ih,
                      const Variable<T>& bias_hh, std::size_t hidden) {
  const auto rz_end = static_cast<std::int64_t>(2 * hidden), n_end = static_cast<std::int64_t>(3 * hidden);
  GRUGates<T> gates;
  gates.reset_update_weight = concat({slice(weight_ih, 0, 0, rz_end), slice(weight_hh, 0, 0, rz_end)}, 1);
  gates.input_weight = slice(weight_ih, 0, rz_end, n_end);
  gates.hidden_weight = slice(weight_hh, 0, rz_end, n_end);
  if (bias_ih.defined()) {
    gates.reset_update_bias = slice(bias_ih, 0, 0, rz_end) + slice(bias_hh, 0, 0, rz_end);
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
  const auto hidden = static_cast<std::int64_t>(h.shape().back());
  const Variable<T> reset_update =
      sigmoid(linear(concat({x, h}, -1), gates.reset_update_weight, gates.reset_update_bias));
  const Variable<T> reset = slice(reset_update, -1, 0, hidden), update = slice(reset_update, -1, hidden, 2 * hidden);
  const Variable<T> candidate = tanh(linear(x, gates.input_weight, gates.input_bias) +
                                     reset * linear(h, gates.hidden_weight, gates.hidden_bias));
  return candidate + update * (h - candidate);
}

}  // namespace tg::nn::detail
