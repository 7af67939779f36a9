// Raw cblas calls live alone in this file: <cblas.h> clashes with xtensor-blas's own prototypes
// (TOOLCHAIN pitfall 1), so no xtensor-blas header may be included here.
#include "gemm.hpp"
#include "runtime.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>

namespace tg::kernels {
namespace {

// Every program that multiplies matrices gets the runtime settings at start-up.
const bool runtime_configured = (configure_runtime(), true);

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

void call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, float alpha, const float* A,
          blasint lda, const float* B, blasint ldb, float beta, float* C, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, double alpha, const double* A,
          blasint lda, const double* B, blasint ldb, double beta, double* C, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
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
  call(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, to_blas(M, "M"), to_blas(N, "N"),
       to_blas(K, "K"), alpha, A, to_blas(lda, "lda"), B, to_blas(ldb, "ldb"), beta, C, to_blas(ldc, "ldc"));
}

template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                           std::size_t, const double*, std::size_t, double, double*, std::size_t);

}  // namespace tg::kernels
