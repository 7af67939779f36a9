#include "smooth_activation.hpp"

#include <cmath>

#include "../core/detail/instantiate.hpp"
#include "activation.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/elementwise.hpp"

namespace tg {
namespace {

using detail::Gradients;

constexpr double inv_sqrt2 = 0.70710678118654752440;       // 1 / sqrt(2)
constexpr double inv_sqrt_2pi = 0.39894228040143267794;    // 1 / sqrt(2 pi)

// The standard normal's distribution function Phi and density phi.
template <class T>
T normal_cdf(T x) {
  return T(0.5) * (T(1) + std::erf(x * T(inv_sqrt2)));
}
template <class T>
T normal_pdf(T x) {
  return T(inv_sqrt_2pi) * std::exp(T(-0.5) * x * x);
}

template <class T>
T logistic(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// g * gelu'(x), gelu'(x) = Phi(x) + x phi(x). Linear in g; gelu''(x) = phi(x) (2 - x^2), written with
// tapegrad functions so that it can be differentiated again.
template <class T>
Variable<T> gelu_backward(const Variable<T>& g, const Variable<T>& x) {
  Tensor<T> out = detail::map2(x.value(), g.value(), [](T v, T gv) { return gv * (normal_cdf(v) + v * normal_pdf(v)); });
  return detail::record<T>("gelu_backward", std::move(out), {g, x}, detail::saves_inputs({0, 1}),
                           [g, x](Variable<T> u, const Variable<T>&) {
                             Variable<T> gx;
                             if (x.requires_grad()) {
                               const Variable<T> x2 = x * x;
                               gx = u * g * (exp(x2 * T(-0.5)) * T(inv_sqrt_2pi)) * (T(2) - x2);
                             }
                             return Gradients<T>{g.requires_grad() ? gelu_backward(u, x) : Variable<T>(), gx};
                           });
}

// g * silu'(x), silu'(x) = s (1 + x (1 - s)) with s = sigmoid(x); silu''(x) = s (1 - s) (2 + x (1 - 2 s)).
template <class T>
Variable<T> silu_backward(const Variable<T>& g, const Variable<T>& x) {
  Tensor<T> out = detail::map2(x.value(), g.value(), [](T v, T gv) {
    const T s = logistic(v);
    return gv * s * (T(1) + v * (T(1) - s));
  });
  return detail::record<T>("silu_backward", std::move(out), {g, x}, detail::saves_inputs({0, 1}),
                           [g, x](Variable<T> u, const Variable<T>&) {
                             Variable<T> gx;
                             if (x.requires_grad()) {
                               const Variable<T> s = sigmoid(x);
                               gx = u * g * s * (T(1) - s) * (T(2) + x * (T(1) - s * T(2)));
                             }
                             return Gradients<T>{g.requires_grad() ? silu_backward(u, x) : Variable<T>(), gx};
                           });
}

// g * softplus'(x): sigmoid(beta x) where beta x <= threshold, 1 above (the linear part). Its
// derivative in x is beta s (1 - s) on the curved part, s = sigmoid(beta x), and 0 on the linear one.
template <class T>
Variable<T> softplus_backward(const Variable<T>& g, const Variable<T>& x, T beta, T threshold) {
  Tensor<T> out = detail::map2(x.value(), g.value(), [beta, threshold](T v, T gv) {
    const T z = v * beta;
    return z > threshold ? gv : gv * logistic(z);
  });
  return detail::record<T>("softplus_backward", std::move(out), {g, x}, detail::saves_inputs({0, 1}),
                           [g, x, beta, threshold](Variable<T> u, const Variable<T>&) {
                             Variable<T> gx;
                             if (x.requires_grad()) {
                               const Variable<T> curved = detail::constant(
                                   detail::map(x.value(), [beta, threshold](T v) { return v * beta > threshold ? T(0) : T(1); }));
                               const Variable<T> s = sigmoid(x * beta);
                               gx = u * g * curved * (s * (T(1) - s) * beta);
                             }
                             return Gradients<T>{g.requires_grad() ? softplus_backward(u, x, beta, threshold) : Variable<T>(),
                                                 gx};
                           });
}

}  // namespace

template <class T>
Variable<T> gelu(const Variable<T>& a) {
  Tensor<T> y = detail::map(a.value(), [](T v) { return v * normal_cdf(v); });
  return detail::record<T>("gelu", std::move(y), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(gelu_backward(g, a)); });
}

template <class T>
Variable<T> silu(const Variable<T>& a) {
  Tensor<T> y = detail::map(a.value(), [](T v) { return v * logistic(v); });
  return detail::record<T>("silu", std::move(y), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(silu_backward(g, a)); });
}

template <class T>
Variable<T> softplus(const Variable<T>& a, Scalar<T> beta, Scalar<T> threshold) {
  Tensor<T> y = detail::map(a.value(), [beta, threshold](T v) {
    const T z = v * beta;
    return z > threshold ? v : std::log1p(std::exp(z)) / beta;
  });
  return detail::record<T>("softplus", std::move(y), {a}, detail::saves_inputs({0}),
                           [a, beta, threshold](Variable<T> g, const Variable<T>&) {
                             return detail::single(softplus_backward(g, a, T(beta), T(threshold)));
                           });
}

#define TG_FUNCTIONS(T)                                                  \
  template Variable<T> gelu(const Variable<T>&);                         \
  template Variable<T> silu(const Variable<T>&);                         \
  template Variable<T> softplus(const Variable<T>&, Scalar<T>, Scalar<T>);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
