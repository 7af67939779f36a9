// Linear: y = x·Wᵀ + b, with W of shape (out, in), initialised like PyTorch's nn.Linear.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "../ops/linalg.hpp"
#include "init.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class Linear : public Module<T> {
 public:
  Linear(std::size_t in, std::size_t out, bool bias = true) : Linear(in, out, bias, default_generator()) {}
  // The same with its initial values drawn from `gen` (used only while constructing).
  Linear(std::size_t in, std::size_t out, bool bias, Generator& gen) : in_(in), out_(out) {
    // PyTorch: kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), for weight and bias.
    weight_ = this->register_parameter("weight", init::kaiming_uniform<T>({out, in}, gen, std::sqrt(5.0)));
    const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
    if (bias) bias_ = this->register_parameter("bias", init::uniform<T>({out}, -bound, bound, gen));
  }

  Variable<T> forward(const Variable<T>& x) override { return linear(x, weight_, bias_); }
  std::string describe() const override {
    return fmt::format("Linear({}, {}{})", in_, out_, bias_.defined() ? "" : ", bias=false");
  }

  Variable<T>& weight() { return weight_; }
  const Variable<T>& weight() const { return weight_; }
  Variable<T>& bias() { return bias_; }  // undefined without bias
  const Variable<T>& bias() const { return bias_; }

 private:
  std::size_t in_, out_;
  Variable<T> weight_, bias_;
};

}  // namespace tg::nn
