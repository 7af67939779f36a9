#include "reduce_stats.hpp"

#include "../core/detail/instantiate.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/reduce_kernels.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tg {

template <class T>
Variable<T> var(const Variable<T>& a, const Axes& axes, bool unbiased, bool keepdim) {
  const Shape shape = a.shape();
  const std::vector<std::size_t> reduced = detail::checked_axes("var", axes, shape);
  std::size_t count = 1;
  for (std::size_t d : reduced) count *= shape[d];
  // Written with differentiable functions, so every order of derivative follows: the first is
  // 2 (a - mean) / (N - correction), PyTorch's var_backward.
  const Variable<T> deviation = a - mean(a, axes, true);
  const std::size_t correction = unbiased ? 1 : 0;
  const T divisor = count > correction ? T(count - correction) : T(0);  // 0: NaN, as PyTorch
  return sum(deviation * deviation, axes, keepdim) / divisor;
}

template <class T>
Variable<T> logsumexp(const Variable<T>& a, int axis_in, bool keepdim) {
  const Shape shape = a.shape();
  const std::size_t axis = detail::checked_axis("logsumexp", axis_in, shape);
  std::size_t outer = 1, n = 1, inner = 1;
  Shape out_shape;
  if (!shape.empty()) {
    for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
    n = shape[axis];
    for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    out_shape = shape;
    if (keepdim) out_shape[axis] = 1;
    else out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(axis));
  }
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  detail::logsumexp_middle(a.value().data(), out.data(), outer, n, inner);
  const bool reinsert = !keepdim && !shape.empty();
  detail::Saves saves = detail::saves_inputs({0});
  saves.output = true;  // the backward reads both a and the output
  return detail::record<T>("logsumexp", std::move(out), {a}, saves,
                           [a, axis = static_cast<int>(axis), reinsert](Variable<T> g, const Variable<T>& y) {
                             // g * softmax(a) = g * exp(a - y), y broadcast back over the axis. Through y
                             // (the output, which depends on a) this differentiates again correctly.
                             const Variable<T> g_kept = reinsert ? unsqueeze(g, axis) : g;
                             const Variable<T> y_kept = reinsert ? unsqueeze(y, axis) : y;
                             return detail::single(g_kept * exp(a - y_kept));
                           });
}

#define TG_FUNCTIONS(T)                                                    \
  template Variable<T> var(const Variable<T>&, const Axes&, bool, bool);   \
  template Variable<T> logsumexp(const Variable<T>&, int, bool);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
