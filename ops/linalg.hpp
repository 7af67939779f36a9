// Matrix products on BLAS: matmul and the fully connected layer's linear map.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// a (M, K) times b (K, N), both 2-D. Throws std::invalid_argument naming both shapes when an
// input is not 2-D or the inner dimensions differ.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b);

// x·wᵀ + b like torch.nn.functional.linear: x (*, in), w (out, in), b (out,) or an undefined
// Variable for no bias; the result is (*, out). Products run on BLAS with transpose flags.
template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>());

}  // namespace tg
