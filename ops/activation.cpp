#include "activation.hpp"

#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "../core/detail/cpu.hpp"
#include "../core/detail/parallel.hpp"
#include "../core/record_op.hpp"
#include "detail/grads.hpp"
#include "detail/softmax_kernel.hpp"

namespace tg {
namespace {

template <class T>
using Grads = std::vector<Tensor<T>>;

// A copy of an op's output for its backward, made only when the op will be recorded.
template <class T>
Tensor<T> keep_for_backward(const Tensor<T>& y, const Variable<T>& a) {
  return will_record<T>({a}) ? y : Tensor<T>();
}

// out[i] = f(x[i]) over raw buffers: plain loops GCC vectorises at -O3, split over the threads
// for a large batch.
template <class T, class F>
Tensor<T> map(const Tensor<T>& x, F f) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  const T* __restrict xp = x.data();
  T* __restrict op = out.data();
  detail::parallel_blocks(x.size(), 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) op[i] = f(xp[i]);
  });
  return out;
}

// out[i] = f(x[i], g[i]): the backward of an elementwise op from its input and the output gradient.
template <class T, class F>
Tensor<T> map2(const Tensor<T>& x, const Tensor<T>& g, F f) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  const T* __restrict xp = x.data();
  const T* __restrict gp = g.data();
  T* __restrict op = out.data();
  detail::parallel_blocks(x.size(), 2, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) op[i] = f(xp[i], gp[i]);
  });
  return out;
}

// relu's forward, out = x < 0 ? 0 : x (NaN passes, as in PyTorch), and backward in place,
// g = x <= 0 ? 0 : g (PyTorch's threshold_backward: the gradient at exactly 0 is 0).
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

}  // namespace

template <class T>
Variable<T> sigmoid(const Variable<T>& a) {
  const Tensor<T>& x = a.value();
  // e = exp(-|x|) never overflows; sigmoid is 1/(1+e) for x >= 0 and e/(1+e) below, which keeps
  // tiny values for very negative x instead of rounding them to 0.
  Tensor<T> y = xt::exp(-xt::abs(x));
  xt::noalias(y) = xt::where(x >= T(0), T(1), y) / (T(1) + y);
  Tensor<T> saved = keep_for_backward(y, a);
  return record_op<T>("sigmoid", std::move(y), {a}, [y = std::move(saved)](const Tensor<T>& g) {
    return detail::single_grad<T>(Tensor<T>(g * y * (T(1) - y)));
  });
}

template <class T>
Variable<T> tanh(const Variable<T>& a) {
  Tensor<T> y = xt::tanh(a.value());
  Tensor<T> saved = keep_for_backward(y, a);
  return record_op<T>("tanh", std::move(y), {a}, [y = std::move(saved)](const Tensor<T>& g) {
    return detail::single_grad<T>(Tensor<T>(g * (T(1) - y * y)));
  });
}

template <class T>
Variable<T> relu(const Variable<T>& a) {
  const Tensor<T>& x = a.value();
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  detail::parallel_blocks(x.size(), 1, [&](std::size_t lo, std::size_t hi) {
    relu_rows(x.data() + lo, hi - lo, y.data() + lo);
  });
  return detail::record_consuming_op<T>("relu", std::move(y), {a}, [a](Tensor<T>&& g) {
    // Written into g itself, which the engine hands over: no new batch-sized buffer per step.
    const T* xp = a.value().data();
    detail::parallel_blocks(g.size(), 2, [&](std::size_t lo, std::size_t hi) {
      relu_backward_rows(xp + lo, hi - lo, g.data() + lo);
    });
    return detail::single_grad<T>(std::move(g));
  });
}

template <class T>
Variable<T> leaky_relu(const Variable<T>& a, Scalar<T> slope) {
  Tensor<T> y = map(a.value(), [slope](T v) { return v > T(0) ? v : v * slope; });
  return record_op<T>("leaky_relu", std::move(y), {a}, [a, slope](const Tensor<T>& g) {
    // PyTorch: x > 0 ? g : g * slope, so the gradient at exactly 0 is slope.
    return detail::single_grad<T>(map2(a.value(), g, [slope](T v, T gv) { return v > T(0) ? gv : gv * slope; }));
  });
}

template <class T>
Variable<T> elu(const Variable<T>& a, Scalar<T> alpha) {
  const Tensor<T>& x = a.value();
  Tensor<T> y = xt::where(x > T(0), x, alpha * xt::expm1(x));
  return record_op<T>("elu", std::move(y), {a}, [a, alpha](const Tensor<T>& g) {
    // PyTorch's elu_backward: x <= 0 ? g * alpha * exp(x) : g, so the gradient at exactly 0 is alpha.
    const Tensor<T>& x = a.value();
    return detail::single_grad<T>(Tensor<T>(xt::where(x > T(0), g, g * alpha * xt::exp(x))));
  });
}

template <class T>
Variable<T> softmax(const Variable<T>& a, int axis) {
  const Tensor<T>& x = a.value();
  const detail::AxisLayout layout = detail::axis_layout("softmax", shape_of(x), axis);
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  detail::softmax_forward(x.data(), y.data(), layout);
  Tensor<T> saved = keep_for_backward(y, a);
  return record_op<T>("softmax", std::move(y), {a}, [y = std::move(saved), layout](const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::from_shape(g.shape());
    detail::softmax_backward(y.data(), g.data(), gx.data(), layout);
    return detail::single_grad<T>(std::move(gx));
  });
}

template <class T>
Variable<T> log_softmax(const Variable<T>& a, int axis) {
  const Tensor<T>& x = a.value();
  const detail::AxisLayout layout = detail::axis_layout("log_softmax", shape_of(x), axis);
  Tensor<T> y = Tensor<T>::from_shape(x.shape());
  detail::log_softmax_forward(x.data(), y.data(), layout);
  Tensor<T> saved = keep_for_backward(y, a);
  return record_op<T>("log_softmax", std::move(y), {a}, [y = std::move(saved), layout](const Tensor<T>& g) {
    Tensor<T> gx = Tensor<T>::from_shape(g.shape());
    detail::log_softmax_backward(y.data(), g.data(), gx.data(), layout);
    return detail::single_grad<T>(std::move(gx));
  });
}

// Explicit instantiations: the library provides every op for float and double.
template Variable<float> sigmoid(const Variable<float>&);
template Variable<float> tanh(const Variable<float>&);
template Variable<float> relu(const Variable<float>&);
template Variable<float> leaky_relu(const Variable<float>&, Scalar<float>);
template Variable<float> elu(const Variable<float>&, Scalar<float>);
template Variable<float> softmax(const Variable<float>&, int);
template Variable<float> log_softmax(const Variable<float>&, int);
template Variable<double> sigmoid(const Variable<double>&);
template Variable<double> tanh(const Variable<double>&);
template Variable<double> relu(const Variable<double>&);
template Variable<double> leaky_relu(const Variable<double>&, Scalar<double>);
template Variable<double> elu(const Variable<double>&, Scalar<double>);
template Variable<double> softmax(const Variable<double>&, int);
template Variable<double> log_softmax(const Variable<double>&, int);

}  // namespace tg
