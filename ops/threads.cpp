#include "threads.hpp"

#include <thread>

// OpenBLAS's own controls; declared here so this file needs no cblas.h.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace tg {

void set_num_threads(int n) {
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  openblas_set_num_threads(n > 0 ? n : 1);
}

int get_num_threads() { return openblas_get_num_threads(); }

}  // namespace tg
