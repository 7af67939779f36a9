// Flatten: merges dimensions start_dim.. into one.
#pragma once

#include <fmt/format.h>

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

}  // namespace tg::nn
