// A chain of layers, each a convolution, batch normalisation with batch statistics and optionally a
// ReLU, as one op: what nn::fuse_conv_batch_norm runs a model's Conv2d, BatchNorm2d[, ReLU] runs
// with in training. In float with oneDNN, every value between the chain's input and its output stays
// in oneDNN's blocked layout (see ops/detail/dnnl_chain.hpp); otherwise the layers run one by one as
// conv2d, batch_norm and relu.
#pragma once

#include <cstddef>
#include <vector>

#include "../core/variable.hpp"

namespace tg {

template <class T>
struct ConvBatchNormLayer {
  // conv2d(x, weight, bias, stride, padding, dilation, groups); bias undefined: none.
  Variable<T> weight, bias;
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
  // batch_norm(., running_mean, running_var, scale, shift, training = true, momentum, eps): scale and
  // shift undefined: none; the running statistics, when not null, are updated.
  Variable<T> scale, shift;
  Tensor<Scalar<T>>* running_mean = nullptr;
  Tensor<Scalar<T>>* running_var = nullptr;
  Scalar<T> momentum = Scalar<T>(0.1), eps = Scalar<T>(1e-5);
  bool relu = false;  // then relu(.)
};

// The layers applied to x in order. The same values as the ops one by one, up to rounding (oneDNN
// sums in another order), and the same running-statistic updates; differentiable to any order
// (under create_graph the backward recomputes the layers one by one and differentiates those).
// Bad shapes throw what conv2d and batch_norm throw.
template <class T>
Variable<T> conv_batch_norm_chain(const Variable<T>& x, const std::vector<ConvBatchNormLayer<T>>& layers);

}  // namespace tg
