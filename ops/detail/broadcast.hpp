// NumPy broadcasting for binary ops, and sum_to, which folds a gradient back to an input's shape.
#pragma once

#include "../../core/errors.hpp"
#include "../../core/variable.hpp"

namespace tg::detail {

// The broadcast result of two shapes; throws std::invalid_argument naming `op` where NumPy would refuse.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Sums `g` over the axes that broadcasting added or stretched, giving a Variable of `shape` (g
// itself when it already has that shape). Differentiable: its derivative is expand.
template <class T>
Variable<T> sum_to(const Variable<T>& g, const Shape& shape);

}  // namespace tg::detail
