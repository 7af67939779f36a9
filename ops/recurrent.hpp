// The fused parts of an LSTM step: the gates' hidden projection added to the input's (for one step,
// or read step by step from a whole sequence's projection), and the pointwise part (what PyTorch's
// fused LSTM cell does after its gate GEMMs). Used by nn::LSTM and nn::LSTMCell; differentiable to
// any order.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "../core/variable.hpp"

namespace tg {
namespace detail {
template <class State>
class PerRun;
}  // namespace detail

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

// A sequence's input projection (x W_ihᵀ + biases for every step, one GEMM) read step by step,
// with the hidden weight W_hh every step multiplies its state by: step t's gates are its rows of
// the projection plus h·W_hhᵀ, the product accumulated onto a copy of those rows in the GEMM
// (recurrent_gates without cutting the step out first). In backward the steps' gradients for the
// projection are joined in one pass (as split's pieces' are), and W_hh's gradient accumulates in
// one buffer, each step's product added in its GEMM.
template <class T>
class ProjectedSequence {
 public:
  // `projected` has the steps along `time_axis`; weight_hh is (G, H) for G features.
  ProjectedSequence(const Variable<T>& projected, int time_axis, const Variable<T>& weight_hh);
  std::size_t length() const { return length_; }
  // Step t's gates, of the projection's shape with a time extent of 1: its rows plus h·W_hhᵀ (h of
  // that shape with H features); an undefined h is zeros and adds nothing.
  Variable<T> gates(std::size_t t, const Variable<T>& h) const;

 private:
  struct Layout;
  struct RunState;
  Variable<T> projected_, weight_;
  Variable<T> joined_;  // the node the steps hand their gradients to; undefined when nothing records
  std::shared_ptr<const Layout> layout_;
  std::shared_ptr<detail::PerRun<RunState>> runs_;
  std::size_t length_ = 0;
};

}  // namespace tg
