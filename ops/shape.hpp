// Shape ops: reshape, transpose, permute, flatten, concat, expand, slicing and stacking. Each
// returns a new row-major tensor.
#pragma once

#include <cstdint>
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

// Joins tensors of one shape along a new axis `axis` (torch.stack).
template <class T> Variable<T> stack(const std::vector<Variable<T>>& inputs, int axis);
template <class T>
Variable<T> stack(std::initializer_list<Variable<T>> inputs, int axis) {
  return stack(std::vector<Variable<T>>(inputs), axis);
}

// Pieces of `size` along `axis` (the last one smaller if it does not divide), like torch.split.
template <class T> std::vector<Variable<T>> split(const Variable<T>& a, std::size_t size, int axis);

// A new axis of extent 1 at `dim` (-ndim-1 <= dim <= ndim), like torch.unsqueeze.
template <class T> Variable<T> unsqueeze(const Variable<T>& a, int dim);
// Removes axis `dim` when its extent is 1 (otherwise returns the same values), like torch.squeeze(a, dim).
template <class T> Variable<T> squeeze(const Variable<T>& a, int dim);

// Elements start, start + step, ... before stop along `axis`, like Python's a[start:stop:step]:
// negative bounds count from the end, bounds past either end clamp; step must be positive.
template <class T>
Variable<T> slice(const Variable<T>& a, int axis, std::int64_t start, std::int64_t stop, std::int64_t step = 1);

// `a` broadcast to `shape` like torch.expand: new leading axes, and axes of extent 1 stretched.
template <class T> Variable<T> expand(const Variable<T>& a, const Shape& shape);

}  // namespace tg
