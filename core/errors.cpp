#include "errors.hpp"

#include <algorithm>

namespace tg {

int normalize_axis(const char* function, int axis, std::size_t ndim) {
  const int n = static_cast<int>(ndim);
  if (n == 0) fail(function, "axis {} is out of range for a 0-dimensional tensor, which has no axes", axis);
  if (axis < -n || axis >= n) {
    fail(function, "axis {} is out of range for a tensor with {} dimension{} (valid: {} to {})", axis, n,
         n == 1 ? "" : "s", -n, n - 1);
  }
  return axis < 0 ? axis + n : axis;
}

std::vector<std::size_t> normalize_axes(const char* function, const Axes& axes, std::size_t ndim) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (int a : axes) out.push_back(static_cast<std::size_t>(normalize_axis(function, a, ndim)));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    fail(function, "axes {} name the same dimension twice", format_shape(axes));
  }
  return out;
}

}  // namespace tg
