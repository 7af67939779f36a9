// Shape ops: reshape, transpose, permute, flatten, concat. Each returns a new row-major tensor.
#pragma once

#include <initializer_list>
#include <vector>

#include "../core/variable.hpp"

namespace tg {

// The same elements in row-major order with a new shape of the same size.
template <class T> Variable<T> reshape(const Variable<T>& a, const Shape& shape);
// The transpose of a 2-D tensor (use permute for more dimensions).
template <class T> Variable<T> transpose(const Variable<T>& a);
// Dimension d of the result is dimension perm[d] of `a`; perm is a permutation of 0..ndim-1.
template <class T> Variable<T> permute(const Variable<T>& a, const Shape& perm);
// Flattens dimensions start_dim..end into one, like torch.flatten(a, start_dim); a 0-d tensor gives (1,).
template <class T> Variable<T> flatten(const Variable<T>& a, int start_dim = 1);
// Joins tensors along `axis`; all have the same rank and the same extents except along `axis`.
template <class T> Variable<T> concat(const std::vector<Variable<T>>& inputs, int axis);
// So that `concat({a, b}, 0)` deduces T.
template <class T>
Variable<T> concat(std::initializer_list<Variable<T>> inputs, int axis) {
  return concat(std::vector<Variable<T>>(inputs), axis);
}

}  // namespace tg
