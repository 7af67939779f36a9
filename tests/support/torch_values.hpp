// Inputs and expected values shared with the PyTorch scripts quoted in the tests.
#pragma once

#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "../../core/tensor.hpp"

namespace tg::test {

// ((i·a) mod m - c) / d over the flat index i, as the PyTorch scripts build their inputs:
//   def pattern(shape, a, m, c, d):
//       return torch.tensor([float((i*a) % m - c)/d for i in range(prod(shape))], dtype=torch.double).reshape(shape)
template <class T = double>
Tensor<T> pattern(const Shape& shape, int a, int m, int c, double d) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(double(long(i) * a % m - c) / d);
  return t;
}

// start, start + 1, ... in row-major order: torch.arange(start, start + n).reshape(shape).
inline Tensor<double> arange(std::size_t n, const Shape& shape, double start = 0) {
  Tensor<double> t = Tensor<double>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) t(i) = start + static_cast<double>(i);
  t.reshape(shape);
  return t;
}

// Values printed by PyTorch, in row-major order, as a tensor of the given shape.
template <class T = double>
Tensor<T> values(const Shape& shape, const std::vector<double>& v) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  REQUIRE(v.size() == t.size());
  std::transform(v.begin(), v.end(), t.begin(), [](double x) { return static_cast<T>(x); });
  return t;
}

}  // namespace tg::test
