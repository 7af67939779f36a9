// Indexing: slices or elements of a tensor picked by integer indices (tg::Indices), as
// torch.index_select, torch.gather and torch.nn.functional.embedding. Every index must lie in
// [0, extent) (negative indices are refused, as PyTorch does); the error names the function, the
// bad value, its position and the valid range. Each op's gradient adds back into zeros at the
// picked positions (repeated indices add up), and is itself differentiable.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// The slices of `a` at `index` along `axis` (negative counts from the end): index is 1-D (or 0-D,
// one slice); the result has a's shape with extent index.size() on `axis`.
template <class T> Variable<T> index_select(const Variable<T>& a, int axis, const Indices& index);

// torch.gather: index has a's rank and, except on `axis`, extents no larger than a's; the result
// has index's shape, out[p] = a[p with its coordinate on `axis` replaced by index[p]].
template <class T> Variable<T> gather(const Variable<T>& a, int axis, const Indices& index);

// The rows of weight (num_embeddings, embedding_dim) at `ids`: shape ids.shape + (embedding_dim,).
template <class T> Variable<T> embedding(const Indices& ids, const Variable<T>& weight);

}  // namespace tg
