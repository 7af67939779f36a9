#include "init.hpp"

#include <cmath>

#include "../core/detail/checked.hpp"
#include "../core/errors.hpp"

namespace tg::nn::init {

Fans fans_of(const Shape& shape) {
  if (shape.size() < 2) fail("init", "fan in and fan out need at least 2 dimensions, got shape {}", format_shape(shape));
  double receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
  return {static_cast<double>(shape[1]) * receptive, static_cast<double>(shape[0]) * receptive};
}

namespace {

// A tensor of `shape` filled element by element with draw(draws). One lock for the whole tensor:
// its numbers are one unbroken run of the generator's, even when other threads draw from it too.
template <class T, class Draw>
Tensor<T> drawn(const char* name, const Shape& shape, Generator& gen, Draw draw) {
  detail::checked_count(name, shape);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  auto draws = gen.draws();
  for (auto& e : t) e = static_cast<T>(draw(draws));
  return t;
}

}  // namespace

template <class T>
Tensor<T> uniform(const Shape& shape, double low, double high, Generator& gen) {
  if (!(low <= high)) fail("init::uniform", "low {} is greater than high {}", low, high);
  return drawn<T>("init::uniform", shape, gen, [&](Generator::Draws& draws) { return draws.uniform(low, high); });
}

template <class T>
Tensor<T> normal(const Shape& shape, double mean, double stddev, Generator& gen) {
  if (!(stddev >= 0)) fail("init::normal", "standard deviation must be >= 0, got {}", stddev);
  return drawn<T>("init::normal", shape, gen, [&](Generator::Draws& draws) { return draws.normal(mean, stddev); });
}

template <class T>
Tensor<T> constant(const Shape& shape, double value) {
  detail::checked_count("init::constant", shape);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  t.fill(static_cast<T>(value));
  return t;
}

template <class T>
Tensor<T> zeros(const Shape& shape) {
  return constant<T>(shape, 0.0);
}

template <class T>
Tensor<T> xavier_uniform(const Shape& shape, Generator& gen, double gain) {
  const Fans f = fans_of(shape);
  const double bound = gain * std::sqrt(6.0 / (f.in + f.out));
  return uniform<T>(shape, -bound, bound, gen);
}

template <class T>
Tensor<T> xavier_normal(const Shape& shape, Generator& gen, double gain) {
  const Fans f = fans_of(shape);
  return normal<T>(shape, 0.0, gain * std::sqrt(2.0 / (f.in + f.out)), gen);
}

namespace {
double leaky_relu_gain(double a) { return std::sqrt(2.0 / (1 + a * a)); }
}  // namespace

template <class T>
Tensor<T> kaiming_uniform(const Shape& shape, Generator& gen, double a) {
  const double bound = leaky_relu_gain(a) * std::sqrt(3.0 / fans_of(shape).in);
  return uniform<T>(shape, -bound, bound, gen);
}

template <class T>
Tensor<T> kaiming_normal(const Shape& shape, Generator& gen, double a) {
  return normal<T>(shape, 0.0, leaky_relu_gain(a) / std::sqrt(fans_of(shape).in), gen);
}

// Explicit instantiations for float and double.
template Tensor<float> uniform<float>(const Shape&, double, double, Generator&);
template Tensor<double> uniform<double>(const Shape&, double, double, Generator&);
template Tensor<float> normal<float>(const Shape&, double, double, Generator&);
template Tensor<double> normal<double>(const Shape&, double, double, Generator&);
template Tensor<float> constant<float>(const Shape&, double);
template Tensor<double> constant<double>(const Shape&, double);
template Tensor<float> zeros<float>(const Shape&);
template Tensor<double> zeros<double>(const Shape&);
template Tensor<float> xavier_uniform<float>(const Shape&, Generator&, double);
template Tensor<double> xavier_uniform<double>(const Shape&, Generator&, double);
template Tensor<float> xavier_normal<float>(const Shape&, Generator&, double);
template Tensor<double> xavier_normal<double>(const Shape&, Generator&, double);
template Tensor<float> kaiming_uniform<float>(const Shape&, Generator&, double);
template Tensor<double> kaiming_uniform<double>(const Shape&, Generator&, double);
template Tensor<float> kaiming_normal<float>(const Shape&, Generator&, double);
template Tensor<double> kaiming_normal<double>(const Shape&, Generator&, double);

}  // namespace tg::nn::init
