// Elementwise arithmetic with NumPy broadcasting, and elementwise math functions.
#pragma once

#include "../core/variable.hpp"

namespace tg {

template <class T> Variable<T> operator+(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> operator-(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> operator*(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> operator/(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> operator-(const Variable<T>& a);

// With a scalar on either side; the scalar converts to T, so `x * 2.0` works for float x.
template <class T> Variable<T> operator+(const Variable<T>& a, Scalar<T> s);
template <class T> Variable<T> operator+(Scalar<T> s, const Variable<T>& a);
template <class T> Variable<T> operator-(const Variable<T>& a, Scalar<T> s);
template <class T> Variable<T> operator-(Scalar<T> s, const Variable<T>& a);
template <class T> Variable<T> operator*(const Variable<T>& a, Scalar<T> s);
template <class T> Variable<T> operator*(Scalar<T> s, const Variable<T>& a);
template <class T> Variable<T> operator/(const Variable<T>& a, Scalar<T> s);
template <class T> Variable<T> operator/(Scalar<T> s, const Variable<T>& a);

template <class T> Variable<T> pow(const Variable<T>& a, Scalar<T> exponent);
template <class T> Variable<T> exp(const Variable<T>& a);
template <class T> Variable<T> log(const Variable<T>& a);
template <class T> Variable<T> sqrt(const Variable<T>& a);
template <class T> Variable<T> abs(const Variable<T>& a);  // gradient 0 at 0, like PyTorch

}  // namespace tg
