// Sequential: applies its children in order; children are named "0", "1", ...
#pragma once

#include <memory>
#include <type_traits>
#include <typeinfo>

#include "activation.hpp"
#include "conv.hpp"
#include "module.hpp"
#include "pool.hpp"

namespace tg::nn {

template <class T = float>
class Sequential : public Module<T> {
 public:
  Sequential() = default;

  // Sequential{Linear(784, 256), ReLU(), Linear(256, 10)}: each module is moved into the container.
  template <class... Modules,
            class = std::enable_if_t<(std::is_base_of_v<Module<T>, std::decay_t<Modules>> && ...) &&
                                     !(sizeof...(Modules) == 1 &&
                                       (std::is_same_v<std::decay_t<Modules>, Sequential> && ...))>>
  Sequential(Modules&&... modules) {  // not explicit, so braces work; a lone Sequential is copied instead
    (push_back(std::make_shared<std::decay_t<Modules>>(std::forward<Modules>(modules))), ...);
  }

  void push_back(std::shared_ptr<Module<T>> module) {
    this->register_module(std::to_string(this->children().size()), std::move(module));
  }
  template <class M, class = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>>>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }

  std::size_t size() const { return this->children().size(); }
  Module<T>& operator[](std::size_t i) { return *this->children().at(i).second; }

  // Applies the children in order. A run Conv2d, ReLU, MaxPool2d(2) (stride 2, no padding) goes
  // through one fused op instead, with the same values and gradients: the batch-sized convolution
  // output and its ReLU are never stored, which saves memory traffic and memory (none of the three
  // intermediate results can be seen from outside the Sequential).
  Variable<T> forward(const Variable<T>& x) override {
    Variable<T> y = x;
    const auto& children = this->children();
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (auto* conv = conv_relu_pool_at(i)) {
        y = conv->forward_relu_max_pool(y);
        i += 2;
      } else {
        y = children[i].second->forward(y);
      }
    }
    return y;
  }
  std::string describe() const override { return "Sequential"; }

 private:
  // The Conv2d starting a fusable run at child i, else null. Exact types only: a subclass may
  // override forward.
  Conv2d<T>* conv_relu_pool_at(std::size_t i) const {
    const auto& children = this->children();
    if (i + 2 >= children.size()) return nullptr;
    Module<T>& first = *children[i].second;
    Module<T>& second = *children[i + 1].second;
    Module<T>& third = *children[i + 2].second;
    if (typeid(first) != typeid(Conv2d<T>) || typeid(second) != typeid(ReLU<T>) ||
        typeid(third) != typeid(MaxPool2d<T>)) {
      return nullptr;
    }
    const auto& pool = static_cast<const MaxPool2d<T>&>(third);
    if (pool.kernel_size() != 2 || pool.stride() != 2 || pool.padding() != 0) return nullptr;
    return &static_cast<Conv2d<T>&>(first);
  }
};

}  // namespace tg::nn
