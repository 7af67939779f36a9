// The process measurements every bench program reports, tapegrad's and the libtorch peers'
// alike (bench/epoch_harness.hpp, bench/second_order_data.hpp). No tapegrad or torch here.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

namespace bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// User plus system time of all the process's threads so far: on a loaded machine it tells
// work from waiting (spinning threads count as work).
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

using clock_type = std::chrono::steady_clock;
inline double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// OPENBLAS_NUM_THREADS, or `unset` without it (libtorch's linear layers take their threads from it).
inline const char* openblas_threads(const char* unset) {
  const char* value = std::getenv("OPENBLAS_NUM_THREADS");
  return value ? value : unset;
}

}  // namespace bench
