// 2-D max and average pooling over (N, C, H, W), with PyTorch's semantics (ceil_mode=False).
#pragma once

#include <cstddef>

#include "../core/variable.hpp"

namespace tg {

// Square windows of side `kernel`, moved by `stride` (0 means stride = kernel), over the input
// padded by `padding` on every side (at most kernel / 2, as PyTorch requires). The output side is
// floor((H + 2*padding - kernel) / stride) + 1. Bad shapes or arguments throw std::invalid_argument.

// Padding reads as -inf; the gradient goes to the first maximum of each window.
template <class T>
Variable<T> max_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0);

// Padding counts as zeros: every window sum is divided by kernel * kernel (count_include_pad=True).
template <class T>
Variable<T> avg_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0);

}  // namespace tg
