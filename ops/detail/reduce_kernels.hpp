// Raw-buffer kernels for the reductions. A tensor reduced over one run of axes is viewed as
// (outer, n, inner), row-major, and reduced over the middle dimension.
#pragma once

#include <cstddef>
#include <vector>

#include "../../core/tensor.hpp"

namespace tg::detail {

// out[o, i] = sum over k of in[o, k, i]; accumulates in double.
template <class T>
void sum_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner);

// out[o, i] = max over k of in[o, k, i] and index[o, i] = the first k reaching it (a NaN counts as
// the maximum, like PyTorch). Needs n >= 1.
template <class T>
void max_middle(const T* in, T* out, std::size_t* index, std::size_t outer, std::size_t n, std::size_t inner);

// The same for the minimum: index[o, i] = the first k reaching it (a NaN counts as the minimum).
template <class T>
void min_middle(const T* in, T* out, std::size_t* index, std::size_t outer, std::size_t n, std::size_t inner);

// out[o, i] = log(sum over k of exp(in[o, k, i])), computed stably (the maximum subtracted first).
template <class T>
void logsumexp_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner);

// out (zeroed by the caller, shape (outer, n, inner)) receives grad[o, i] at k = index[o, i].
template <class T>
void max_middle_backward(const T* grad, const std::size_t* index, T* out, std::size_t outer, std::size_t n,
                         std::size_t inner);

// out[o, i] = in[o, index[o, i], i]: what max_middle_backward scattered, read back.
template <class T>
void gather_middle(const T* in, const std::size_t* index, T* out, std::size_t outer, std::size_t n, std::size_t inner);

// out = scale * in broadcast to `out_shape`; `in_shape` has the same rank, each extent 1 or equal.
template <class T>
void expand_scaled(const T* in, const Shape& in_shape, T* out, const Shape& out_shape, T scale);

}  // namespace tg::detail
