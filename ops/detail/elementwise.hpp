// Elementwise loops over raw buffers: plain loops GCC vectorises at -O3, split over the threads
// for a large batch. Include only from the library's own sources (OpenMP).
#pragma once

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include "../../core/detail/parallel.hpp"
#include "../../core/tensor.hpp"

namespace tg::detail {

// out[i] = f(x[i]).
template <class T, class F>
Tensor<T> map(const Tensor<T>& x, F f) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  const T* __restrict xp = x.data();
  T* __restrict op = out.data();
  parallel_blocks(x.size(), 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) op[i] = f(xp[i]);
  });
  return out;
}

// out[i] = f(x[i], g[i]), x and g of the same shape.
template <class T, class F>
Tensor<T> map2(const Tensor<T>& x, const Tensor<T>& g, F f) {
  Tensor<T> out = Tensor<T>::from_shape(x.shape());
  const T* __restrict xp = x.data();
  const T* __restrict gp = g.data();
  T* __restrict op = out.data();
  parallel_blocks(x.size(), 2, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) op[i] = f(xp[i], gp[i]);
  });
  return out;
}

// sigmoid(x) from e = exp(-|x|), which never overflows: 1/(1+e) for x >= 0 and e/(1+e) below, which
// keeps tiny values for very negative x instead of rounding them to 0.
template <class T>
Tensor<T> stable_sigmoid(const Tensor<T>& x) {
  Tensor<T> y = xt::exp(-xt::abs(x));
  xt::noalias(y) = xt::where(x >= T(0), T(1), y) / (T(1) + y);
  return y;
}

}  // namespace tg::detail
