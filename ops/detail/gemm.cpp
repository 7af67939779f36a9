// Raw BLAS calls live alone in this file: <cblas.h> declares the same cblas_* functions as
// xtensor-blas's own prototypes with different signatures, so the two cannot meet in one file.
//
// float goes to oneDNN's dnnl_sgemm when it was found at configure time (TG_HAVE_DNNL): it is
// 1.1-1.5x faster than OpenBLAS at the shapes a small network trains with. double goes to
// OpenBLAS. Once init_runtime() has put OpenBLAS at one thread, large products are split into
// row blocks over our own OpenMP threads, so the process has a single thread pool (OpenMP's, which
// oneDNN uses too); before that OpenBLAS threads them itself.
#include "gemm.hpp"

#include <cblas.h>
#ifdef TG_HAVE_DNNL
#include <dnnl.h>
#endif
#include <omp.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace tg::detail {
namespace {

blasint to_blas(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("gemm: " + std::string(what) + " = " + std::to_string(n) +
                                " exceeds the BLAS integer range");
  }
  return static_cast<blasint>(n);
}

// C = beta * C over an (M, N) block, for K == 0 where BLAS would reject the leading dimensions.
template <class T>
void scale(std::size_t M, std::size_t N, T beta, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + N, T(0));
    } else {
      for (std::size_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

CBLAS_TRANSPOSE flag(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

[[maybe_unused]] void blas(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* A,
          std::size_t lda, const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, flag(ta), flag(tb), to_blas(m, "M"), to_blas(n, "N"), to_blas(k, "K"), alpha, A,
              to_blas(lda, "lda"), B, to_blas(ldb, "ldb"), beta, C, to_blas(ldc, "ldc"));
}

void blas(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* A,
          std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, flag(ta), flag(tb), to_blas(m, "M"), to_blas(n, "N"), to_blas(k, "K"), alpha, A,
              to_blas(lda, "lda"), B, to_blas(ldb, "ldb"), beta, C, to_blas(ldc, "ldc"));
}

// Single-threaded BLAS over row blocks of C (or column blocks when C has few rows) on the OpenMP
// threads; products under about a million multiply-adds stay on the calling thread.
template <class T>
void blocked_blas(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                  std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  const int threads = omp_in_parallel() || openblas_get_num_threads() > 1 ? 1 : omp_get_max_threads();
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (threads <= 1 || work < 1e6) {
    blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const bool split_rows = M >= N || M >= 64 * static_cast<std::size_t>(threads);
  const std::size_t extent = split_rows ? M : N;
  const long blocks = static_cast<long>(std::min<std::size_t>(extent, static_cast<std::size_t>(threads)));
#pragma omp parallel for num_threads(blocks) schedule(static, 1)
  for (long b = 0; b < blocks; ++b) {
    const std::size_t lo = extent * static_cast<std::size_t>(b) / static_cast<std::size_t>(blocks);
    const std::size_t hi = extent * static_cast<std::size_t>(b + 1) / static_cast<std::size_t>(blocks);
    if (lo == hi) continue;
    if (split_rows) {  // rows lo..hi of op(A): row offset in A, or column offset when A is transposed
      blas(ta, tb, hi - lo, N, K, alpha, ta ? A + lo : A + lo * lda, lda, B, ldb, beta, C + lo * ldc, ldc);
    } else {  // columns lo..hi of op(B): column offset in B, or row offset when B is transposed
      blas(ta, tb, M, hi - lo, K, alpha, A, lda, tb ? B + lo * ldb : B + lo, ldb, beta, C + lo, ldc);
    }
  }
}

void call(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A,
          std::size_t lda, const float* B, std::size_t ldb, float beta, float* C, std::size_t ldc) {
#ifdef TG_HAVE_DNNL
  to_blas(M, "M"), to_blas(N, "N"), to_blas(K, "K");  // the same range on both paths
  const dnnl_status_t status =
      dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', static_cast<dnnl_dim_t>(M), static_cast<dnnl_dim_t>(N),
                 static_cast<dnnl_dim_t>(K), alpha, A, static_cast<dnnl_dim_t>(lda), B, static_cast<dnnl_dim_t>(ldb),
                 beta, C, static_cast<dnnl_dim_t>(ldc));
  if (status != dnnl_success) {
    throw std::runtime_error("gemm: dnnl_sgemm failed with status " + std::to_string(static_cast<int>(status)) +
                             " for M = " + std::to_string(M) + ", N = " + std::to_string(N) +
                             ", K = " + std::to_string(K));
  }
#else
  blocked_blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void call(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, double alpha, const double* A,
          std::size_t lda, const double* B, std::size_t ldb, double beta, double* C, std::size_t ldc) {
  blocked_blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
          std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    scale(M, N, beta, C, ldc);
    return;
  }
  call(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                           std::size_t, const double*, std::size_t, double, double*, std::size_t);

}  // namespace tg::detail
