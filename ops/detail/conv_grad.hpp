// The gradients of a convolution as recorded ops, for conv2d and the ops that end in one.
#pragma once

#include "../../core/detail/graph.hpp"
#include "conv_lowering.hpp"

namespace tg::detail {

// dx, dw and db of the convolution y = conv(x, w) + b planned by p, from y's gradient g, computed
// in one pass per image (shared lowering) for the inputs that require grad (undefined for the
// others). Each is recorded as its own op whose derivatives are again convolutions: dx = the
// transposed convolution of g by w, dw = the weight gradient of (x, g), db = g summed over (N, H, W).
template <class T>
Gradients<T> conv2d_gradients(const ConvPlan& p, const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                              const Variable<T>& g);

}  // namespace tg::detail
