// SGD with momentum, dampening, Nesterov momentum and L2 weight decay: torch.optim.SGD's rule.
#pragma once

#include <initializer_list>

#include "optimizer.hpp"

namespace tg::optim {

struct SGDOptions {
  double lr = 0.01;  // torch has no default here; 0.01 is a common starting point
  double momentum = 0.0;
  double weight_decay = 0.0;  // L2: added to the gradient as weight_decay * p
  bool nesterov = false;      // needs momentum > 0 and dampening == 0
  double dampening = 0.0;
};

// For each parameter p with gradient g:
//   g = g + weight_decay * p
//   if momentum != 0:  buf = g on the first step, else buf = momentum * buf + (1 - dampening) * g
//                      g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
// State: "momentum_buffer" per parameter (only with momentum).
template <class T = float>
class SGD : public detail::ConfiguredOptimizer<T, SGDOptions> {
 public:
  explicit SGD(std::vector<Variable<T>> params, SGDOptions options = {});
  SGD(std::initializer_list<Variable<T>> params, SGDOptions options = {})
      : SGD(std::vector<Variable<T>>(params), options) {}

  void step() override;
  // options(), the options with the current learning rate, comes from ConfiguredOptimizer.

 protected:
  std::vector<std::string> buffer_names() const override { return {"momentum_buffer"}; }
  bool counts_steps() const override { return false; }

 private:
  using detail::ConfiguredOptimizer<T, SGDOptions>::options_;
};

}  // namespace tg::optim
