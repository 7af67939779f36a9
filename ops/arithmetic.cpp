#include "arithmetic.hpp"

#include <cmath>

#include <xtensor/xmath.hpp>

#include "../core/record_op.hpp"
#include "detail/broadcast.hpp"
#include "detail/grads.hpp"

namespace tg {
namespace {

template <class T>
using Grads = std::vector<Tensor<T>>;

template <class T>
Variable<T> constant(T s) {
  return Variable<T>(Tensor<T>(s));
}

// Records a broadcasting binary op. `grads(g)` returns the gradients at the broadcast shape
// (only those whose flag is set are used); they are folded back to each input's shape here.
template <class T, class Value, class GradFn>
Variable<T> binary(const char* name, const Variable<T>& a, const Variable<T>& b, Value value, GradFn grads) {
  broadcast_shapes(name, a.shape(), b.shape());
  Tensor<T> out = value(a.value(), b.value());
  return record_op<T>(name, std::move(out), {a, b}, [a, b, grads](const Tensor<T>& g) {
    auto [ga, gb] = grads(g, a.requires_grad(), b.requires_grad());
    Grads<T> result(2);
    if (a.requires_grad()) result[0] = unbroadcast<T>(ga, a.shape());
    if (b.requires_grad()) result[1] = unbroadcast<T>(gb, b.shape());
    return result;
  });
}

}  // namespace

template <class T>
Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("add", a, b, [](const Tensor<T>& x, const Tensor<T>& y) { return Tensor<T>(x + y); },
                   [](const Tensor<T>& g, bool, bool) { return std::pair<Tensor<T>, Tensor<T>>{g, g}; });
}

template <class T>
Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("sub", a, b, [](const Tensor<T>& x, const Tensor<T>& y) { return Tensor<T>(x - y); },
                   [](const Tensor<T>& g, bool, bool need_b) {
                     return std::pair<Tensor<T>, Tensor<T>>{g, need_b ? Tensor<T>(-g) : Tensor<T>()};
                   });
}

template <class T>
Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("mul", a, b, [](const Tensor<T>& x, const Tensor<T>& y) { return Tensor<T>(x * y); },
                   [a, b](const Tensor<T>& g, bool need_a, bool need_b) {
                     return std::pair<Tensor<T>, Tensor<T>>{need_a ? Tensor<T>(g * b.value()) : Tensor<T>(),
                                                            need_b ? Tensor<T>(g * a.value()) : Tensor<T>()};
                   });
}

template <class T>
Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) {
  return binary<T>("div", a, b, [](const Tensor<T>& x, const Tensor<T>& y) { return Tensor<T>(x / y); },
                   [a, b](const Tensor<T>& g, bool need_a, bool need_b) {
                     const Tensor<T>& y = b.value();
                     return std::pair<Tensor<T>, Tensor<T>>{
                         need_a ? Tensor<T>(g / y) : Tensor<T>(),
                         need_b ? Tensor<T>(-g * a.value() / (y * y)) : Tensor<T>()};
                   });
}

template <class T>
Variable<T> operator-(const Variable<T>& a) {
  return record_op<T>("neg", Tensor<T>(-a.value()), {a}, [](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(-g)); });
}

template <class T> Variable<T> operator+(const Variable<T>& a, Scalar<T> s) { return a + constant(s); }
template <class T> Variable<T> operator+(Scalar<T> s, const Variable<T>& a) { return constant(s) + a; }
template <class T> Variable<T> operator-(const Variable<T>& a, Scalar<T> s) { return a - constant(s); }
template <class T> Variable<T> operator-(Scalar<T> s, const Variable<T>& a) { return constant(s) - a; }
template <class T> Variable<T> operator*(const Variable<T>& a, Scalar<T> s) { return a * constant(s); }
template <class T> Variable<T> operator*(Scalar<T> s, const Variable<T>& a) { return constant(s) * a; }
template <class T> Variable<T> operator/(const Variable<T>& a, Scalar<T> s) { return a / constant(s); }
template <class T> Variable<T> operator/(Scalar<T> s, const Variable<T>& a) { return constant(s) / a; }

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
  return record_op<T>("pow", power(a.value(), p), {a}, [a, p](const Tensor<T>& g) {
    if (p == T(0)) return detail::single_grad<T>(Tensor<T>(xt::zeros<T>(g.shape())));  // PyTorch: d/dx x^0 = 0, even at 0
    return detail::single_grad<T>(Tensor<T>(g * p * power(a.value(), p - T(1))));
  });
}


template <class T>
Variable<T> exp(const Variable<T>& a) {
  Tensor<T> y = xt::exp(a.value());
  return record_op<T>("exp", y, {a}, [y](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(g * y)); });
}

template <class T>
Variable<T> log(const Variable<T>& a) {
  return record_op<T>("log", Tensor<T>(xt::log(a.value())), {a},
                      [a](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(g / a.value())); });
}

template <class T>
Variable<T> sqrt(const Variable<T>& a) {
  Tensor<T> y = xt::sqrt(a.value());
  return record_op<T>("sqrt", y, {a}, [y](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(g / (T(2) * y))); });
}

template <class T>
Variable<T> abs(const Variable<T>& a) {
  return record_op<T>("abs", Tensor<T>(xt::abs(a.value())), {a},
                      [a](const Tensor<T>& g) { return detail::single_grad<T>(Tensor<T>(g * xt::sign(a.value()))); });
}

// Explicit instantiations: the library provides every op for float and double.
template Variable<float> operator+(const Variable<float>&, const Variable<float>&);
template Variable<float> operator-(const Variable<float>&, const Variable<float>&);
template Variable<float> operator*(const Variable<float>&, const Variable<float>&);
template Variable<float> operator/(const Variable<float>&, const Variable<float>&);
template Variable<float> operator-(const Variable<float>&);
template Variable<float> operator+(const Variable<float>&, Scalar<float>);
template Variable<float> operator+(Scalar<float>, const Variable<float>&);
template Variable<float> operator-(const Variable<float>&, Scalar<float>);
template Variable<float> operator-(Scalar<float>, const Variable<float>&);
template Variable<float> operator*(const Variable<float>&, Scalar<float>);
template Variable<float> operator*(Scalar<float>, const Variable<float>&);
template Variable<float> operator/(const Variable<float>&, Scalar<float>);
template Variable<float> operator/(Scalar<float>, const Variable<float>&);
template Variable<float> pow(const Variable<float>&, Scalar<float>);
template Variable<float> exp(const Variable<float>&);
template Variable<float> log(const Variable<float>&);
template Variable<float> sqrt(const Variable<float>&);
template Variable<float> abs(const Variable<float>&);
template Variable<double> operator+(const Variable<double>&, const Variable<double>&);
template Variable<double> operator-(const Variable<double>&, const Variable<double>&);
template Variable<double> operator*(const Variable<double>&, const Variable<double>&);
template Variable<double> operator/(const Variable<double>&, const Variable<double>&);
template Variable<double> operator-(const Variable<double>&);
template Variable<double> operator+(const Variable<double>&, Scalar<double>);
template Variable<double> operator+(Scalar<double>, const Variable<double>&);
template Variable<double> operator-(const Variable<double>&, Scalar<double>);
template Variable<double> operator-(Scalar<double>, const Variable<double>&);
template Variable<double> operator*(const Variable<double>&, Scalar<double>);
template Variable<double> operator*(Scalar<double>, const Variable<double>&);
template Variable<double> operator/(const Variable<double>&, Scalar<double>);
template Variable<double> operator/(Scalar<double>, const Variable<double>&);
template Variable<double> pow(const Variable<double>&, Scalar<double>);
template Variable<double> exp(const Variable<double>&);
template Variable<double> log(const Variable<double>&);
template Variable<double> sqrt(const Variable<double>&);
template Variable<double> abs(const Variable<double>&);

}  // namespace tg
