// Adam with L2 weight decay added to the gradient: torch.optim.Adam's rule (AdamW is in adamw.hpp).
#pragma once

#include <initializer_list>

#include "optimizer.hpp"

namespace tg::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient; AdamW: decoupled (see adamw.hpp)
  bool amsgrad = false;
};

// For each parameter p with gradient g, at its step t = 1, 2, ...:
//   g = g + weight_decay * p                     (Adam; AdamW instead first does p = p * (1 - lr * weight_decay))
//   m = beta1 * m + (1 - beta1) * g              ("exp_avg", zeros at first)
//   v = beta2 * v + (1 - beta2) * g * g          ("exp_avg_sq")
//   amsgrad: v_max = max(v_max, v), used for v   ("max_exp_avg_sq")
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
template <class T = float>
class Adam : public detail::ConfiguredOptimizer<T, AdamOptions> {
 public:
  explicit Adam(std::vector<Variable<T>> params, AdamOptions options = {});
  Adam(std::initializer_list<Variable<T>> params, AdamOptions options = {})
      : Adam(std::vector<Variable<T>>(params), options) {}

  void step() override;
  // options(), the options with the current learning rate, comes from ConfiguredOptimizer.

 protected:
  Adam(const char* name, bool decoupled, std::vector<Variable<T>> params, AdamOptions options);
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}; }
  bool counts_steps() const override { return true; }

 private:
  using detail::ConfiguredOptimizer<T, AdamOptions>::options_;
  bool decoupled_;  // AdamW
};

}  // namespace tg::optim
