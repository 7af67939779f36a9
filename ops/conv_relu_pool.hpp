// conv2d -> relu -> 2x2 max-pool in one op, image by image, so that the batch-sized convolution
// output and its ReLU never exist in memory (nn::Sequential uses it for that run of modules).
#pragma once

#include <cstddef>

#include "../core/variable.hpp"

namespace tg {

// max_pool2d(relu(conv2d(x, w, b, stride, padding, dilation, groups)), 2), with the same values
// and first-order gradients, bit for bit. Each image's convolution output stays in a small
// per-thread buffer; backward keeps one byte per pooling window instead of the activations. Under
// create_graph the gradients are recorded (pooling scatter, then convolution gradients), so the op
// is differentiable to any order. Arguments are checked as conv2d and max_pool2d check them.
template <class T>
Variable<T> conv2d_relu_max_pool2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b = Variable<T>(),
                                   std::size_t stride = 1, std::size_t padding = 0, std::size_t dilation = 1,
                                   std::size_t groups = 1);

}  // namespace tg
