// The matrix product with transpose flags that matmul, linear and their derivatives share.
#pragma once

#include "../../core/variable.hpp"

namespace tg::detail {

// op(A)·op(B), each operand seen as a matrix (every dimension but the last merged into rows) and
// transposed where its flag says, through BLAS's transpose flags (never a copy). The result keeps
// a's leading dimensions when a is not transposed, else is (M, N). Recorded as `name`; its
// derivatives are products of the same kind. Inner dimensions that differ throw, naming `name`.
template <class T>
Variable<T> mm(const char* name, const Variable<T>& a, const Variable<T>& b, bool ta, bool tb);

}  // namespace tg::detail
