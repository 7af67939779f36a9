// Dropout: zeroes elements at random while training.
#pragma once

#include <memory>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/generator.hpp"
#include "../ops/dropout.hpp"
#include "module.hpp"

namespace tg::nn {

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
