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

template <class T>
ProjectedSequence<T>::ProjectedSequence(const Variable<T>& projected, int time_axis) : projected_(projected) {
  if (!projected.defined()) fail("ProjectedSequence", "the projection is an undefined Variable");
  const Shape shape = projected.shape();
  if (shape.size() < 2) {
    fail("ProjectedSequence", "the projection must have a time axis and features, got shape {}", format_shape(shape));
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
  if (!detail::records(&projected_, &projected_ + 1)) return;

  deposits_ = std::make_shared<detail::RunDeposits<Variable<T>>>();
  joined_ = detail::record<T>(
      "projected_sequence", Tensor<T>(T(0)), {projected_}, detail::saves_nothing(),
      [deposits = deposits_, layout = layout_, length = length_](Variable<T>, const Variable<T>&) {
        std::vector<Variable<T>> steps = deposits->take();
        steps.resize(length);
        for (auto& g : steps) {
          if (!g.defined()) g = detail::constant<T>(Tensor<T>(xt::zeros<T>(layout->step_shape)));
        }
        return detail::single(length == 1 ? steps.front() : concat(steps, static_cast<int>(layout->time_axis)));
      });
}

template <class T>
Variable<T> ProjectedSequence<T>::gates(std::size_t t, const Variable<T>& h, const Variable<T>& weight_hh) const {
  const Layout& layout = *layout_;
  if (t >= length_) fail("ProjectedSequence", "step {} is out of range for a sequence of {} steps", t, length_);
  const std::size_t features = layout.step_shape.back(), rows = element_count(layout.step_shape) / features;
  if (h.defined()) {
    const Shape h_shape = h.shape(), w_shape = weight_hh.shape();
    Shape expected = layout.step_shape;
    if (w_shape.size() == 2) expected.back() = w_shape[1];
    if (w_shape.size() != 2 || w_shape[0] != features || h_shape != expected) {
      fail("recurrent_gates", "h of shape {} and weight_hh of shape {} do not fit a step of shape {} (h {}, W_hh ({}, H))",
           format_shape(h_shape), format_shape(w_shape), format_shape(layout.step_shape), format_shape(expected),
           features);
    }
  }
  Tensor<T> out = Tensor<T>::from_shape(layout.step_shape);
  detail::take_middle(projected_.value().data(), out.data(), layout.outer, length_, layout.inner, t, 1, 1);
  if (h.defined()) {
    const std::size_t hidden = weight_hh.shape()[1];
    detail::gemm<T>(false, true, rows, features, hidden, T(1), h.value().data(), hidden, weight_hh.value().data(),
                    hidden, T(1), out.data(), features);
  }
  // The steps' gradient for the projection goes to joined_ (undefined when the projection needs
  // none); W_hh and h are read by the backward, so their versions are checked.
  auto hand_in = [t, deposits = deposits_](Variable<T> g, Gradients<T>& grads) {
    if (!deposits) return;
    deposits->hand_in(t, std::move(g));
    grads[0] = detail::constant(Tensor<T>(T(0)));
  };
  if (!h.defined()) {
    return detail::record<T>("sequence_step", std::move(out), {joined_}, detail::saves_nothing(),
                             [hand_in](Variable<T> g, const Variable<T>&) {
                               Gradients<T> grads(1);
                               hand_in(std::move(g), grads);
                               return grads;
                             });
  }
  return detail::record<T>("recurrent_gates", std::move(out), {joined_, h, weight_hh}, detail::saves_inputs({1, 2}),
                           [h, weight_hh, hand_in](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(3);
                             const char* name = "recurrent_gates_backward";
                             if (h.requires_grad()) grads[1] = detail::mm<T>(name, g, weight_hh, false, false);
                             if (weight_hh.requires_grad()) grads[2] = detail::mm<T>(name, g, h, true, false);
                             hand_in(std::move(g), grads);
                             return grads;
                           });
}

#define TG_FUNCTIONS(T) template class ProjectedSequence<T>;
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg

