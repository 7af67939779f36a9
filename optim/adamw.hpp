// AdamW: Adam with decoupled weight decay, torch.optim.AdamW's rule: before the Adam update
// (without L2 in the gradient), p = p * (1 - lr * weight_decay).
#pragma once

#include "adam.hpp"

namespace tg::optim {

// PyTorch's AdamW defaults: AdamOptions with weight_decay = 0.01. `AdamW opt(params)` uses them;
// AdamOptions{} itself keeps Adam's weight_decay = 0, so set it when you pass your own options.
AdamOptions adamw_defaults();

template <class T = float>
class AdamW : public Adam<T> {
 public:
  explicit AdamW(std::vector<Variable<T>> params, AdamOptions options = adamw_defaults())
      : Adam<T>("AdamW", true, std::move(params), options) {}
  AdamW(std::initializer_list<Variable<T>> params, AdamOptions options = adamw_defaults())
      : AdamW(std::vector<Variable<T>>(params), options) {}
};

}  // namespace tg::optim
