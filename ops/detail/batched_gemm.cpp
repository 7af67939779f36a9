#include "batched_gemm.hpp"

#include <omp.h>

#include <type_traits>

#include "gemm.hpp"
#include "small_gemm.hpp"

// OpenBLAS's own control; declared here so this file needs no cblas.h (see gemm.cpp).
extern "C" int openblas_get_num_threads(void);

namespace tg::detail {
namespace {

// True when a GEMM called from one OpenMP thread stays on that thread. oneDNN's sgemm does inside
// a parallel region; OpenBLAS only after init_runtime() put it at one thread, otherwise it starts
// its own threads and batch-parallel calls would oversubscribe the cores.
template <class T>
bool gemm_stays_on_caller() {
#ifdef TG_HAVE_DNNL
  if constexpr (std::is_same_v<T, float>) return true;
#endif
  return openblas_get_num_threads() == 1;
}

}  // namespace

std::vector<std::size_t> batch_offsets(const Shape& out_batch, const Shape& in_batch, std::size_t matrix_size) {
  const std::size_t nd = out_batch.size(), pad = nd - in_batch.size();
  std::vector<std::size_t> stride(nd, 0);  // 0 along repeated dimensions
  std::size_t step = matrix_size;
  for (std::size_t d = nd; d-- > pad;) {
    const std::size_t extent = in_batch[d - pad];
    stride[d] = extent == 1 ? 0 : step;
    step *= extent;
  }
  std::vector<std::size_t> offsets(element_count(out_batch));
  std::vector<std::size_t> index(nd, 0);
  std::size_t offset = 0;
  for (std::size_t& entry : offsets) {
    entry = offset;
    for (std::size_t d = nd; d-- > 0;) {  // odometer step over out_batch
      offset += stride[d];
      if (++index[d] < out_batch[d]) break;
      offset -= stride[d] * index[d];
      index[d] = 0;
    }
  }
  return offsets;
}

template <class T>
void batched_gemm(bool trans_a, bool trans_b, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                  const std::vector<std::size_t>& a_offsets, std::size_t lda, const T* B,
                  const std::vector<std::size_t>& b_offsets, std::size_t ldb, T* C) {
  const std::size_t batch = a_offsets.size(), matrix = M * N;
  const bool small = is_small_gemm(M, N, K) && K > 0;
  const auto product = [&](std::size_t i) {
    if (small) {
      small_gemm<T>(trans_a, trans_b, M, N, K, alpha, A + a_offsets[i], lda, B + b_offsets[i], ldb, C + i * matrix, N);
    } else {
      gemm<T>(trans_a, trans_b, M, N, K, alpha, A + a_offsets[i], lda, B + b_offsets[i], ldb, T(0), C + i * matrix,
              N);
    }
  };
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  // Over the batch when there are products for every thread, or each is too small for gemm() to
  // split (it splits from about a million multiply-adds), and together they are worth waking threads.
  const bool over_batch = threads > 1 && batch > 1 && work * static_cast<double>(batch) >= 1e5 &&
                          (batch >= 2 * static_cast<std::size_t>(threads) || work < 1e6) &&
                          (small || gemm_stays_on_caller<T>());
  if (!over_batch) {
    for (std::size_t i = 0; i < batch; ++i) product(i);
    return;
  }
  const long count = static_cast<long>(batch);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long i = 0; i < count; ++i) product(static_cast<std::size_t>(i));
}

template void batched_gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*,
                                  const std::vector<std::size_t>&, std::size_t, const float*,
                                  const std::vector<std::size_t>&, std::size_t, float*);
template void batched_gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                                   const std::vector<std::size_t>&, std::size_t, const double*,
                                   const std::vector<std::size_t>&, std::size_t, double*);

}  // namespace tg::detail
