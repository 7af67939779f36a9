// 2-D convolution (cross-correlation, like torch.nn.functional.conv2d), lowered to im2col + GEMM.
#pragma once

#include <cstddef>

#include "../core/variable.hpp"

namespace tg {

// x (N, C, H, W), w (O, C/groups, kH, kW), b (O,) or an undefined Variable for no bias.
// Returns (N, O, OH, OW) with OH = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1
// (and OW likewise); padding is zeros. Bad shapes or arguments throw std::invalid_argument.
template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>(),
                   std::size_t stride = 1, std::size_t padding = 0, std::size_t dilation = 1,
                   std::size_t groups = 1);

}  // namespace tg
