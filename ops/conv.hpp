// 2-D convolution (cross-correlation, like torch.nn.functional.conv2d) and its adjoint, the
// transposed convolution, both lowered to im2col + GEMM, and the fused conv2d -> relu -> 2x2
// max-pool. Differentiable to any order.
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

// torch.nn.functional.conv_transpose2d: x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW), b (C_out,)
// or undefined. Returns (N, C_out, OH, OW) with
// OH = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1 (and OW likewise): the
// adjoint of conv2d with the same stride, padding, dilation and groups (its input gradient), the
// output_padding extra rows and columns added at the bottom and right. output_padding must be
// smaller than stride or dilation. Bad shapes or arguments throw std::invalid_argument.
template <class T>
Variable<T> conv_transpose2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>(),
                             std::size_t stride = 1, std::size_t padding = 0, std::size_t output_padding = 0,
                             std::size_t groups = 1, std::size_t dilation = 1);

// max_pool2d(relu(conv2d(x, w, b, stride, padding, dilation, groups)), 2) in one op, image by
// image, so that the batch-sized convolution output and its ReLU never exist in memory (the op of
// nn::ConvReLUMaxPool2d, which nn::fuse_conv_relu_pool puts in place of such runs). Same values and
// first-order gradients, bit for bit. Each image's convolution output stays in a small per-thread
// buffer; backward keeps one byte per pooling window instead of the activations. Under
// create_graph the gradients are recorded (pooling scatter, then convolution gradients), so the op
// is differentiable to any order. Arguments are checked as conv2d and max_pool2d check them.
template <class T>
Variable<T> conv2d_relu_max_pool2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>(),
                                   std::size_t stride = 1, std::size_t padding = 0, std::size_t dilation = 1,
                                   std::size_t groups = 1);

}  // namespace tg
