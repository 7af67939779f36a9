#include "rnn_cells.hpp"

#include <fmt/format.h>

#include <cmath>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "../ops/shape.hpp"
#include "detail/rnn_steps.hpp"
#include "init.hpp"

namespace tg::nn {
namespace {

template <class T>
Variable<T> zeros_variable(const Shape& shape) {
  return Variable<T>(Tensor<T>(xt::zeros<T>(shape)));
}

}  // namespace

template <class T>
RNNCellBase<T>::RNNCellBase(const char* name, std::size_t gates, std::size_t input_size, std::size_t hidden_size,
                            bool bias, Generator& gen)
    : name_(name), input_size_(input_size), hidden_size_(hidden_size) {
  if (hidden_size == 0) fail(name, "hidden_size must be positive, got 0");
  // PyTorch's RNNCellBase.reset_parameters: every parameter U(-1/sqrt(H), 1/sqrt(H)), in this order.
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  const std::size_t rows = gates * hidden_size;
  weight_ih_ = this->register_parameter("weight_ih", init::uniform<T>({rows, input_size}, -bound, bound, gen));
  weight_hh_ = this->register_parameter("weight_hh", init::uniform<T>({rows, hidden_size}, -bound, bound, gen));
  if (bias) {
    bias_ih_ = this->register_parameter("bias_ih", init::uniform<T>({rows}, -bound, bound, gen));
    bias_hh_ = this->register_parameter("bias_hh", init::uniform<T>({rows}, -bound, bound, gen));
  }
}

template <class T>
std::string RNNCellBase<T>::describe() const {
  return fmt::format("{}({}, {}{})", name_, input_size_, hidden_size_, bias_ih_.defined() ? "" : ", bias=False");
}

template <class T>
RNNState<T> RNNCellBase<T>::prepare(Variable<T>& x, const RNNState<T>& state, bool with_cell, bool& unbatched) const {
  const Shape shape = x.shape();
  if (shape.size() != 1 && shape.size() != 2) {
    fail(name_, "input must be 2-D (N, input_size) or 1-D (input_size), got shape {}", format_shape(shape));
  }
  if (shape.back() != input_size_) {
    fail(name_, "input of shape {} has {} features, expected input_size {}", format_shape(shape), shape.back(),
         input_size_);
  }
  unbatched = shape.size() == 1;
  const std::size_t batch = unbatched ? 1 : shape[0];
  const Shape expected = unbatched ? Shape{hidden_size_} : Shape{batch, hidden_size_};
  if (unbatched) x = reshape(x, {1, input_size_});
  auto checked = [&](const Variable<T>& v, const char* what) {
    if (v.shape() != expected) {
      fail(name_, "{} has shape {}, expected {} for an input of shape {}", what, format_shape(v.shape()),
           format_shape(expected), format_shape(shape));
    }
    return unbatched ? reshape(v, {1, hidden_size_}) : v;
  };
  RNNState<T> out;
  out.h = state.h.defined() ? checked(state.h, "hidden state h") : zeros_variable<T>({batch, hidden_size_});
  if (with_cell) {
    if (state.c.defined()) out.c = checked(state.c, "cell state c");
  } else if (state.c.defined()) {
    fail(name_, "has no cell state, but the state's c is defined (shape {})", format_shape(state.c.shape()));
  }
  return out;
}

template <class T>
RNNOutput<T> RNNCellBase<T>::finish(RNNState<T> state, bool unbatched) const {
  if (unbatched) {
    state.h = reshape(state.h, {hidden_size_});
    if (state.c.defined()) state.c = reshape(state.c, {hidden_size_});
  }
  return RNNOutput<T>{state.h, state};
}

template <class T>
template <class Step>
RNNOutput<T> RNNCellBase<T>::step_with(const Variable<T>& input, const RNNState<T>& state, bool with_cell,
                                       Step step) const {
  Variable<T> x = input;
  bool unbatched = false;
  const RNNState<T> start = prepare(x, state, with_cell, unbatched);
  return finish(step(x, start), unbatched);
}

template <class T>
RNNOutput<T> LSTMCell<T>::forward_with_state(const Variable<T>& input, const RNNState<T>& state) {
  return this->step_with(input, state, true, [this](const Variable<T>& x, const RNNState<T>& start) {
    const Variable<T> projected =
        linear(x, this->weight_ih_, detail::lstm_input_bias(this->bias_ih_, this->bias_hh_));
    auto [h, c] = detail::lstm_step(projected, start.h, start.c, this->weight_hh_);
    return RNNState<T>{h, c};
  });
}

template <class T>
RNNOutput<T> GRUCell<T>::forward_with_state(const Variable<T>& input, const RNNState<T>& state) {
  return this->step_with(input, state, false, [this](const Variable<T>& x, const RNNState<T>& start) {
    const Variable<T> projected = linear(x, this->weight_ih_, this->bias_ih_);
    return RNNState<T>{detail::gru_step(projected, start.h, this->weight_hh_, this->bias_hh_), Variable<T>()};
  });
}

TG_INSTANTIATE_CLASS(RNNCellBase)
TG_INSTANTIATE_CLASS(LSTMCell)
TG_INSTANTIATE_CLASS(GRUCell)

}  // namespace tg::nn
