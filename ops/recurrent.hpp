// The fused parts of a recurrent step: the gates' hidden projection added to the input's, and the
// pointwise part of an LSTM step (what PyTorch's fused LSTM cell does after its gate GEMMs). Used
// by nn::LSTM, nn::GRU and their cells; differentiable to any order.
#pragma once

#include <utility>

#include "../core/variable.hpp"

namespace tg {

// From one step's gate pre-activations `gates` (..., 4H) in PyTorch's order i, f, g, o (that is
// x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) and the cell state `c` (..., H) (undefined means zeros):
//   c' = sigmoid(f) c + sigmoid(i) tanh(g),   h' = sigmoid(o) tanh(c').
// Returns {h', c'}, each (..., H).
template <class T>
std::pair<Variable<T>, Variable<T>> lstm_cell_pointwise(const Variable<T>& gates, const Variable<T>& c);

// A recurrent step's gate pre-activations: projected + h·W_hhᵀ, where `projected` (..., G) is the
// step's share of the input projection (x W_ihᵀ + biases, computed for a whole sequence at once),
// h (..., H) the state and weight_hh (G, H); the product accumulates onto a copy of `projected` in
// the GEMM itself. Shapes that do not fit throw std::invalid_argument naming the function.
template <class T>
Variable<T> recurrent_gates(const Variable<T>& projected, const Variable<T>& h, const Variable<T>& weight_hh);

}  // namespace tg
