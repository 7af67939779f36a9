// Axis validation for ops that take axes: messages name the function, the axis and the shape.
#pragma once

#include <algorithm>
#include <vector>

#include "../../core/errors.hpp"
#include "../../core/tensor.hpp"

namespace tg::detail {

// `axis` (negative counts from the end) as an index in [0, ndim). A 0-d tensor accepts -1 and 0,
// as PyTorch does, and gives 0.
inline std::size_t checked_axis(const char* function, int axis, const Shape& shape) {
  const int n = static_cast<int>(shape.size());
  const int range = n == 0 ? 1 : n;
  if (axis < -range || axis >= range) {
    fail(function, "axis {} is out of range for a tensor of shape {} (valid axes: {} to {})", axis,
         format_shape(shape), -range, range - 1);
  }
  return n == 0 ? 0 : static_cast<std::size_t>(axis < 0 ? axis + n : axis);
}

// The axes normalised and sorted; an empty list means every axis. A repeated axis is an error.
// For a 0-d tensor the result is empty (there is nothing to reduce).
inline std::vector<std::size_t> checked_axes(const char* function, const Axes& axes, const Shape& shape) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t d = 0; d < shape.size(); ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(shape.empty() ? 1 : shape.size(), false);
  for (int a : axes) {
    const std::size_t d = checked_axis(function, a, shape);
    if (seen[d]) {
      fail(function, "axis {} is repeated in axes [{}] (dimension {} of a tensor of shape {} named twice)", a,
           fmt::join(axes, ", "), d, format_shape(shape));
    }
    seen[d] = true;
    out.push_back(d);
  }
  if (shape.empty()) return {};
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tg::detail
