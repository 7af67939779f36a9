// Shape arithmetic that cannot wrap around: element counts, products and sums of sizes. An
// overflow is a std::invalid_argument naming the function and the values, never a wrong size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../errors.hpp"
#include "../tensor.hpp"

namespace tg::detail {

// The largest element count a tensor may have: its bytes (of an 8-byte type) must fit in PTRDIFF_MAX.
constexpr std::size_t max_elements = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / 8;

inline std::size_t checked_mul(const char* function, std::size_t a, std::size_t b) {
  std::size_t out;
  if (__builtin_mul_overflow(a, b, &out)) fail(function, "size {} x {} overflows", a, b);
  return out;
}

inline std::size_t checked_add(const char* function, std::size_t a, std::size_t b) {
  std::size_t out;
  if (__builtin_add_overflow(a, b, &out)) fail(function, "size {} + {} overflows", a, b);
  return out;
}

// The number of elements of `shape`, or false when it is larger than any tensor can be.
inline bool count_fits(const Shape& shape, std::size_t& count) {
  count = 1;
  for (std::size_t d : shape) {
    if (d == 0) {
      count = 0;
      return true;
    }
  }
  for (std::size_t d : shape) {
    if (__builtin_mul_overflow(count, d, &count) || count > max_elements) return false;
  }
  return true;
}

// The number of elements of `shape`, refused when it is larger than any tensor can be.
inline std::size_t checked_count(const char* function, const Shape& shape) {
  std::size_t n;
  if (!count_fits(shape, n)) {
    fail(function, "shape {} has more elements than a tensor can hold (the count overflows)", format_shape(shape));
  }
  return n;
}

// The product of shape[begin, end) (a merged extent), refused when it overflows.
inline std::size_t checked_product(const char* function, const Shape& shape, std::size_t begin, std::size_t end) {
  return checked_count(function, Shape(shape.begin() + static_cast<std::ptrdiff_t>(begin),
                                       shape.begin() + static_cast<std::ptrdiff_t>(end)));
}

}  // namespace tg::detail
