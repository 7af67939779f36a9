// RMSprop: torch.optim.RMSprop's rule, with optional momentum and the centered variant.
#pragma once

#include <initializer_list>

#include "optimizer.hpp"

namespace tg::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2: added to the gradient
  double momentum = 0.0;
  bool centered = false;
};

// For each parameter p with gradient g:
//   g = g + weight_decay * p
//   s = alpha * s + (1 - alpha) * g * g                    ("square_avg", zeros at first)
//   centered: a = alpha * a + (1 - alpha) * g               ("grad_avg"), avg = sqrt(s - a * a) + eps
//   otherwise: avg = sqrt(s) + eps
//   momentum > 0: buf = momentum * buf + g / avg, p = p - lr * buf   ("momentum_buffer", zeros at first)
//   otherwise:    p = p - lr * g / avg
template <class T = float>
class RMSprop : public detail::ConfiguredOptimizer<T, RMSpropOptions> {
 public:
  explicit RMSprop(std::vector<Variable<T>> params, RMSpropOptions options = {});
  RMSprop(std::initializer_list<Variable<T>> params, RMSpropOptions options = {})
      : RMSprop(std::vector<Variable<T>>(params), options) {}

  void step() override;
  // options(), the options with the current learning rate, comes from ConfiguredOptimizer.

 protected:
  std::vector<std::string> buffer_names() const override { return {"square_avg", "grad_avg", "momentum_buffer"}; }
  bool counts_steps() const override { return true; }

 private:
  using detail::ConfiguredOptimizer<T, RMSpropOptions>::options_;
};

}  // namespace tg::optim
