// Flatten and Dropout: shape and regularisation modules.
#pragma once

#include <fmt/format.h>

#include "../core/generator.hpp"
#include "../ops/dropout.hpp"
#include "../ops/shape.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class Flatten : public Module<T> {
 public:
  explicit Flatten(int start_dim = 1) : start_dim_(start_dim) {}
  Variable<T> forward(const Variable<T>& x) override { return flatten(x, start_dim_); }
  std::string describe() const override { return fmt::format("Flatten(start_dim={})", start_dim_); }

 private:
  int start_dim_;
};

// Zeroes elements with probability p while training (survivors scaled by 1/(1-p)); identity in eval().
// Its masks come from its own Generator, seeded from the default one when it is made.
template <class T = float>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p = 0.5) : p_(static_cast<T>(p)), gen_(std::make_shared<Generator>(default_generator().next())) {
    if (!(p >= 0 && p < 1)) fail("Dropout", "probability must be in [0, 1), got {}", p);
  }
  Variable<T> forward(const Variable<T>& x) override { return dropout(x, p_, this->is_training(), *gen_); }
  std::string describe() const override { return fmt::format("Dropout(p={})", p_); }

 private:
  T p_;
  std::shared_ptr<Generator> gen_;
};

}  // namespace tg::nn
