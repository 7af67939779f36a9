// The matrix products with transpose flags that matmul, bmm, linear, attention and their
// derivatives share.
#pragma once

#include "../../core/variable.hpp"

namespace tg::detail {

// op(A)·op(B), each operand seen as a matrix (every dimension but the last merged into rows) and
// transposed where its flag says, through BLAS's transpose flags (never a copy). The result keeps
// a's leading dimensions when a is not transposed, else is (M, N). Recorded as `name`; its
// derivatives are products of the same kind. Inner dimensions that differ throw, naming `name`.
template <class T>
Variable<T> mm(const char* name, const Variable<T>& a, const Variable<T>& b, bool ta, bool tb);

// alpha · op(A_i)·op(B_i) for every batch entry i: a and b (at least 2-D) are stacks of matrices in
// their last two dimensions, op a transpose of each matrix where the flag says (BLAS's flag, no
// copy), and their leading (batch) dimensions broadcast like NumPy's. The result is
// (broadcast batch..., M, N). Recorded as `name`; its derivatives are batched products of the
// same kind, summed over the batch dimensions an operand was broadcast along. Inner dimensions
// that differ or batch dimensions that do not broadcast throw, naming `name` and both shapes.
template <class T>
Variable<T> batched_mm(const char* name, const Variable<T>& a, const Variable<T>& b, bool ta, bool tb, T alpha = T(1));

}  // namespace tg::detail
