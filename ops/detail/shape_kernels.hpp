// Raw-buffer kernels for the shape ops: permuted copies and concatenation along an axis.
#pragma once

#include <cstddef>
#include <vector>

#include "../../core/tensor.hpp"

namespace tg::detail {

// out (row-major, shape[perm[0]], shape[perm[1]], ...) = in (row-major, `shape`) with axes permuted.
template <class T>
void permute_copy(const T* in, const Shape& shape, const Shape& perm, T* out);

// Viewing each part as (outer, n_k, inner) and out as (outer, sum n_k, inner): copies the parts
// into out side by side along the middle dimension, or (split) out back into the parts. A null
// part pointer in split is skipped.
template <class T>
void concat_middle(const std::vector<const T*>& parts, const std::vector<std::size_t>& n, T* out,
                   std::size_t outer, std::size_t inner);
template <class T>
void split_middle(const T* in, const std::vector<T*>& parts, const std::vector<std::size_t>& n, std::size_t outer,
                  std::size_t inner);

// Viewing `in` as (outer, n, inner) and `out` as (outer, count, inner): out[o, k, i] =
// in[o, start + k * step, i] (take), or the reverse assignment into a zeroed `in`-shaped buffer (put).
template <class T>
void take_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner, std::size_t start,
                 std::size_t count, std::size_t step);
template <class T>
void put_middle(const T* part, T* whole, std::size_t outer, std::size_t n, std::size_t inner, std::size_t start,
                std::size_t count, std::size_t step);

}  // namespace tg::detail
