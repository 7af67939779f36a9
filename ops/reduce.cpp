#include "reduce.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "../core/detail/instantiate.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/broadcast.hpp"
#include "detail/reduce_kernels.hpp"
#include "shape.hpp"

namespace tg {
namespace {

using detail::Gradients;

std::size_t product(const Shape& s, std::size_t begin, std::size_t end) {
  std::size_t n = 1;
  for (std::size_t d = begin; d < end; ++d) n *= s[d];
  return n;
}

// The shape after reducing `axes` (sorted), with them kept as 1s or dropped.
Shape reduced_shape(const Shape& shape, const std::vector<std::size_t>& axes, bool keepdim) {
  Shape out;
  std::size_t next = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const bool reduced = next < axes.size() && axes[next] == d;
    if (reduced) ++next;
    if (!reduced) out.push_back(shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// Sums `x` over the sorted `axes`, keeping them as 1s: one (outer, n, inner) pass per run of
// adjacent axes, from the last run to the first.
template <class T>
Tensor<T> sum_keepdim(const Tensor<T>& x, const std::vector<std::size_t>& axes) {
  Shape shape = shape_of(x);
  if (axes.empty()) return x;
  Tensor<T> current;
  const T* src = x.data();
  std::size_t i = axes.size();
  while (i > 0) {
    const std::size_t last = axes[--i];
    std::size_t first = last;
    while (i > 0 && axes[i - 1] == first - 1) first = axes[--i];
    const std::size_t outer = product(shape, 0, first);
    const std::size_t n = product(shape, first, last + 1);
    const std::size_t inner = product(shape, last + 1, shape.size());
    for (std::size_t d = first; d <= last; ++d) shape[d] = 1;
    Tensor<T> next = Tensor<T>::from_shape(shape);
    detail::sum_middle(src, next.data(), outer, n, inner);
    current = std::move(next);
    src = current.data();
  }
  return current;
}

// A reduction by sum (scale 1) or mean (scale 1 / count) over `axes`, and how it is undone.
struct Reduction {
  const char* name;
  std::vector<std::size_t> axes;  // sorted
  bool keepdim;
  Shape in_shape, keep_shape;     // keep_shape: in_shape with the reduced axes as 1s
  bool average;                   // mean: divided by count, the number of elements reduced into one
  std::size_t count;
};

template <class T>
Variable<T> reduce(const Variable<T>& a, std::shared_ptr<const Reduction> r);

// The backward of a reduction: g broadcast back over the reduced axes, times the scale. Its own
// derivative is the reduction again.
template <class T>
Variable<T> spread(const Variable<T>& g, std::shared_ptr<const Reduction> r) {
  Tensor<T> out = Tensor<T>::from_shape(r->in_shape);
  const T scale = r->average ? static_cast<T>(1.0 / static_cast<double>(r->count)) : T(1);
  detail::expand_scaled(g.value().data(), r->keep_shape, out.data(), r->in_shape, scale);
  std::string name = std::string(r->name) + "_backward";
  return detail::record<T>(std::move(name), std::move(out), {g}, detail::saves_nothing(),
                           [r](Variable<T> u, const Variable<T>&) { return detail::single(reduce(u, r)); });
}

template <class T>
Variable<T> reduce(const Variable<T>& a, std::shared_ptr<const Reduction> r) {
  Tensor<T> out = sum_keepdim(a.value(), r->axes);
  if (r->average) {
    // Divides (does not multiply by 1/count), so a mean is exactly sum / count; 0 / 0 gives NaN for
    // an empty mean, as in PyTorch.
    const T count = static_cast<T>(r->count);
    for (auto& v : out) v /= count;
  }
  out.reshape(reduced_shape(r->in_shape, r->axes, r->keepdim));
  return detail::record<T>(r->name, std::move(out), {a}, detail::saves_nothing(),
                           [r](Variable<T> g, const Variable<T>&) { return detail::single(spread(g, r)); });
}

template <class T>
Variable<T> sum_or_mean(const char* name, const Variable<T>& a, const Axes& axes_in, bool keepdim, bool average) {
  auto r = std::make_shared<Reduction>();
  r->name = name;
  r->in_shape = a.shape();
  r->axes = detail::checked_axes(name, axes_in, r->in_shape);
  r->keepdim = keepdim;
  r->keep_shape = reduced_shape(r->in_shape, r->axes, true);
  r->average = average;
  r->count = 1;
  for (std::size_t d : r->axes) r->count *= r->in_shape[d];
  return reduce<T>(a, std::move(r));
}

// Where max (or min) took each value from: the input viewed as (outer, n, inner).
struct ArgMax {
  const char* name;  // "max" or "min", for the names of the recorded ops
  Shape in_shape, out_shape;
  std::size_t outer, n, inner;
  std::vector<std::size_t> index;  // outer * inner positions along the axis
};

template <class T>
Variable<T> gather_max(const Variable<T>& u, std::shared_ptr<const ArgMax> m);

// max's backward: g scattered to the positions of the maxima, zeros elsewhere; its derivative
// gathers from those positions.
template <class T>
Variable<T> scatter_max(const Variable<T>& g, std::shared_ptr<const ArgMax> m) {
  Tensor<T> out = xt::zeros<T>(m->in_shape);
  detail::max_middle_backward(g.value().data(), m->index.data(), out.data(), m->outer, m->n, m->inner);
  return detail::record<T>(std::string(m->name) + "_backward", std::move(out), {g}, detail::saves_nothing(),
                           [m](Variable<T> u, const Variable<T>&) { return detail::single(gather_max(u, m)); });
}

template <class T>
Variable<T> gather_max(const Variable<T>& u, std::shared_ptr<const ArgMax> m) {
  Tensor<T> out = Tensor<T>::from_shape(m->out_shape);
  detail::gather_middle(u.value().data(), m->index.data(), out.data(), m->outer, m->n, m->inner);
  return detail::record<T>(std::string(m->name) + "_backward_backward", std::move(out), {u}, detail::saves_nothing(),
                           [m](Variable<T> v, const Variable<T>&) { return detail::single(scatter_max(v, m)); });
}

}  // namespace

template <class T>
Variable<T> sum(const Variable<T>& a) {
  return sum_or_mean<T>("sum", a, Axes{}, false, false);
}

template <class T>
Variable<T> sum(const Variable<T>& a, const Axes& axes, bool keepdim) {
  return sum_or_mean<T>("sum", a, axes, keepdim, false);
}

template <class T>
Variable<T> mean(const Variable<T>& a) {
  return sum_or_mean<T>("mean", a, Axes{}, false, true);
}

template <class T>
Variable<T> mean(const Variable<T>& a, const Axes& axes, bool keepdim) {
  return sum_or_mean<T>("mean", a, axes, keepdim, true);
}

namespace {

// The maximum (largest) or minimum along an axis, with the gradient to the first extremal element
// (the index torch.max(dim) / torch.min(dim) return).
template <class T>
Variable<T> extremum(const char* name, const Variable<T>& a, int axis_in, bool keepdim, bool largest) {
  const Shape shape = a.shape();
  const std::size_t axis = detail::checked_axis(name, axis_in, shape);
  if (shape.empty()) {  // a 0-d tensor is its own extremum
    return detail::record<T>(name, a.value(), {a}, detail::saves_nothing(),
                             [](Variable<T> g, const Variable<T>&) { return detail::single(g); });
  }
  if (shape[axis] == 0) {
    fail(name, "cannot take the {} over axis {} of a tensor of shape {}: that axis is empty",
         largest ? "maximum" : "minimum", axis_in, format_shape(shape));
  }
  auto m = std::make_shared<ArgMax>();
  m->name = name;
  m->in_shape = shape;
  m->out_shape = reduced_shape(shape, {axis}, keepdim);
  m->outer = product(shape, 0, axis);
  m->n = shape[axis];
  m->inner = product(shape, axis + 1, shape.size());
  m->index.resize(m->outer * m->inner);
  Tensor<T> out = Tensor<T>::from_shape(m->out_shape);
  if (largest) {
    detail::max_middle(a.value().data(), out.data(), m->index.data(), m->outer, m->n, m->inner);
  } else {
    detail::min_middle(a.value().data(), out.data(), m->index.data(), m->outer, m->n, m->inner);
  }
  return detail::record<T>(name, std::move(out), {a}, detail::saves_nothing(),
                           [m = std::shared_ptr<const ArgMax>(std::move(m))](Variable<T> g, const Variable<T>&) {
                             return detail::single(scatter_max(g, m));
                           });
}

}  // namespace

template <class T>
Variable<T> max(const Variable<T>& a, int axis, bool keepdim) {
  return extremum("max", a, axis, keepdim, true);
}

template <class T>
Variable<T> min(const Variable<T>& a, int axis, bool keepdim) {
  return extremum("min", a, axis, keepdim, false);
}

template <class T>
Indices argmax(const Variable<T>& a, int axis_in) {
  const Shape shape = a.shape();
  const std::size_t axis = detail::checked_axis("argmax", axis_in, shape);
  if (shape.empty()) return Indices(std::int64_t{0});  // a 0-d tensor: its only element
  if (shape[axis] == 0) {
    fail("argmax", "cannot take the argmax over axis {} of a tensor of shape {}: that axis is empty", axis_in,
         format_shape(shape));
  }
  const std::size_t outer = product(shape, 0, axis), n = shape[axis], inner = product(shape, axis + 1, shape.size());
  Tensor<T> best = Tensor<T>::from_shape({outer * inner});
  std::vector<std::size_t> index(outer * inner);
  detail::max_middle(a.value().data(), best.data(), index.data(), outer, n, inner);
  Indices out = Indices::from_shape(reduced_shape(shape, {axis}, false));
  std::copy(index.begin(), index.end(), out.begin());
  return out;
}

namespace detail {

template <class T>
Variable<T> sum_to(const Variable<T>& g, const Shape& shape) {
  const auto& from = g.value().shape();
  if (std::equal(from.begin(), from.end(), shape.begin(), shape.end())) return g;
  const std::size_t lead = from.size() - shape.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && from[i] != 1)) axes.push_back(i);
  }
  Tensor<T> summed = sum_keepdim(g.value(), axes);
  summed.reshape(shape);
  return record<T>("sum_to", std::move(summed), {g}, saves_nothing(),
                   [from = shape_of(g.value())](Variable<T> u, const Variable<T>&) { return single(expand(u, from)); });
}

}  // namespace detail

#define TG_FUNCTIONS(T)                                             \
  template Variable<T> sum(const Variable<T>&);                     \
  template Variable<T> sum(const Variable<T>&, const Axes&, bool);  \
  template Variable<T> mean(const Variable<T>&);                    \
  template Variable<T> mean(const Variable<T>&, const Axes&, bool); \
  template Variable<T> max(const Variable<T>&, int, bool);          \
  template Variable<T> min(const Variable<T>&, int, bool);          \
  template Indices argmax(const Variable<T>&, int);                 \
  template Variable<T> detail::sum_to(const Variable<T>&, const Shape&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
