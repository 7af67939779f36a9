// Matrix products on BLAS: matmul, bmm and the fully connected layer's linear map.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// The matrix product like torch.matmul, for any ranks of at least one:
// - (M, K) x (K, N) -> (M, N); a of more dimensions against a 2-D b merges a's leading dimensions
//   into the rows of one product: (..., M, K) x (K, N) -> (..., M, N);
// - a 1-D operand is a row (on the left) or a column (on the right) whose added dimension is
//   removed from the result: (K,) x (K,) -> () (the dot product), (..., M, K) x (K,) -> (..., M),
//   (K,) x (..., K, N) -> (..., N);
// - otherwise both are stacks of matrices in their last two dimensions whose leading (batch)
//   dimensions broadcast like NumPy's: (B, 1, M, K) x (C, K, N) -> (B, C, M, N).
// Each product is a GEMM on the buffers (no copies of transposes or broadcast operands), batches
// split over the threads where that pays. Throws std::invalid_argument naming both shapes for a
// 0-D operand, inner dimensions that differ or batch dimensions that do not broadcast.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b);

// The batched product of two 3-D tensors, like torch.bmm: (B, M, K) x (B, K, N) -> (B, M, N); no
// broadcasting. Throws std::invalid_argument naming 'bmm' and both shapes for other ranks, batch
// sizes that differ or inner dimensions that differ.
template <class T>
Variable<T> bmm(const Variable<T>& a, const Variable<T>& b);

// x·wᵀ + b like torch.nn.functional.linear: x (*, in), w (out, in), b (out,) or an undefined
// Variable for no bias; the result is (*, out). Products run on BLAS with transpose flags.
template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>());

}  // namespace tg
