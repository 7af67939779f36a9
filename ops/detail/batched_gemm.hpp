// Batched matrix products on raw buffers: one GEMM per batch entry, with broadcast batch dimensions.
#pragma once

#include <cstddef>
#include <vector>

#include "../../core/tensor.hpp"

namespace tg::detail {

// Where each batch entry of a broadcast product reads one operand: for every entry of `out_batch`
// (row-major), the element offset of the matching matrix of an operand whose batch dimensions are
// `in_batch` (right-aligned against out_batch; dimensions of extent 1 or missing repeat) and whose
// matrices hold `matrix_size` elements each. The caller has checked that the shapes broadcast.
std::vector<std::size_t> batch_offsets(const Shape& out_batch, const Shape& in_batch, std::size_t matrix_size);

// C_i = alpha * op(A + a_offsets[i]) · op(B + b_offsets[i]) for every batch entry i, C_i being the
// i-th (M, N) matrix of C (contiguous). op and the leading dimensions as in gemm(). Small products
// run one per thread over the batch (each GEMM single-threaded); large ones one after another, each
// split by gemm() itself.
template <class T>
void batched_gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                  const std::vector<std::size_t>& a_offsets, std::size_t lda, const T* B,
                  const std::vector<std::size_t>& b_offsets, std::size_t ldb, T* C);

}  // namespace tg::detail
