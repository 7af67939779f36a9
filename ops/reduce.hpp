// Reductions: sum, mean, max and min (and argmax), like PyTorch's (full reductions give a 0-d Variable).
#pragma once

#include "../core/variable.hpp"

namespace tg {

// Sum of every element, shape {}.
template <class T> Variable<T> sum(const Variable<T>& a);
// Sum over `axes` (negative counts from the end; empty = every axis). keepdim keeps them as 1s.
template <class T> Variable<T> sum(const Variable<T>& a, const Axes& axes, bool keepdim = false);

template <class T> Variable<T> mean(const Variable<T>& a);
template <class T> Variable<T> mean(const Variable<T>& a, const Axes& axes, bool keepdim = false);

// Maximum along `axis`; the gradient goes to the first maximal element, as with PyTorch's max(dim).
template <class T> Variable<T> max(const Variable<T>& a, int axis, bool keepdim = false);
// Minimum along `axis`; the gradient goes to the first minimal element, as with PyTorch's min(dim).
template <class T> Variable<T> min(const Variable<T>& a, int axis, bool keepdim = false);

// The position of the first maximum along `axis` (a NaN counts as the maximum), `axis` removed,
// like torch.argmax(a, axis). Not differentiable: no gradient flows through indices.
template <class T> Indices argmax(const Variable<T>& a, int axis);

}  // namespace tg
