// Identity: returns its input unchanged (torch.nn.Identity), e.g. to switch a layer off.
#pragma once

#include "module.hpp"

namespace tg::nn {

template <class T = float>
class Identity : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return x; }
  std::string describe() const override { return "Identity()"; }
};

}  // namespace tg::nn
