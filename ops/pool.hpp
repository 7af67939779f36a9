// 2-D max, average and adaptive average pooling over (N, C, H, W), with PyTorch's semantics
// (ceil_mode=False). Differentiable to any order.
#pragma once

#include <cstddef>

#include "../core/variable.hpp"

namespace tg {

// Square windows of side `kernel`, moved by `stride` (0 means stride = kernel), over the input
// padded by `padding` on every side (at most kernel / 2, as PyTorch requires). The output side is
// floor((H + 2*padding - kernel) / stride) + 1. Bad shapes or arguments throw std::invalid_argument
// (a kernel whose window would hold more elements than a tensor can, too).

// Padding reads as -inf; the gradient goes to the first maximum of each window.
template <class T>
Variable<T> max_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0);

// Padding counts as zeros: every window sum is divided by kernel * kernel (count_include_pad=True).
template <class T>
Variable<T> avg_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0);

// x (N, C, H, W) or (C, H, W) to output_size = {OH, OW}: output row i averages input rows
// floor(i*H/OH) to ceil((i+1)*H/OH) - 1 (columns likewise), as torch's adaptive_avg_pool2d.
template <class T>
Variable<T> adaptive_avg_pool2d(const Variable<T>& x, const Shape& output_size);

}  // namespace tg
