// The pointwise part of an LSTM step as one fused op (what PyTorch's fused LSTM cell does after
// its gate GEMMs). Used by nn::LSTM and nn::LSTMCell; differentiable to any order.
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

}  // namespace tg
