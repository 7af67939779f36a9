// Resident memory over a long training run, for the soak tests: a baseline taken after warm-up
// and the peak sampled after it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <fstream>

namespace tg::test {

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed memory in quarantine, so RSS is no measure there (LeakSanitizer checks leaks).
inline constexpr bool kResidentMemoryIsMeasure = false;
#else
inline constexpr bool kResidentMemoryIsMeasure = true;
#endif

// How much resident memory may grow after warm-up before a soak test fails.
inline constexpr std::size_t kResidentGrowthBound = std::size_t(4) << 20;  // 4 MiB

// Resident set size in bytes, from /proc/self/statm (second field, in pages).
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Call at() after every step and finish() after the last: the baseline is the RSS at step
// `warmup`, the peak the largest RSS at every 100th step after it and at the end.
class ResidentMemoryWatch {
 public:
  explicit ResidentMemoryWatch(int warmup) : warmup_(warmup) {}

  void at(int step) {
    if (step == warmup_) baseline_ = resident_bytes();
    if (step > warmup_ && step % 100 == 0) peak_ = std::max(peak_, resident_bytes());
  }
  void finish() { peak_ = std::max(peak_, resident_bytes()); }

  std::size_t baseline() const { return baseline_; }
  std::size_t peak() const { return peak_; }
  double growth_kib() const { return (static_cast<double>(peak_) - static_cast<double>(baseline_)) / 1024; }
  bool stayed_flat() const { return peak_ < baseline_ + kResidentGrowthBound; }

 private:
  int warmup_;
  std::size_t baseline_ = 0, peak_ = 0;
};

}  // namespace tg::test
