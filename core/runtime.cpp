#include "runtime.hpp"

#include <malloc.h>
#include <omp.h>

#include "detail/cpu.hpp"

// OpenBLAS's own control; declared here so this file needs no cblas.h.
extern "C" void openblas_set_num_threads(int num_threads);

namespace tg {

void init_runtime() {
  static const bool done = [] {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's ceiling for this setting
    // A training step of fashion_resnet (batch 128) frees more than 128 MiB at once; with the
    // threshold there, chance details of the heap's layout decided whether every step gave its
    // pages back and faulted them in again (~30,000 page faults/s, epochs 3x slower).
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
    openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

void set_num_threads(int n) {
  init_runtime();
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n > 0 ? n : 1);
}

int get_num_threads() { return omp_get_max_threads(); }

std::string cpu_capability() { return detail::has_avx512() ? "avx512" : "generic"; }

}  // namespace tg
