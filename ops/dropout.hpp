// Dropout: during training, zero each element with probability p and scale the rest by 1 / (1 - p).
#pragma once

#include "../core/generator.hpp"
#include "../core/variable.hpp"

namespace tg {

// training and 0 < p < 1: a fresh mask drawn from `gen` (same seed, same mask); the gradient is
// the mask times 1 / (1 - p). p == 1 gives zeros (as PyTorch does) and draws nothing.
// Not training, or p == 0: returns `a` itself, like PyTorch (no copy; gradients flow straight through).
// p outside [0, 1] (or NaN) is a std::invalid_argument.
template <class T>
Variable<T> dropout(const Variable<T>& a, Scalar<T> p, bool training, Generator& gen);

}  // namespace tg
