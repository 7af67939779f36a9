// Softmax kernels: raw-buffer loops over a tensor viewed as (outer, n, inner) around the softmax axis.
// Shared by softmax / log_softmax (ops/activation.cpp) and the fused cross_entropy (ops/loss.cpp).
#pragma once

#include <cstddef>

#include "../../core/tensor.hpp"

namespace tg::detail {

// A row-major tensor seen as (outer, n, inner): `n` is the length of the reduced axis, element
// (o, k, i) sits at (o * n + k) * inner + i.
struct AxisLayout {
  std::size_t outer = 1, n = 1, inner = 1;
  std::size_t positions() const { return outer * inner; }  // independent softmaxes
  std::size_t total() const { return outer * n * inner; }
};

// The layout of `shape` around `axis` (negative counts from the end). A 0-d tensor counts as one
// element along axis 0 / -1, like PyTorch. A bad axis fails with normalize_axis's message naming `function`.
AxisLayout axis_layout(const char* function, const Shape& shape, int axis);

// Numerically stable exponentials: for every (o, i), max[o*inner+i] = max_k x[o,k,i],
// e[o,k,i] = exp(x[o,k,i] - max) and sum[o*inner+i] = sum_k e[o,k,i]. `max` and `sum` hold
// layout.positions() values. The exponentials of the whole buffer go through one vectorised pass.
template <class T>
void shifted_exp(const T* x, T* e, const AxisLayout& layout, T* max, T* sum);

// y = softmax(x) along the middle axis.
template <class T>
void softmax_forward(const T* x, T* y, const AxisLayout& layout);

// y = log_softmax(x) = (x - max) - log(sum exp(x - max)) along the middle axis.
template <class T>
void log_softmax_forward(const T* x, T* y, const AxisLayout& layout);

// gx = y * (gy - sum_k gy * y), with y the softmax output.
template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, const AxisLayout& layout);

// gx = gy - exp(y) * sum_k gy, with y the log_softmax output.
template <class T>
void log_softmax_backward(const T* y, const T* gy, T* gx, const AxisLayout& layout);

// exp of `count` contiguous values in place, vectorised (xsimd) where the build allows it.
template <class T>
void exp_in_place(T* p, std::size_t count);

}  // namespace tg::detail
