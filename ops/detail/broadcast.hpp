// NumPy broadcasting for binary ops, and the one helper that folds a gradient back to an input's shape.
#pragma once

#include "../../core/errors.hpp"
#include "../../core/tensor.hpp"

namespace tg {

// The broadcast result of two shapes; throws std::invalid_argument naming `op` where NumPy would refuse.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Sums `grad` over the axes that broadcasting added or stretched, giving a tensor of `shape`.
template <class T>
Tensor<T> unbroadcast(const Tensor<T>& grad, const Shape& shape);

}  // namespace tg
