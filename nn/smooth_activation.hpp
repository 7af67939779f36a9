// Modules for the smooth activations of ops/smooth_activation: GELU, SiLU, Softplus.
#pragma once

#include <fmt/format.h>

#include "../ops/smooth_activation.hpp"
#include "module.hpp"

namespace tg::nn {

// The exact (erf) GELU, PyTorch's default (approximate='none').
template <class T = float>
class GELU : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return gelu(x); }
  std::string describe() const override { return "GELU(approximate='none')"; }
};

template <class T = float>
class SiLU : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return silu(x); }
  std::string describe() const override { return "SiLU()"; }
};

// log(1 + exp(beta x)) / beta, linear where beta x > threshold (torch.nn.Softplus).
template <class T = float>
class Softplus : public Module<T> {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : beta_(static_cast<T>(beta)), threshold_(static_cast<T>(threshold)) {}
  Variable<T> forward(const Variable<T>& x) override { return softplus(x, beta_, threshold_); }
  std::string describe() const override { return fmt::format("Softplus(beta={}, threshold={})", beta_, threshold_); }

 private:
  T beta_, threshold_;
};

}  // namespace tg::nn
