#include "runtime.hpp"

#include <malloc.h>

// OpenBLAS's own control; declared here so this file needs no cblas.h.
extern "C" void openblas_set_num_threads(int num_threads);

namespace tg::kernels {

void configure_runtime() {
  static const bool configured = [] {
#ifdef M_MMAP_THRESHOLD
    // Blocks up to 32 MiB (glibc's ceiling for this setting) come from the heap and are reused
    // after free instead of being unmapped; a free top of the heap is kept up to 128 MiB.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
#endif
    // OpenBLAS runs single-threaded inside our OpenMP threads (ops/gemm.cpp, ops/threads.cpp).
    openblas_set_num_threads(1);
    return true;
  }();
  (void)configured;
}

}  // namespace tg::kernels
