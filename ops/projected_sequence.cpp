// ProjectedSequence: a recurrent layer's input projection, read one step at a time.
//
// Cutting the projection into steps with split and then adding h·W_hhᵀ to a step costs two copies
// of each step's rows; reading the rows straight into the GEMM's output costs one. Like split, the
// steps hang off one node (its output a token scalar) that receives their gradients for the
// projection (detail::RunDeposits) and joins them with one concat, recorded under create_graph.
#include "recurrent.hpp"

#include <memory>
#include <vector>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/gemm.hpp"
#include "detail/linalg_backward.hpp"
#include "detail/run_deposits.hpp"
#include "detail/shape_kernels.hpp"
#include "shape.hpp"

namespace tg {

using detail::Gradients;

// The projection seen as (outer, length, inner) along the time axis.
template <class T>
struct ProjectedSequence<T>::Layout {
  Shape step_shape;
  std::size_t outer = 1, inner = 1, time_axis = 0;
};

// What one run of the engine has gathered from the steps.
template <class T>
struct ProjectedSequence<T>::RunState {
  std::vector<Variable<T>> steps;  // each step's gradient for its rows, by step
  Tensor<T> weight_grad;           // the sum of the steps' dgatesᵀ·h, first order only
  bool has_weight_grad = false;
};

template <class T>
ProjectedSequence<T>::ProjectedSequence(const Variable<T>& projected, int time_axis, const Variable<T>& weight_hh)
    : projected_(projected), weight_(weight_hh) {
  if (!projected.defined()) fail("ProjectedSequence", "the projection is an undefined Variable");
  if (!weight_hh.defined()) fail("ProjectedSequence", "weight_hh is an undefined Variable");
  const Shape shape = projected.shape(), w_shape = weight_hh.shape();
  if (shape.size() < 2) {
    fail("ProjectedSequence", "the projection must have a time axis and features, got shape {}", format_shape(shape));
  }
  if (w_shape.size() != 2 || w_shape[0] != shape.back()) {
    fail("ProjectedSequence", "weight_hh of shape {} does not fit a projection of shape {}: expected ({}, H)",
         format_shape(w_shape), format_shape(shape), shape.back());
  }
  auto layout = std::make_shared<Layout>();
  layout->time_axis = detail::checked_axis("ProjectedSequence", time_axis, shape);
  if (layout->time_axis + 1 == shape.size()) {
    fail("ProjectedSequence", "the time axis {} of shape {} is its feature axis", time_axis, format_shape(shape));
  }
  length_ = shape[layout->time_axis];
  for (std::size_t d = 0; d < layout->time_axis; ++d) layout->outer *= shape[d];
  for (std::size_t d = layout->time_axis + 1; d < shape.size(); ++d) layout->inner *= shape[d];
  layout->step_shape = shape;
  layout->step_shape[layout->time_axis] = 1;
  layout_ = layout;
  if (!detail::records(&projected_, &projected_ + 1) && !detail::records(&weight_, &weight_ + 1)) return;

  runs_ = std::make_shared<detail::PerRun<RunState>>();
  joined_ = detail::record<T>(
      "projected_sequence", detail::token_value<T>(), {projected_, weight_}, detail::saves_nothing(),
      [runs = runs_, layout = layout_, length = length_](Variable<T>, const Variable<T>&) {
        RunState run = runs->take();
        Gradients<T> grads(2);
        if (run.has_weight_grad) grads[1] = detail::constant(std::move(run.weight_grad));
        if (run.steps.empty()) return grads;  // the projection needs no gradient
        grads[0] = detail::join_gradients<T>(
            std::move(run.steps), length, [&](std::size_t) { return layout->step_shape; },
            static_cast<int>(layout->time_axis));
        return grads;
      });
}

template <class T>
Variable<T> ProjectedSequence<T>::gates(std::size_t t, const Variable<T>& h) const {
  const Layout& layout = *layout_;
  if (t >= length_) fail("ProjectedSequence", "step {} is out of range for a sequence of {} steps", t, length_);
  const std::size_t features = layout.step_shape.back(), rows = element_count(layout.step_shape) / features;
  const std::size_t hidden = weight_.shape()[1];
  if (h.defined()) {
    Shape expected = layout.step_shape;
    expected.back() = hidden;
    if (h.shape() != expected) {
      fail("recurrent_gates", "h of shape {} does not fit a step of shape {} and weight_hh of shape {}: expected {}",
           format_shape(h.shape()), format_shape(layout.step_shape), format_shape(weight_.shape()),
           format_shape(expected));
    }
  }
  Tensor<T> out = Tensor<T>::from_shape(layout.step_shape);
  detail::take_middle(projected_.value().data(), out.data(), layout.outer, length_, layout.inner, t, 1, 1);
  if (h.defined()) {
    detail::gemm<T>(false, true, rows, features, hidden, T(1), h.value().data(), hidden, weight_.value().data(),
                    hidden, T(1), out.data(), features);
  }
  // The step's gradient for its rows goes to joined_ (through runs_); so does W_hh's, summed in
  // one buffer, except under create_graph, where each step's product is a recorded op of its own.
  auto hand_in = [t, runs = runs_, projection_needed = projected_.requires_grad()](
                     Variable<T> g, const Variable<T>& h_for_weight, Gradients<T>& grads) {
    if (!runs) return;  // neither the projection nor W_hh needs a gradient
    runs->update([&](RunState& run) {
      if (h_for_weight.defined()) {  // W_hh's gradient += gᵀ·h, in the GEMM
        const Shape g_shape = g.shape();
        const std::size_t features = g_shape.back(), hidden = h_for_weight.shape().back();
        if (!run.has_weight_grad) run.weight_grad = Tensor<T>::from_shape({features, hidden});
        detail::gemm<T>(true, false, features, hidden, element_count(g_shape) / features, T(1), g.value().data(),
                        features, h_for_weight.value().data(), hidden, run.has_weight_grad ? T(1) : T(0),
                        run.weight_grad.data(), hidden);
        run.has_weight_grad = true;
      }
      if (projection_needed) {
        if (run.steps.size() <= t) run.steps.resize(t + 1);
        run.steps[t] = std::move(g);
      }
    });
    grads[0] = detail::token_gradient<T>();
  };
  if (!h.defined()) {
    return detail::record<T>("sequence_step", std::move(out), {joined_}, detail::saves_nothing(),
                             [hand_in](Variable<T> g, const Variable<T>&) {
                               Gradients<T> grads(1);
                               hand_in(std::move(g), Variable<T>(), grads);
                               return grads;
                             });
  }
  return detail::record<T>(
      "recurrent_gates", std::move(out), {joined_, h, weight_}, detail::saves_inputs({1, 2}),
      [h, weight = weight_, hand_in](Variable<T> g, const Variable<T>&) {
        Gradients<T> grads(3);
        const char* name = "recurrent_gates_backward";
        if (h.requires_grad()) grads[1] = detail::mm<T>(name, g, weight, false, false);  // G·W_hh
        const bool weight_needed = weight.requires_grad();
        if (weight_needed && grad_enabled()) grads[2] = detail::mm<T>(name, g, h, true, false);  // Gᵀ·h
        hand_in(std::move(g), weight_needed && !grad_enabled() ? h : Variable<T>(), grads);
        return grads;
      });
}

#define TG_FUNCTIONS(T) template class ProjectedSequence<T>;
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg

