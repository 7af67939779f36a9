// A thin wrapper over BLAS GEMM on raw row-major buffers: the one place tapegrad calls cblas.
#pragma once

#include <cstddef>

namespace tg::detail {

// C = alpha * op(A) * op(B) + beta * C, all row-major, where op(A) is (M, K) and op(B) is (K, N);
// op(X) is X or, with the flag set, X's transpose (read through BLAS's transpose flag, never
// copied). lda, ldb, ldc are the row strides (elements) of A, B and C as stored. With beta == 0
// C's old contents are ignored (may be uninitialised). Degenerate sizes (M, N or K zero) are handled.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc);

}  // namespace tg::detail
