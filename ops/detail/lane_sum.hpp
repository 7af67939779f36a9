// The one summation loop of the kernels: accurate and fast.
#pragma once

#include <cstddef>
#include <utility>

namespace tg::detail {

// The sum of value(0) .. value(n - 1), accumulated in double over 16 independent lanes: a single
// running sum is a chain of dependent additions the compiler may not reorder, while the lanes
// vectorise without reassociating anything, so the result does not depend on the build.
template <class F>
double lane_sum(std::size_t n, F value) {
  constexpr std::size_t lanes = 16;
  double acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) acc[k] += static_cast<double>(value(i + k));
  }
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(value(i));
  for (std::size_t k = 0; k < lanes; ++k) total += acc[k];
  return total;
}

// The sums of a(0) .. a(n - 1) and of b(0) .. b(n - 1) in one pass, each as lane_sum adds them:
// 16 lanes of type Acc, added up in double.
template <class Acc = double, class A, class B>
std::pair<double, double> lane_sums(std::size_t n, A a, B b) {
  constexpr std::size_t lanes = 16;
  Acc acc_a[lanes] = {}, acc_b[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) {
      acc_a[k] += static_cast<Acc>(a(i + k));
      acc_b[k] += static_cast<Acc>(b(i + k));
    }
  }
  double total_a = 0, total_b = 0;
  for (; i < n; ++i) {
    total_a += static_cast<double>(a(i));
    total_b += static_cast<double>(b(i));
  }
  for (std::size_t k = 0; k < lanes; ++k) {
    total_a += static_cast<double>(acc_a[k]);
    total_b += static_cast<double>(acc_b[k]);
  }
  return {total_a, total_b};
}

// Runs up to this long may be summed in float lanes, lane_sums<float>: 16 lanes of at most 256 terms
// each (rounding within a few hundred float ulps of the run's magnitude, like a float GEMM's), at twice
// the vector width of double lanes. BatchNorm's sums over short runs (one channel of one image) ran at
// half the memory's speed in double.
inline constexpr std::size_t kShortRun = 4096;

}  // namespace tg::detail
