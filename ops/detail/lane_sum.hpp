// The one summation loop of the kernels: accurate and fast.
#pragma once

#include <cstddef>

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

}  // namespace tg::detail
