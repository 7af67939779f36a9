// LSTM and GRU over whole sequences, stacked and optionally bidirectional, like PyTorch's
// nn.LSTM / nn.GRU: the same parameters (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
// bias_hh_l{k}, and _reverse for the backward direction), shapes, gate order and initialisation
// U(-1/sqrt(H), 1/sqrt(H)).
//
// Input (L, N, input_size), (N, L, input_size) with batch_first, or unbatched (L, input_size).
// Output (L, N, D·H) (batch_first: (N, L, D·H); unbatched: (L, D·H)) with D = 2 when
// bidirectional; the state's h (and c) are (num_layers·D, N, H) ((num_layers·D, H) unbatched),
// ordered layer by layer, forward direction first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "../core/generator.hpp"
#include "module.hpp"
#include "rnn_cells.hpp"

namespace tg::nn {

template <class T = float>
class RNNBase : public Module<T> {
 public:
  // The output sequence from a zero state.
  Variable<T> forward(const Variable<T>& x) override { return forward_with_state(x, RNNState<T>{}).output; }
  // The output sequence and the final state; an undefined h or c means zeros.
  RNNOutput<T> forward_with_state(const Variable<T>& x, const RNNState<T>& state = {});
  // PyTorch's repr, options at their defaults left out: "LSTM(28, 128, batch_first=True)".
  std::string describe() const override;

  std::size_t input_size() const { return input_size_; }
  std::size_t hidden_size() const { return hidden_size_; }
  std::size_t num_layers() const { return num_layers_; }
  bool batch_first() const { return batch_first_; }
  double dropout() const { return dropout_; }
  bool bidirectional() const { return directions_ == 2; }

 protected:
  enum class Kind { lstm, gru };
  // Keeps `gen` for the dropout between layers, so it must outlive the module.
  RNNBase(Kind kind, std::size_t input_size, std::size_t hidden_size, std::size_t num_layers, bool bias,
          bool batch_first, double dropout, bool bidirectional, Generator& gen);

 private:
  // The parameters of one layer in one direction (biases undefined without bias).
  struct Pass {
    Variable<T> weight_ih, weight_hh, bias_ih, bias_hh;
  };
  struct Sequence;  // the input and state laid out for the steps (rnn.cpp)

  const char* name() const { return kind_ == Kind::lstm ? "LSTM" : "GRU"; }
  Sequence prepare(const Variable<T>& x, const RNNState<T>& state) const;
  // Runs one layer in one direction over `input` (time on `time_axis`), writing its output sequence
  // (H features) to `output`; returns the final state.
  RNNState<T> run(const Pass& pass, bool reverse, const Variable<T>& input, int time_axis, RNNState<T> state,
                  Variable<T>& output) const;

  Kind kind_;
  std::size_t input_size_, hidden_size_, num_layers_, directions_;
  bool batch_first_;
  double dropout_;
  Generator* gen_;
  std::vector<Pass> passes_;  // layer k, direction d at k·D + d
};

template <class T = float>
class LSTM : public RNNBase<T> {
 public:
  LSTM(std::size_t input_size, std::size_t hidden_size, std::size_t num_layers = 1, bool bias = true,
       bool batch_first = false, double dropout = 0, bool bidirectional = false)
      : LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, default_generator()) {}
  // The same, drawing the initial parameters and the dropout masks from `gen` (kept by reference).
  LSTM(std::size_t input_size, std::size_t hidden_size, std::size_t num_layers, bool bias, bool batch_first,
       double dropout, bool bidirectional, Generator& gen)
      : RNNBase<T>(RNNBase<T>::Kind::lstm, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                   bidirectional, gen) {}
};

template <class T = float>
class GRU : public RNNBase<T> {
 public:
  GRU(std::size_t input_size, std::size_t hidden_size, std::size_t num_layers = 1, bool bias = true,
      bool batch_first = false, double dropout = 0, bool bidirectional = false)
      : GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, default_generator()) {}
  // The same, drawing the initial parameters and the dropout masks from `gen` (kept by reference).
  GRU(std::size_t input_size, std::size_t hidden_size, std::size_t num_layers, bool bias, bool batch_first,
      double dropout, bool bidirectional, Generator& gen)
      : RNNBase<T>(RNNBase<T>::Kind::gru, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                   bidirectional, gen) {}
};

}  // namespace tg::nn
