#include "reduce.hpp"

#include "../core/record_op.hpp"
#include "detail/axis_check.hpp"
#include "detail/reduce_kernels.hpp"
#include "detail/grads.hpp"

namespace tg {
namespace {

template <class T>
using Grads = std::vector<Tensor<T>>;

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

// sum and mean share everything but the scale applied to the sum (1 or 1/count).
template <class T>
Variable<T> sum_or_mean(const char* name, const Variable<T>& a, const Axes& axes_in, bool keepdim, bool average) {
  const Shape shape = a.shape();
  const std::vector<std::size_t> axes = detail::checked_axes(name, axes_in, shape);
  std::size_t count = 1;
  for (std::size_t d : axes) count *= shape[d];
  Tensor<T> out = sum_keepdim(a.value(), axes);
  if (average) {
    for (auto& v : out) v /= static_cast<T>(count);  // 0 / 0 gives NaN for an empty mean, as in PyTorch
  }
  const Shape keep_shape = shape_of(out);
  out.reshape(reduced_shape(shape, axes, keepdim));
  const T scale = average ? static_cast<T>(1.0 / static_cast<double>(count)) : T(1);
  return record_op<T>(name, std::move(out), {a}, [shape, keep_shape, scale](const Tensor<T>& g) {
    Tensor<T> grad = Tensor<T>::from_shape(shape);
    detail::expand_scaled(g.data(), keep_shape, grad.data(), shape, scale);
    return detail::single_grad<T>(std::move(grad));
  });
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

template <class T>
Variable<T> max(const Variable<T>& a, int axis_in, bool keepdim) {
  const Shape shape = a.shape();
  const std::size_t axis = detail::checked_axis("max", axis_in, shape);
  if (shape.empty()) {  // a 0-d tensor is its own maximum
    return record_op<T>("max", a.value(), {a}, [](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(g)); });
  }
  const std::size_t n = shape[axis];
  if (n == 0) {
    fail("max", "cannot take the maximum over axis {} of a tensor of shape {}: that axis is empty", axis_in,
         format_shape(shape));
  }
  const std::size_t outer = product(shape, 0, axis);
  const std::size_t inner = product(shape, axis + 1, shape.size());
  Tensor<T> out = Tensor<T>::from_shape(reduced_shape(shape, {axis}, keepdim));
  std::vector<std::size_t> index(outer * inner);
  detail::max_middle(a.value().data(), out.data(), index.data(), outer, n, inner);
  return record_op<T>("max", std::move(out), {a},
                      [shape, outer, n, inner, index = std::move(index)](const Tensor<T>& g) {
                        Tensor<T> grad = xt::zeros<T>(shape);
                        detail::max_middle_backward(g.data(), index.data(), grad.data(), outer, n, inner);
                        return detail::single_grad<T>(std::move(grad));
                      });
}

// Explicit instantiations: the library provides every op for float and double.
template Variable<float> sum(const Variable<float>&);
template Variable<float> sum(const Variable<float>&, const Axes&, bool);
template Variable<float> mean(const Variable<float>&);
template Variable<float> mean(const Variable<float>&, const Axes&, bool);
template Variable<float> max(const Variable<float>&, int, bool);
template Variable<double> sum(const Variable<double>&);
template Variable<double> sum(const Variable<double>&, const Axes&, bool);
template Variable<double> mean(const Variable<double>&);
template Variable<double> mean(const Variable<double>&, const Axes&, bool);
template Variable<double> max(const Variable<double>&, int, bool);

}  // namespace tg
