#include "rnn.hpp"

#include <fmt/format.h>

#include <cmath>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "../ops/dropout.hpp"
#include "../ops/shape.hpp"
#include "detail/rnn_steps.hpp"
#include "init.hpp"

namespace tg::nn {

// The input cut into steps and the initial state, checked. Every per-step tensor keeps the
// input's layout with a time extent of 1 ((1, N, F), or (N, 1, F) with batch_first), so the
// steps need no reshape and the output is one concat along the time axis.
template <class T>
struct RNNBase<T>::Sequence {
  std::vector<std::vector<Variable<T>>> steps;  // step t's input, as pieces to join on the last axis
  RNNState<T> state;                           // (num_layers·D, N, H) each, or undefined (zeros)
  std::size_t time_axis = 0, batch = 0;
  bool unbatched = false;
};

namespace {

// Steps [first, first + v's extent) of `v` along `axis` into steps[first...], by halving. A slice's
// gradient is a tensor of its whole input's size, so L slices of the whole sequence would cost
// L whole-sequence tensors in backward; halving costs about two per level, log2(L) levels.
template <class T>
void cut_in_halves(const Variable<T>& v, int axis, std::size_t first, std::size_t count,
                   std::vector<std::vector<Variable<T>>>& steps) {
  if (count == 1) {
    steps[first].push_back(v);
    return;
  }
  const auto half = static_cast<std::int64_t>(count / 2), end = static_cast<std::int64_t>(count);
  cut_in_halves(slice(v, axis, 0, half), axis, first, count / 2, steps);
  cut_in_halves(slice(v, axis, half, end), axis, first + count / 2, count - count / 2, steps);
}

}  // namespace

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

  seq.steps.resize(length);
  const int axis = static_cast<int>(seq.time_axis);
  if (will_record<T>({x})) {
    cut_in_halves(x, axis, 0, length, seq.steps);
  } else {  // only the forward copies count: one slice per step
    for (std::size_t t = 0; t < length; ++t) {
      const auto at = static_cast<std::int64_t>(t);
      seq.steps[t].push_back(slice(x, axis, at, at + 1));
    }
  }
  return seq;
}

template <class T>
RNNState<T> RNNBase<T>::run(const Pass& pass, bool reverse, const std::vector<std::vector<Variable<T>>>& steps,
                            RNNState<T> state, std::vector<std::vector<Variable<T>>>& outputs) const {
  const std::size_t length = steps.size();
  if (kind_ == Kind::lstm) {
    const detail::LSTMGates<T> gates =
        detail::lstm_gates(pass.weight_ih, pass.weight_hh, pass.bias_ih, pass.bias_hh);
    for (std::size_t s = 0; s < length; ++s) {
      const std::size_t t = reverse ? length - 1 - s : s;
      auto [h, c] = detail::lstm_step(steps[t], state.h, state.c, gates);
      state = RNNState<T>{h, c};
      outputs[t].push_back(h);
    }
  } else {
    const detail::GRUGates<T> gates =
        detail::gru_gates(pass.weight_ih, pass.weight_hh, pass.bias_ih, pass.bias_hh, hidden_size_);
    for (std::size_t s = 0; s < length; ++s) {
      const std::size_t t = reverse ? length - 1 - s : s;
      state.h = detail::gru_step(steps[t], state.h, gates);
      outputs[t].push_back(state.h);
    }
  }
  return state;
}

template <class T>
RNNOutput<T> RNNBase<T>::forward_with_state(const Variable<T>& x, const RNNState<T>& initial) {
  Sequence seq = prepare(x, initial);
  const std::size_t length = seq.steps.size(), hidden = hidden_size_;
  const bool time_second = seq.time_axis == 1;
  // A state slice (1, N, H) in the steps' layout, and back.
  const Shape step_shape = time_second ? Shape{seq.batch, 1, hidden} : Shape{1, seq.batch, hidden};
  const Shape state_shape{1, seq.batch, hidden};
  auto initial_part = [&](const Variable<T>& all, std::size_t index) {
    const auto at = static_cast<std::int64_t>(index);
    const Variable<T> part = slice(all, 0, at, at + 1);
    return time_second ? reshape(part, step_shape) : part;
  };
  auto final_part = [&](const Variable<T>& v) { return time_second ? reshape(v, state_shape) : v; };

  std::vector<Variable<T>> final_h, final_c;
  const bool drop = this->is_training() && dropout_ > 0;
  for (std::size_t layer = 0; layer < num_layers_; ++layer) {
    if (layer > 0 && drop) {  // between layers only, like PyTorch
      for (auto& pieces : seq.steps) {
        for (auto& piece : pieces) piece = tg::dropout(piece, static_cast<T>(dropout_), true, *gen_);
      }
    }
    std::vector<std::vector<Variable<T>>> outputs(length);
    for (std::size_t d = 0; d < directions_; ++d) {
      const std::size_t index = layer * directions_ + d;
      RNNState<T> state;
      state.h = seq.state.h.defined() ? initial_part(seq.state.h, index)
                                      : Variable<T>(Tensor<T>(xt::zeros<T>(step_shape)));
      if (seq.state.c.defined()) state.c = initial_part(seq.state.c, index);  // undefined: zeros
      state = run(passes_[index], d == 1, seq.steps, std::move(state), outputs);
      final_h.push_back(final_part(state.h));
      if (kind_ == Kind::lstm) final_c.push_back(final_part(state.c));
    }
    seq.steps = std::move(outputs);
  }

  std::vector<Variable<T>> per_step;
  per_step.reserve(length);
  for (const auto& pieces : seq.steps) per_step.push_back(detail::join_features(pieces));
  RNNOutput<T> out;
  out.output = length == 1 ? per_step.front() : concat(per_step, static_cast<int>(seq.time_axis));
  out.state.h = final_h.size() == 1 ? final_h.front() : concat(final_h, 0);
  if (kind_ == Kind::lstm) out.state.c = final_c.size() == 1 ? final_c.front() : concat(final_c, 0);
  if (seq.unbatched) {
    out.output = reshape(out.output, {length, directions_ * hidden});
    out.state.h = reshape(out.state.h, {num_layers_ * directions_, hidden});
    if (out.state.c.defined()) out.state.c = reshape(out.state.c, {num_layers_ * directions_, hidden});
  }
  return out;
}

TG_INSTANTIATE_CLASS(RNNBase)
TG_INSTANTIATE_CLASS(LSTM)
TG_INSTANTIATE_CLASS(GRU)

}  // namespace tg::nn
