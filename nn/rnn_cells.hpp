// LSTMCell and GRUCell: one recurrent step on a batch, with PyTorch's parameters
// (weight_ih (G·H, in), weight_hh (G·H, H), bias_ih (G·H), bias_hh (G·H); G = 4 gates i, f, g, o
// for the LSTM, 3 gates r, z, n for the GRU), each initialised U(-1/sqrt(H), 1/sqrt(H)).
// Also the state and output types of every recurrent module.
#pragma once

#include <cstddef>
#include <string>

#include "../core/generator.hpp"
#include "module.hpp"

namespace tg::nn {

// A recurrent state: h, and for an LSTM the cell c (undefined for a GRU). An undefined h or c
// given to a module means zeros.
template <class T = float>
struct RNNState {
  Variable<T> h, c;
};

// What forward_with_state returns: the output (the sequence for LSTM/GRU, the new h for a cell)
// and the state after the last step.
template <class T = float>
struct RNNOutput {
  Variable<T> output;
  RNNState<T> state;
};

// What the two cells share: sizes, parameters and the checks of input and state.
template <class T = float>
class RNNCellBase : public Module<T> {
 public:
  // x (N, input_size), or (input_size) unbatched; returns the new h (N, H) or (H).
  Variable<T> forward(const Variable<T>& x) override { return forward_with_state(x, RNNState<T>{}).output; }
  virtual RNNOutput<T> forward_with_state(const Variable<T>& x, const RNNState<T>& state = {}) = 0;
  // PyTorch's repr: "LSTMCell(10, 20)", "GRUCell(10, 20, bias=False)".
  std::string describe() const override;

  std::size_t input_size() const { return input_size_; }
  std::size_t hidden_size() const { return hidden_size_; }
  Variable<T>& weight_ih() { return weight_ih_; }
  Variable<T>& weight_hh() { return weight_hh_; }
  Variable<T>& bias_ih() { return bias_ih_; }  // undefined without bias
  Variable<T>& bias_hh() { return bias_hh_; }

 protected:
  RNNCellBase(const char* name, std::size_t gates, std::size_t input_size, std::size_t hidden_size, bool bias,
              Generator& gen);
  // x as (N, input_size) and the state's h (and c when `with_cell`) as (N, H), zeros where
  // undefined (c stays undefined: zeros to the LSTM step); throws naming the module on bad shapes.
  // `unbatched` tells whether x was 1-D.
  RNNState<T> prepare(Variable<T>& x, const RNNState<T>& state, bool with_cell, bool& unbatched) const;
  // h (and c) back to (H) for an unbatched input.
  RNNOutput<T> finish(RNNState<T> state, bool unbatched) const;
  // One step of a cell: prepare, then step(x, start state) -> the new state, then finish.
  template <class Step>
  RNNOutput<T> step_with(const Variable<T>& input, const RNNState<T>& state, bool with_cell, Step step) const;

  const char* name_;
  std::size_t input_size_, hidden_size_;
  Variable<T> weight_ih_, weight_hh_, bias_ih_, bias_hh_;
};

template <class T = float>
class LSTMCell : public RNNCellBase<T> {
 public:
  LSTMCell(std::size_t input_size, std::size_t hidden_size, bool bias = true)
      : LSTMCell(input_size, hidden_size, bias, default_generator()) {}
  // The same, drawing the initial parameters from `gen`.
  LSTMCell(std::size_t input_size, std::size_t hidden_size, bool bias, Generator& gen)
      : RNNCellBase<T>("LSTMCell", 4, input_size, hidden_size, bias, gen) {}

  // output = h', state = {h', c'}; state {} is zeros.
  RNNOutput<T> forward_with_state(const Variable<T>& x, const RNNState<T>& state = {}) override;
};

template <class T = float>
class GRUCell : public RNNCellBase<T> {
 public:
  GRUCell(std::size_t input_size, std::size_t hidden_size, bool bias = true)
      : GRUCell(input_size, hidden_size, bias, default_generator()) {}
  // The same, drawing the initial parameters from `gen`.
  GRUCell(std::size_t input_size, std::size_t hidden_size, bool bias, Generator& gen)
      : RNNCellBase<T>("GRUCell", 3, input_size, hidden_size, bias, gen) {}

  // output = h', state = {h', undefined}; state {} is zeros; a defined c is an error.
  RNNOutput<T> forward_with_state(const Variable<T>& x, const RNNState<T>& state = {}) override;
};

}  // namespace tg::nn
