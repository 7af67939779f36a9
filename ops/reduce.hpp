// Reductions: sum, mean and max, like PyTorch's (full reductions give a 0-d Variable).
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

extern template Variable<float> sum(const Variable<float>&);
extern template Variable<float> sum(const Variable<float>&, const Axes&, bool);
extern template Variable<float> mean(const Variable<float>&);
extern template Variable<float> mean(const Variable<float>&, const Axes&, bool);
extern template Variable<float> max(const Variable<float>&, int, bool);
extern template Variable<double> sum(const Variable<double>&);
extern template Variable<double> sum(const Variable<double>&, const Axes&, bool);
extern template Variable<double> mean(const Variable<double>&);
extern template Variable<double> mean(const Variable<double>&, const Axes&, bool);
extern template Variable<double> max(const Variable<double>&, int, bool);

}  // namespace tg
