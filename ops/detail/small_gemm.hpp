// Products of small matrices (attention heads: 16 x 16 x 16) computed in place: a BLAS call costs
// about as much in dispatch as such a product does in arithmetic, and a transformer step makes
// thousands of them.
#pragma once

#include <algorithm>
#include <cstddef>

#include "../../core/detail/cpu.hpp"

namespace tg::detail {

// Sizes small_gemm takes: every side at most kSmallGemmSide.
inline constexpr std::size_t kSmallGemmSide = 32;
inline bool is_small_gemm(std::size_t M, std::size_t N, std::size_t K) {
  return M <= kSmallGemmSide && N <= kSmallGemmSide && K <= kSmallGemmSide;
}

// C (M, N, row stride ldc) = alpha * op(A) * op(B), op and the leading dimensions as in gemm(); the
// sides are at most kSmallGemmSide. Each element is a sum over k in order, in T.
template <class T>
TG_KERNEL_INLINE void small_gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha,
                                 const T* A, std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc) {
  // op(B) as K rows of whole blocks of kWidth columns: the inner loop is one fixed-width vector
  // multiply-add per (row of C, k). B's own rows when they are that already, else a zero-padded copy.
  constexpr std::size_t kWidth = 16;
  const std::size_t padded = (N + kWidth - 1) / kWidth * kWidth;
  alignas(64) T copy[kSmallGemmSide * kSmallGemmSide];
  const T* b_rows = B;
  std::size_t b_stride = ldb;
  if (trans_b || padded != N) {
    for (std::size_t k = 0; k < K; ++k) {
      T* row = copy + k * padded;
      for (std::size_t j = 0; j < N; ++j) row[j] = trans_b ? B[j * ldb + k] : B[k * ldb + j];
      std::fill(row + N, row + padded, T(0));
    }
    b_rows = copy;
    b_stride = padded;
  }
  for (std::size_t i = 0; i < M; ++i) {
    for (std::size_t j0 = 0; j0 < padded; j0 += kWidth) {
      T acc[kWidth] = {};
      for (std::size_t k = 0; k < K; ++k) {
        const T a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const T* b = b_rows + k * b_stride + j0;
        for (std::size_t j = 0; j < kWidth; ++j) acc[j] += a * b[j];
      }
      T* c = C + i * ldc + j0;
      const std::size_t width = std::min(kWidth, N - j0);
      for (std::size_t j = 0; j < width; ++j) c[j] = alpha * acc[j];
    }
  }
}

}  // namespace tg::detail
