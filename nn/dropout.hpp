// Dropout: zeroes elements at random while training.
#pragma once

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/generator.hpp"
#include "../ops/dropout.hpp"
#include "module.hpp"

namespace tg::nn {

// Zeroes elements with probability p while training (survivors scaled by 1/(1-p)); identity in eval().
// Each forward draws its mask from the default generator (manual_seed), or from the Generator
// given to the constructor, which it keeps by reference: that generator must outlive the module.
template <class T = float>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p = 0.5) : Dropout(p, default_generator()) {}
  Dropout(double p, Generator& gen) : p_(static_cast<T>(p)), gen_(&gen) {
    if (!(p >= 0 && p < 1)) fail("Dropout", "probability must be in [0, 1), got {}", p);
  }
  Variable<T> forward(const Variable<T>& x) override { return dropout(x, p_, this->is_training(), *gen_); }
  std::string describe() const override { return fmt::format("Dropout(p={})", p_); }

 private:
  T p_;
  Generator* gen_;
};

}  // namespace tg::nn
