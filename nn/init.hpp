// Initialisers, as torch.nn.init: fans come from the shape ((out, in) or (out, in, kH, kW)),
// and every draw comes from a Generator.
#pragma once

#include "../core/generator.hpp"
#include "../core/tensor.hpp"

namespace tg::nn::init {

struct Fans {
  double in, out;
};
Fans fans_of(const Shape& shape);  // needs at least 2 dimensions

template <class T> Tensor<T> uniform(const Shape& shape, double low, double high, Generator& gen = default_generator());
template <class T> Tensor<T> normal(const Shape& shape, double mean, double stddev, Generator& gen = default_generator());
template <class T> Tensor<T> constant(const Shape& shape, double value);
template <class T> Tensor<T> zeros(const Shape& shape);
template <class T> Tensor<T> xavier_uniform(const Shape& shape, Generator& gen = default_generator(), double gain = 1);
template <class T> Tensor<T> xavier_normal(const Shape& shape, Generator& gen = default_generator(), double gain = 1);
// `a` is the negative slope of the rectifier that follows (0 for ReLU); PyTorch's layers use a = sqrt(5).
template <class T> Tensor<T> kaiming_uniform(const Shape& shape, Generator& gen = default_generator(), double a = 0);
template <class T> Tensor<T> kaiming_normal(const Shape& shape, Generator& gen = default_generator(), double a = 0);

}  // namespace tg::nn::init
