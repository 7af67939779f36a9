// The one header that brings in xtensor: the tensor type and the small vocabulary types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <xtensor/xarray.hpp>

namespace tg {

template <class T>
using Tensor = xt::xarray<T>;  // row-major, T = float or double

using Shape = std::vector<std::size_t>;
using Axes = std::vector<int>;               // negative = counted from the end
using Labels = std::vector<std::int64_t>;    // class indices

// The shape of a tensor as a tg::Shape (xtensor keeps its own small-vector type).
template <class T>
Shape shape_of(const Tensor<T>& t) {
  return Shape(t.shape().begin(), t.shape().end());
}

// Number of elements a shape holds (1 for the 0-d shape {}).
inline std::size_t element_count(const Shape& s) {
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  return n;
}

namespace detail {
// Keeps a template parameter out of deduction, so `record_op(..., lambda)` and `a * 2.0` work.
template <class U>
struct identity { using type = U; };
template <class U>
using identity_t = typename identity<U>::type;
}  // namespace detail

}  // namespace tg
