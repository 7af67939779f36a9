// Splitting a loop over the OpenMP threads (the kernels' one thread pool, see ops/threads.hpp).
// Include only from .cpp files compiled with OpenMP (the library's own sources).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>

namespace tg::detail {

// Below this many elements touched a loop stays on the calling thread: waking a second thread
// costs microseconds, as much as a memory-bound pass over this much data.
constexpr std::size_t parallel_min_elements = std::size_t(1) << 16;

// Calls body(lo, hi) on contiguous blocks covering [0, count), one block per thread, in parallel
// when count * elements_per_item is large enough and we are not already inside a parallel region.
// The blocks depend only on count and the thread count, so results are reproducible.
template <class F>
void parallel_blocks(std::size_t count, std::size_t elements_per_item, F&& body) {
  int threads = 1;
  if (count > 1 && count * elements_per_item >= parallel_min_elements && !omp_in_parallel()) {
    threads = static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(omp_get_max_threads())));
  }
  if (threads <= 1) {
    body(std::size_t(0), count);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t n = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t lo = count * t / n, hi = count * (t + 1) / n;
    if (lo < hi) body(lo, hi);
  }
}

}  // namespace tg::detail
