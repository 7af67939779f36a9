#include "threads.hpp"

#include <omp.h>

#include "runtime.hpp"

namespace tg {

// One pool: OpenMP's. oneDNN's sgemm and our own loops run on it; OpenBLAS stays at one thread
// (configure_runtime) so that two pools never compete for the same cores.
void set_num_threads(int n) {
  kernels::configure_runtime();
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n > 0 ? n : 1);
}

int get_num_threads() {
  kernels::configure_runtime();
  return omp_get_max_threads();
}

}  // namespace tg
