#include "arithmetic.hpp"

#include <cmath>
#include <functional>

#include <xtensor/xmath.hpp>

#include "../core/detail/instantiate.hpp"
#include "detail/autograd.hpp"
#include "detail/broadcast.hpp"
#include "detail/elementwise.hpp"

namespace tg {
namespace {

using detail::Gradients;
using detail::sum_to;

template <class T>
Variable<T> constant(T s) {
  return detail::constant<T>(Tensor<T>(s));
}

// Records a broadcasting binary op (operands of equal shapes, such as a residual sum, are combined
// on the threads by detail::map2). `grads(g)` gives the gradients at the broadcast shape (only
// those that are needed); they are summed back to each input's shape here.
template <class T, class Value, class GradFn>
Variable<T> binary(const char* name, const Variable<T>& a, const Variable<T>& b, detail::Saves saves, Value value,
                   GradFn grads) {
  detail::broadcast_shapes(name, a.shape(), b.shape());
  Tensor<T> out = value(a.value(), b.value());
  return detail::record<T>(name, std::move(out), {a, b}, saves, [a, b, grads](Variable<T> g, const Variable<T>&) {
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    auto [ga, gb] = grads(g, need_a, need_b);
    return Gradients<T>{need_a ? sum_to(ga, a.shape()) : Variable<T>(), need_b ? sum_to(gb, b.shape()) : Variable<T>()};
  });
}

template <class T>
using Pair = std::pair<Variable<T>, Variable<T>>;

}  // namespace

template <class T>
Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("add", a, b, detail::saves_nothing(),
                   [](const Tensor<T>& x, const Tensor<T>& y) {
                     return x.shape() == y.shape() ? detail::map2(x, y, std::plus<T>()) : Tensor<T>(x + y);
                   },
                   [](const Variable<T>& g, bool, bool) { return Pair<T>{g, g}; });
}

template <class T>
Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("sub", a, b, detail::saves_nothing(),
                   [](const Tensor<T>& x, const Tensor<T>& y) {
                     return x.shape() == y.shape() ? detail::map2(x, y, std::minus<T>()) : Tensor<T>(x - y);
                   },
                   [](const Variable<T>& g, bool, bool need_b) { return Pair<T>{g, need_b ? -g : Variable<T>()}; });
}

template <class T>
Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("mul", a, b, detail::saves_inputs({0, 1}),
                   [](const Tensor<T>& x, const Tensor<T>& y) {
                     return x.shape() == y.shape() ? detail::map2(x, y, std::multiplies<T>()) : Tensor<T>(x * y);
                   },
                   [a, b](const Variable<T>& g, bool need_a, bool need_b) {
                     return Pair<T>{need_a ? g * b : Variable<T>(), need_b ? g * a : Variable<T>()};
                   });
}

template <class T>
Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("div", a, b, detail::saves_inputs({0, 1}),
                   [](const Tensor<T>& x, const Tensor<T>& y) {
                     return x.shape() == y.shape() ? detail::map2(x, y, std::divides<T>()) : Tensor<T>(x / y);
                   },
                   [a, b](const Variable<T>& g, bool need_a, bool need_b) {
                     const Variable<T> ga = g / b;  // d(a/b)/db = -(a/b)/b, so gb = -ga * a / b
                     return Pair<T>{need_a ? ga : Variable<T>(), need_b ? -(ga * a / b) : Variable<T>()};
                   });
}

template <class T>
Variable<T> operator-(const Variable<T>& a) {
  return detail::record<T>("neg", Tensor<T>(-a.value()), {a}, detail::saves_nothing(),
                           [](Variable<T> g, const Variable<T>&) { return detail::single(-g); });
}

template <class T> Variable<T> operator+(const Variable<T>& a, Scalar<T> s) { return a + constant<T>(s); }
template <class T> Variable<T> operator+(Scalar<T> s, const Variable<T>& a) { return constant<T>(s) + a; }
template <class T> Variable<T> operator-(const Variable<T>& a, Scalar<T> s) { return a - constant<T>(s); }
template <class T> Variable<T> operator-(Scalar<T> s, const Variable<T>& a) { return constant<T>(s) - a; }
template <class T> Variable<T> operator*(const Variable<T>& a, Scalar<T> s) { return a * constant<T>(s); }
template <class T> Variable<T> operator*(Scalar<T> s, const Variable<T>& a) { return constant<T>(s) * a; }
template <class T> Variable<T> operator/(const Variable<T>& a, Scalar<T> s) { return a / constant<T>(s); }
template <class T> Variable<T> operator/(Scalar<T> s, const Variable<T>& a) { return constant<T>(s) / a; }

namespace {

// x^p element by element with std::pow: xsimd's vector pow (xt::pow on a SIMD build) gives 0 for
// 0^p with p <= 0 (0^0 is 1, 0^-1 is inf).
template <class T>
Tensor<T> power(const Tensor<T>& x, T p) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  const T* xp = x.data();
  T* op = out.data();
  for (std::size_t i = 0; i < x.size(); ++i) op[i] = std::pow(xp[i], p);
  return out;
}

}  // namespace

template <class T>
Variable<T> pow(const Variable<T>& a, Scalar<T> p) {
  return detail::record<T>("pow", power(a.value(), p), {a}, detail::saves_inputs({0}),
                           [a, p](Variable<T> g, const Variable<T>&) {
                             // PyTorch: d/dx x^0 = 0, even at 0.
                             if (p == T(0)) return detail::single(detail::constant<T>(xt::zeros<T>(a.shape())));
                             return detail::single(g * (pow(a, p - T(1)) * p));
                           });
}


template <class T>
Variable<T> exp(const Variable<T>& a) {
  return detail::record<T>("exp", Tensor<T>(xt::exp(a.value())), {a}, detail::saves_output(),
                           [](Variable<T> g, const Variable<T>& y) { return detail::single(g * y); });
}

template <class T>
Variable<T> log(const Variable<T>& a) {
  return detail::record<T>("log", Tensor<T>(xt::log(a.value())), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(g / a); });
}

template <class T>
Variable<T> sqrt(const Variable<T>& a) {
  return detail::record<T>("sqrt", Tensor<T>(xt::sqrt(a.value())), {a}, detail::saves_output(),
                           [](Variable<T> g, const Variable<T>& y) { return detail::single(g / (y * T(2))); });
}

template <class T>
Variable<T> abs(const Variable<T>& a) {
  return detail::record<T>("abs", Tensor<T>(xt::abs(a.value())), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) {
                             // sign(0) = 0: the gradient at the kink is 0, like PyTorch; a constant, so
                             // the second derivative is 0 too.
                             return detail::single(g * detail::constant<T>(xt::sign(a.value())));
                           });
}

#define TG_FUNCTIONS(T)                                                   \
  template Variable<T> operator+(const Variable<T>&, const Variable<T>&); \
  template Variable<T> operator-(const Variable<T>&, const Variable<T>&); \
  template Variable<T> operator*(const Variable<T>&, const Variable<T>&); \
  template Variable<T> operator/(const Variable<T>&, const Variable<T>&); \
  template Variable<T> operator-(const Variable<T>&);                     \
  template Variable<T> operator+(const Variable<T>&, Scalar<T>);          \
  template Variable<T> operator+(Scalar<T>, const Variable<T>&);          \
  template Variable<T> operator-(const Variable<T>&, Scalar<T>);          \
  template Variable<T> operator-(Scalar<T>, const Variable<T>&);          \
  template Variable<T> operator*(const Variable<T>&, Scalar<T>);          \
  template Variable<T> operator*(Scalar<T>, const Variable<T>&);          \
  template Variable<T> operator/(const Variable<T>&, Scalar<T>);          \
  template Variable<T> operator/(Scalar<T>, const Variable<T>&);          \
  template Variable<T> pow(const Variable<T>&, Scalar<T>);                \
  template Variable<T> exp(const Variable<T>&);                           \
  template Variable<T> log(const Variable<T>&);                           \
  template Variable<T> sqrt(const Variable<T>&);                          \
  template Variable<T> abs(const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
