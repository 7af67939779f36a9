// Raw-buffer kernels for the indexing ops: slices picked along an axis (index_select, embedding),
// elements picked per position (gather), and their adjoints, which add back into zeros. Every
// index has been range-checked by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/tensor.hpp"

namespace tg::detail {

// Viewing `in` as (outer, n, inner) and `out` as (outer, count, inner):
// out[o, k, i] = in[o, index[k], i].
template <class T>
void index_take(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner, const std::int64_t* index,
                std::size_t count);

// The adjoint of index_take (index_add): whole[o, index[k], i] += part[o, k, i], into a `whole`
// the caller zeroed; repeated indices add up.
template <class T>
void index_add(const T* part, T* whole, std::size_t outer, std::size_t n, std::size_t inner, const std::int64_t* index,
               std::size_t count);

// torch.gather along `axis`: `index` and `out` have index_shape, of the rank of in_shape and no
// larger except along `axis`; out[p] = in[p with its coordinate on `axis` replaced by index[p]].
template <class T>
void gather_along(const T* in, const Shape& in_shape, const std::int64_t* index, const Shape& index_shape,
                  std::size_t axis, T* out);

// The adjoint of gather_along (scatter_add): whole[p with index[p] on `axis`] += part[p], into a
// `whole` of in_shape the caller zeroed.
template <class T>
void scatter_add_along(const T* part, const Shape& index_shape, const std::int64_t* index, std::size_t axis, T* whole,
                       const Shape& in_shape);

}  // namespace tg::detail
