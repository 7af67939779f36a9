// Normalisation: batch_norm (statistics per channel over the batch) and layer_norm (statistics over
// the trailing dimensions of each sample), with PyTorch's semantics; differentiable to any order.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// x (N, C, ...) normalised per channel c: y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.
// - Batch statistics (mean and biased variance over every dimension but 1) when `training` or when
//   the running statistics are null; then, if given, running_mean and running_var (shape (C,)) are
//   updated in place: r = (1 - momentum) * r + momentum * batch value, with the unbiased variance.
// - Otherwise (eval with running statistics) those statistics are used and left unchanged.
// The running-statistic pointers take no part in deducing T, so nullptr may be passed; both or
// neither must be null. An undefined weight or bias means none (weight 1, bias 0).
// std::invalid_argument naming batch_norm and the shapes: input of fewer than 2 dimensions, weight,
// bias or running statistic not of shape (C,), and training with one value per channel.
template <class T>
Variable<T> batch_norm(const Variable<T>& x, Tensor<Scalar<T>>* running_mean, Tensor<Scalar<T>>* running_var,
                       const Variable<T>& weight, const Variable<T>& bias, bool training,
                       Scalar<T> momentum = Scalar<T>(0.1), Scalar<T> eps = Scalar<T>(1e-5));

// x normalised over its trailing dimensions `normalized_shape` (one mean and biased variance per
// sample), then y = x_hat * weight + bias elementwise, weight and bias of shape normalized_shape
// (undefined: none). std::invalid_argument naming layer_norm and the shapes when normalized_shape
// is empty or is not x's trailing shape, or weight/bias are not of that shape.
template <class T>
Variable<T> layer_norm(const Variable<T>& x, const Shape& normalized_shape, const Variable<T>& weight,
                       const Variable<T>& bias, Scalar<T> eps = Scalar<T>(1e-5));

}  // namespace tg
