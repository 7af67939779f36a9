#include "rnn.hpp"

#include <fmt/format.h>

#include <cmath>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "../ops/dropout.hpp"
#include "../ops/shape.hpp"
#include "detail/rnn_steps.hpp"
#include "init.hpp"

namespace tg::nn {

// The input and the initial state, checked. The state's slices keep the input's layout with a
// time extent of 1 ((1, N, H), or (N, 1, H) with batch_first), like the steps the input is cut
// into, so no step needs a reshape.
template <class T>
struct RNNBase<T>::Sequence {
  Variable<T> input;   // (L, N, F), or (N, L, F) with batch_first; unbatched input gets N = 1
  RNNState<T> state;   // (num_layers·D, N, H) each, or undefined (zeros)
  std::size_t time_axis = 0, batch = 0, length = 0;
  bool unbatched = false;
};

template <class T>
RNNBase<T>::RNNBase(Kind kind, std::size_t input_size, std::size_t hidden_size, std::size_t num_layers, bool bias,
                    bool batch_first, double dropout, bool bidirectional, Generator& gen)
    : kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size),
      num_layers_(num_layers),
      directions_(bidirectional ? 2 : 1),
      batch_first_(batch_first),
      dropout_(dropout),
      gen_(&gen) {
  if (hidden_size == 0) fail(name(), "hidden_size must be positive, got 0");
  if (num_layers == 0) fail(name(), "num_layers must be positive, got 0");
  if (!(dropout >= 0 && dropout <= 1)) fail(name(), "dropout must be in [0, 1], got {}", dropout);
  // PyTorch's RNNBase: every parameter U(-1/sqrt(H), 1/sqrt(H)), registered layer by layer, the
  // forward direction before the reverse one.
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const std::size_t rows = (kind == Kind::lstm ? 4 : 3) * hidden_size;
  for (std::size_t layer = 0; layer < num_layers; ++layer) {
    const std::size_t in = layer == 0 ? input_size : hidden_size * directions_;
    for (std::size_t d = 0; d < directions_; ++d) {
      const std::string suffix = fmt::format("_l{}{}", layer, d == 1 ? "_reverse" : "");
      auto draw = [&](const Shape& shape) { return init::uniform<T>(shape, -bound, bound, gen); };
      Pass pass;
      pass.weight_ih = this->register_parameter("weight_ih" + suffix, draw({rows, in}));
      pass.weight_hh = this->register_parameter("weight_hh" + suffix, draw({rows, hidden_size}));
      if (bias) {
        pass.bias_ih = this->register_parameter("bias_ih" + suffix, draw({rows}));
        pass.bias_hh = this->register_parameter("bias_hh" + suffix, draw({rows}));
      }
      passes_.push_back(pass);
    }
  }
}

template <class T>
std::string RNNBase<T>::describe() const {
  std::string extra;
  if (num_layers_ != 1) extra += fmt::format(", num_layers={}", num_layers_);
  if (!passes_.front().bias_ih.defined()) extra += ", bias=False";
  if (batch_first_) extra += ", batch_first=True";
  if (dropout_ != 0) extra += fmt::format(", dropout={}", dropout_);
  if (directions_ == 2) extra += ", bidirectional=True";
  return fmt::format("{}({}, {}{})", name(), input_size_, hidden_size_, extra);
}

template <class T>
typename RNNBase<T>::Sequence RNNBase<T>::prepare(const Variable<T>& input, const RNNState<T>& state) const {
  const Shape shape = input.shape();
  if (shape.size() != 2 && shape.size() != 3) {
    fail(name(), "input must be 3-D ({}) or 2-D unbatched (L, input_size), got shape {}",
         batch_first_ ? "N, L, input_size" : "L, N, input_size", format_shape(shape));
  }
  if (shape.back() != input_size_) {
    fail(name(), "input of shape {} has {} features, expected input_size {}", format_shape(shape), shape.back(),
         input_size_);
  }
  Sequence seq;
  seq.unbatched = shape.size() == 2;  // (L, F): PyTorch ignores batch_first here
  Variable<T> x = seq.unbatched ? reshape(input, {shape[0], 1, shape[1]}) : input;
  seq.time_axis = batch_first_ && !seq.unbatched ? 1 : 0;
  seq.batch = seq.unbatched ? 1 : shape[1 - seq.time_axis];
  const std::size_t length = seq.unbatched ? shape[0] : shape[seq.time_axis];
  if (length == 0) fail(name(), "the input sequence is empty (shape {})", format_shape(shape));

  const std::size_t layers = num_layers_ * directions_;
  const Shape expected = seq.unbatched ? Shape{layers, hidden_size_} : Shape{layers, seq.batch, hidden_size_};
  auto checked = [&](const Variable<T>& v, const char* what) {
    if (v.shape() != expected) {
      fail(name(), "{} has shape {}, expected {} (num_layers * num_directions, N, hidden_size) for an input of shape {}",
           what, format_shape(v.shape()), format_shape(expected), format_shape(shape));
    }
    return seq.unbatched ? reshape(v, {layers, 1, hidden_size_}) : v;
  };
  if (state.h.defined()) seq.state.h = checked(state.h, "hidden state h");
  if (kind_ == Kind::lstm) {
    if (state.c.defined()) seq.state.c = checked(state.c, "cell state c");
  } else if (state.c.defined()) {
    fail(name(), "has no cell state, but the state's c is defined (shape {})", format_shape(state.c.shape()));
  }

  seq.input = std::move(x);
  seq.length = length;
  return seq;
}

// The input projections of all steps are one GEMM over the whole sequence (PyTorch's biases
// b_ih + b_hh of the LSTM folded into it); each step adds only the hidden projection of the
// state it reads.
template <class T>
RNNState<T> RNNBase<T>::run(const Pass& pass, bool reverse, const Variable<T>& input, int time_axis,
                            RNNState<T> state, Variable<T>& output) const {
  const std::size_t length = input.shape()[static_cast<std::size_t>(time_axis)];
  std::vector<Variable<T>> outputs(length);
  auto step_at = [&](std::size_t s) { return reverse ? length - 1 - s : s; };
  if (kind_ == Kind::lstm) {
    const Variable<T> bias = detail::lstm_input_bias(pass.bias_ih, pass.bias_hh);
    const ProjectedSequence<T> projected(linear(input, pass.weight_ih, bias), time_axis, pass.weight_hh);
    for (std::size_t s = 0; s < length; ++s) {
      const std::size_t t = step_at(s);
      auto [h, c] = lstm_cell_pointwise(projected.gates(t, state.h), state.c);
      state = RNNState<T>{std::move(h), std::move(c)};
      outputs[t] = state.h;
    }
  } else {
    const std::vector<Variable<T>> projected = split(linear(input, pass.weight_ih, pass.bias_ih), 1, time_axis);
    for (std::size_t s = 0; s < length; ++s) {
      const std::size_t t = step_at(s);
      state.h = detail::gru_step(projected[t], state.h, pass.weight_hh, pass.bias_hh);
      outputs[t] = state.h;
    }
  }
  output = length == 1 ? outputs.front() : concat(outputs, time_axis);
  return state;
}

template <class T>
RNNOutput<T> RNNBase<T>::forward_with_state(const Variable<T>& x, const RNNState<T>& initial) {
  Sequence seq = prepare(x, initial);
  const std::size_t hidden = hidden_size_;
  const bool time_second = seq.time_axis == 1;
  const int time_axis = static_cast<int>(seq.time_axis);
  // The state's (1, N, H) slices in the steps' layout, and back.
  const Shape step_shape = time_second ? Shape{seq.batch, 1, hidden} : Shape{1, seq.batch, hidden};
  const Shape state_shape{1, seq.batch, hidden};
  auto in_step_layout = [&](const Variable<T>& all) {
    std::vector<Variable<T>> parts;
    if (!all.defined()) return parts;
    parts = split(all, 1, 0);
    if (time_second) {
      for (auto& part : parts) part = reshape(part, step_shape);
    }
    return parts;
  };
  auto in_state_layout = [&](const Variable<T>& v) { return time_second ? reshape(v, state_shape) : v; };
  const std::vector<Variable<T>> initial_h = in_step_layout(seq.state.h), initial_c = in_step_layout(seq.state.c);

  std::vector<Variable<T>> final_h, final_c;
  const bool drop = this->is_training() && dropout_ > 0;
  Variable<T> input = seq.input;
  for (std::size_t layer = 0; layer < num_layers_; ++layer) {
    if (layer > 0 && drop) input = tg::dropout(input, static_cast<T>(dropout_), true, *gen_);  // as PyTorch
    std::vector<Variable<T>> outputs(directions_);
    for (std::size_t d = 0; d < directions_; ++d) {
      const std::size_t index = layer * directions_ + d;
      RNNState<T> state;  // an undefined h or c is zeros
      if (!initial_h.empty()) state.h = initial_h[index];
      else if (kind_ == Kind::gru) state.h = Variable<T>(Tensor<T>(xt::zeros<T>(step_shape)));
      if (!initial_c.empty()) state.c = initial_c[index];
      state = run(passes_[index], d == 1, input, time_axis, std::move(state), outputs[d]);
      final_h.push_back(in_state_layout(state.h));
      if (kind_ == Kind::lstm) final_c.push_back(in_state_layout(state.c));
    }
    input = directions_ == 1 ? outputs.front() : concat(outputs, -1);
  }

  RNNOutput<T> out;
  out.output = input;
  out.state.h = final_h.size() == 1 ? final_h.front() : concat(final_h, 0);
  if (kind_ == Kind::lstm) out.state.c = final_c.size() == 1 ? final_c.front() : concat(final_c, 0);
  if (seq.unbatched) {
    out.output = reshape(out.output, {seq.length, directions_ * hidden});
    out.state.h = reshape(out.state.h, {num_layers_ * directions_, hidden});
    if (out.state.c.defined()) out.state.c = reshape(out.state.c, {num_layers_ * directions_, hidden});
  }
  return out;
}

TG_INSTANTIATE_CLASS(RNNBase)
TG_INSTANTIATE_CLASS(LSTM)
TG_INSTANTIATE_CLASS(GRU)

}  // namespace tg::nn
