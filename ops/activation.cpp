#include "activation.hpp"

#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "../core/detail/cpu.hpp"
#include "../core/detail/instantiate.hpp"
#include "../core/record_op.hpp"
#include "../core/detail/parallel.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/elementwise.hpp"
#include "detail/softmax_kernel.hpp"
#include "reduce.hpp"

namespace tg {
namespace {

using detail::Gradients;

// relu's forward, out = x < 0 ? 0 : x (NaN passes, as in PyTorch), and its backward in place,
// g = x <= 0 ? 0 : g (PyTorch's threshold_backward: the gradient at exactly 0 is 0). The hottest
// elementwise loops of training, so a portable build gets an AVX-512 copy of each.
template <class T>
TG_KERNEL_INLINE void relu_kernel(const T* __restrict x, std::size_t n, T* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] < T(0) ? T(0) : x[i];
}
TG_AVX512_CLONES void relu_rows(const float* x, std::size_t n, float* out) { relu_kernel(x, n, out); }
TG_AVX512_CLONES void relu_rows(const double* x, std::size_t n, double* out) { relu_kernel(x, n, out); }

template <class T>
TG_KERNEL_INLINE void relu_backward_kernel(const T* __restrict x, std::size_t n, T* __restrict g) {
  for (std::size_t i = 0; i < n; ++i) g[i] = x[i] <= T(0) ? T(0) : g[i];
}
TG_AVX512_CLONES void relu_backward_rows(const float* x, std::size_t n, float* g) { relu_backward_kernel(x, n, g); }
TG_AVX512_CLONES void relu_backward_rows(const double* x, std::size_t n, double* g) { relu_backward_kernel(x, n, g); }

// leaky_relu's forward, out = x * (x > 0 ? 1 : slope), and its backward in place,
// g = g * (x > 0 ? 1 : slope). Picking the factor and then multiplying (exact: v * 1 == v) keeps
// the loops branch-free, so they vectorise; a branch on the sign of mixed-sign data mispredicts.
template <class T>
TG_KERNEL_INLINE void leaky_relu_kernel(const T* __restrict x, std::size_t n, T slope, T* __restrict out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * (x[i] > T(0) ? T(1) : slope);
}
TG_AVX512_CLONES void leaky_relu_rows(const float* x, std::size_t n, float slope, float* out) { leaky_relu_kernel(x, n, slope, out); }
TG_AVX512_CLONES void leaky_relu_rows(const double* x, std::size_t n, double slope, double* out) { leaky_relu_kernel(x, n, slope, out); }

template <class T>
TG_KERNEL_INLINE void leaky_relu_backward_kernel(const T* __restrict x, std::size_t n, T slope, T* __restrict g) {
  for (std::size_t i = 0; i < n; ++i) g[i] = g[i] * (x[i] > T(0) ? T(1) : slope);
}
TG_AVX512_CLONES void leaky_relu_backward_rows(const float* x, std::size_t n, float slope, float* g) {
  leaky_relu_backward_kernel(x, n, slope, g);
}
TG_AVX512_CLONES void leaky_relu_backward_rows(const double* x, std::size_t n, double slope, double* g) {
  leaky_relu_backward_kernel(x, n, slope, g);
}

// d relu / dx as PyTorch's threshold_backward: g where x > 0, else 0 (so 0 at exactly 0); x may be
// relu's input or its output, which are positive at the same places. Its own derivative is itself
// in g, and zero in x.
template <class T>
Variable<T> relu_backward(Variable<T> g, const Variable<T>& x) {
  const bool recorded = will_record<T>({g, x});
  Tensor<T> out = detail::take_buffer(recorded ? Variable<T>(g) : std::move(g));
  const T* xp = x.value().data();  // masked in place: no new batch-sized buffer per step
  detail::parallel_blocks(out.size(), 2, [&](std::size_t lo, std::size_t hi) { relu_backward_rows(xp + lo, hi - lo, out.data() + lo); });
  return detail::record<T>("relu_backward", std::move(out), {recorded ? g : Variable<T>(), x}, detail::saves_inputs({1}),
                           [x](Variable<T> gg, const Variable<T>&) {
                             return Gradients<T>{relu_backward(std::move(gg), x), Variable<T>()};
                           });
}

// g where x > 0, g * slope elsewhere (so slope at exactly 0, like PyTorch); linear in g.
template <class T>
Variable<T> leaky_relu_backward(Variable<T> g, const Variable<T>& x, T slope) {
  const bool recorded = will_record<T>({g, x});
  Tensor<T> out = detail::take_buffer(recorded ? Variable<T>(g) : std::move(g));
  const T* xp = x.value().data();  // scaled in place, as relu_backward masks
  detail::parallel_blocks(out.size(), 2, [&](std::size_t lo, std::size_t hi) {
    leaky_relu_backward_rows(xp + lo, hi - lo, slope, out.data() + lo);
  });
  return detail::record<T>("leaky_relu_backward", std::move(out), {recorded ? g : Variable<T>(), x},
                           detail::saves_inputs({1}), [x, slope](Variable<T> gg, const Variable<T>&) {
                             return Gradients<T>{leaky_relu_backward(std::move(gg), x, slope), Variable<T>()};
                           });
}

// g * y * (1 - y), y = sigmoid(x).
template <class T>
Variable<T> sigmoid_backward(const Variable<T>& g, const Variable<T>& y) {
  const Tensor<T>& yv = y.value();
  return detail::record<T>("sigmoid_backward", Tensor<T>(g.value() * yv * (T(1) - yv)), {g, y},
                           detail::saves_inputs({0, 1}), [g, y](Variable<T> u, const Variable<T>&) {
                             return Gradients<T>{g.requires_grad() ? sigmoid_backward(u, y) : Variable<T>(),
                                                 y.requires_grad() ? u * g * (T(1) - y * T(2)) : Variable<T>()};
                           });
}

// g * (1 - y^2), y = tanh(x).
template <class T>
Variable<T> tanh_backward(const Variable<T>& g, const Variable<T>& y) {
  const Tensor<T>& yv = y.value();
  return detail::record<T>("tanh_backward", Tensor<T>(g.value() * (T(1) - yv * yv)), {g, y},
                           detail::saves_inputs({0, 1}), [g, y](Variable<T> u, const Variable<T>&) {
                             return Gradients<T>{g.requires_grad() ? tanh_backward(u, y) : Variable<T>(),
                                                 y.requires_grad() ? u * g * y * T(-2) : Variable<T>()};
                           });
}

// g where x > 0, g * alpha * exp(x) elsewhere (so alpha at exactly 0, like PyTorch's elu_backward).
template <class T>
Variable<T> elu_backward(const Variable<T>& g, const Variable<T>& x, T alpha) {
  const Tensor<T>& xv = x.value();
  Tensor<T> out = xt::where(xv > T(0), g.value(), g.value() * alpha * xt::exp(xv));
  return detail::record<T>("elu_backward", std::move(out), {g, x}, detail::saves_inputs({0, 1}),
                           [g, x, alpha](Variable<T> u, const Variable<T>&) {
                             Variable<T> gx;
                             if (x.requires_grad()) {  // d/dx (g * alpha * exp(x)) where x <= 0, 0 elsewhere
                               const Tensor<T> negative = xt::cast<T>(x.value() <= T(0));
                               gx = u * g * detail::constant<T>(negative) * (exp(x) * alpha);
                             }
                             return Gradients<T>{g.requires_grad() ? elu_backward(u, x, alpha) : Variable<T>(), gx};
                           });
}

// A softmax-family loop (detail/softmax_kernel.hpp) along `axis`, checked as `op`: a forward loop
// from x, or a backward loop from the forward's output y and its gradient g.
template <class T>
Tensor<T> along_axis(const char* op, void (*loop)(const T*, T*, const detail::AxisLayout&), const Tensor<T>& x,
                     int axis) {
  const detail::AxisLayout layout = detail::axis_layout(op, shape_of(x), axis);
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  loop(x.data(), y.data(), layout);
  return y;
}
template <class T>
Tensor<T> along_axis(const char* op, void (*loop)(const T*, const T*, T*, const detail::AxisLayout&),
                     const Tensor<T>& y, const Tensor<T>& g, int axis) {
  const detail::AxisLayout layout = detail::axis_layout(op, shape_of(y), axis);
  Tensor<T> gx = Tensor<T>::from_shape(y.shape());
  loop(y.data(), g.data(), gx.data(), layout);
  return gx;
}

// y * (g - sum(g * y)) along the axis, y = softmax(x).
template <class T>
Variable<T> softmax_backward(const Variable<T>& g, const Variable<T>& y, int axis) {
  Tensor<T> out = along_axis("softmax", detail::softmax_backward<T>, y.value(), g.value(), axis);
  return detail::record<T>("softmax_backward", std::move(out), {g, y}, detail::saves_inputs({0, 1}),
                           [g, y, axis](Variable<T> u, const Variable<T>&) {
                             Variable<T> gy;
                             if (y.requires_grad()) {  // u * (g - sum(g y)) - g * sum(u y)
                               gy = u * (g - sum(g * y, {axis}, true)) - g * sum(u * y, {axis}, true);
                             }
                             return Gradients<T>{g.requires_grad() ? softmax_backward(u, y, axis) : Variable<T>(), gy};
                           });
}

// g - exp(y) * sum(g) along the axis, y = log_softmax(x). Its derivative in g is the adjoint
// u - sum(u * exp(y)), not log_softmax_backward itself: unlike softmax's, log_softmax's Jacobian
// (I - 1 p^T along the axis) is not symmetric.
template <class T>
Variable<T> log_softmax_backward(const Variable<T>& g, const Variable<T>& y, int axis) {
  Tensor<T> out = along_axis("log_softmax", detail::log_softmax_backward<T>, y.value(), g.value(), axis);
  return detail::record<T>("log_softmax_backward", std::move(out), {g, y}, detail::saves_inputs({0, 1}),
                           [g, y, axis](Variable<T> u, const Variable<T>&) {
                             const Variable<T> p = exp(y);
                             const Variable<T> gg = g.requires_grad() ? u - sum(u * p, {axis}, true) : Variable<T>();
                             const Variable<T> gy = y.requires_grad() ? -(u * p * sum(g, {axis}, true)) : Variable<T>();
                             return Gradients<T>{gg, gy};
                           });
}

}  // namespace

template <class T>
Variable<T> sigmoid(const Variable<T>& a) {
  Tensor<T> y = detail::stable_sigmoid(a.value());
  return detail::record<T>("sigmoid", std::move(y), {a}, detail::saves_output(),
                           [](Variable<T> g, const Variable<T>& out) { return detail::single(sigmoid_backward(g, out)); });
}

template <class T>
Variable<T> tanh(const Variable<T>& a) {
  return detail::record<T>("tanh", Tensor<T>(xt::tanh(a.value())), {a}, detail::saves_output(),
                           [](Variable<T> g, const Variable<T>& out) { return detail::single(tanh_backward(g, out)); });
}

template <class T>
Variable<T> relu(const Variable<T>& a) {
  const Tensor<T>& x = a.value();
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  detail::parallel_blocks(x.size(), 1, [&](std::size_t lo, std::size_t hi) { relu_rows(x.data() + lo, hi - lo, y.data() + lo); });
  // Masked by the output, as PyTorch does (y > 0 exactly where x > 0): the output lives on anyway as
  // the next layer's input, while the input (a BatchNorm's or a residual sum's result) can be freed.
  return detail::record<T>(
      "relu", std::move(y), {a}, detail::saves_output(),
      [](Variable<T> g, const Variable<T>& out) { return detail::single(relu_backward(std::move(g), out)); });
}

template <class T>
Variable<T> leaky_relu(const Variable<T>& a, Scalar<T> slope) {
  const Tensor<T>& x = a.value();
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  const T s = slope;
  detail::parallel_blocks(x.size(), 1, [&](std::size_t lo, std::size_t hi) { leaky_relu_rows(x.data() + lo, hi - lo, s, y.data() + lo); });
  return detail::record<T>("leaky_relu", std::move(y), {a}, detail::saves_inputs({0}),
                           [a, slope](Variable<T> g, const Variable<T>&) {
                             return detail::single(leaky_relu_backward(std::move(g), a, T(slope)));
                           });
}

template <class T>
Variable<T> elu(const Variable<T>& a, Scalar<T> alpha) {
  const Tensor<T>& x = a.value();
  Tensor<T> y = xt::where(x > T(0), x, alpha * xt::expm1(x));
  return detail::record<T>("elu", std::move(y), {a}, detail::saves_inputs({0}),
                           [a, alpha](Variable<T> g, const Variable<T>&) {
                             return detail::single(elu_backward(g, a, T(alpha)));
                           });
}

template <class T>
Variable<T> softmax(const Variable<T>& a, int axis) {
  Tensor<T> y = along_axis("softmax", detail::softmax_forward<T>, a.value(), axis);
  return detail::record<T>("softmax", std::move(y), {a}, detail::saves_output(),
                           [axis](Variable<T> g, const Variable<T>& out) {
                             return detail::single(softmax_backward(g, out, axis));
                           });
}

template <class T>
Variable<T> log_softmax(const Variable<T>& a, int axis) {
  Tensor<T> y = along_axis("log_softmax", detail::log_softmax_forward<T>, a.value(), axis);
  return detail::record<T>("log_softmax", std::move(y), {a}, detail::saves_output(),
                           [axis](Variable<T> g, const Variable<T>& out) {
                             return detail::single(log_softmax_backward(g, out, axis));
                           });
}

#define TG_FUNCTIONS(T)                                          \
  template Variable<T> sigmoid(const Variable<T>&);              \
  template Variable<T> tanh(const Variable<T>&);                 \
  template Variable<T> relu(const Variable<T>&);                 \
  template Variable<T> leaky_relu(const Variable<T>&, Scalar<T>); \
  template Variable<T> elu(const Variable<T>&, Scalar<T>);        \
  template Variable<T> softmax(const Variable<T>&, int);         \
  template Variable<T> log_softmax(const Variable<T>&, int);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
