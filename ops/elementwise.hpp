// Elementwise functions beyond arithmetic: trigonometry, log1p, clamping, elementwise extrema and
// selection by a mask. Each behaves like the PyTorch function of the same name (values, broadcasting
// and the gradient at kinks and ties), and each derivative is differentiable again.
#pragma once

#include "../core/variable.hpp"

namespace tg {

template <class T> Variable<T> sin(const Variable<T>& a);
template <class T> Variable<T> cos(const Variable<T>& a);
// log(1 + a), accurate for small a.
template <class T> Variable<T> log1p(const Variable<T>& a);

// min(max(a, min), max) elementwise, so min > max gives max everywhere (as torch.clamp). The gradient
// passes where min <= a <= max (bounds included) and is 0 elsewhere; NaN stays NaN.
template <class T> Variable<T> clamp(const Variable<T>& a, Scalar<T> min, Scalar<T> max);

// The elementwise larger / smaller of a and b, broadcast like NumPy; a NaN on either side wins.
// Where a == b each side gets half the gradient (torch.maximum / torch.minimum).
template <class T> Variable<T> maximum(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> minimum(const Variable<T>& a, const Variable<T>& b);

// cond ? a : b elementwise, cond, a and b broadcast together (torch.where). a gets the gradient
// where cond holds, b elsewhere, each summed back to its own shape. Call it as tg::where: the mask is
// an xtensor array, so an unqualified where(...) also finds xt::where, which wins for non-const arguments.
template <class T> Variable<T> where(const Mask& cond, const Variable<T>& a, const Variable<T>& b);

// `value` where mask holds, a elsewhere; mask and a broadcast together (torch.masked_fill, out of
// place). a gets the gradient where the mask is false.
template <class T> Variable<T> masked_fill(const Variable<T>& a, const Mask& mask, Scalar<T> value);

}  // namespace tg
