// Sequential: applies its children in order; children are named "0", "1", ...
#pragma once

#include <memory>
#include <string>
#include <type_traits>

#include "module.hpp"

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

  // Appends a child named by the next free index (after a fusion pass the names keep the
  // numbers of the modules they replaced, so a checkpoint's names stay valid).
  void push_back(std::shared_ptr<Module<T>> module) {
    this->register_module(std::to_string(next_index_++), std::move(module));
  }
  template <class M, class = std::enable_if_t<std::is_base_of_v<Module<T>, std::decay_t<M>>>>
  void push_back(M&& module) {
    push_back(std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }

  std::size_t size() const { return this->children().size(); }
  // The i-th child in order (by position, not by name).
  Module<T>& operator[](std::size_t i) { return *this->children().at(i).second; }

  // Replaces the children at positions [first, first + count) with `module`, named as the first
  // of them: what a fusion pass (nn/fuse.hpp) does.
  void replace(std::size_t first, std::size_t count, std::shared_ptr<Module<T>> module) {
    this->replace_modules(first, count, std::move(module));
  }

  Variable<T> forward(const Variable<T>& x) override {
    Variable<T> y = x;
    for (const auto& child : this->children()) y = child.second->forward(y);
    return y;
  }
  std::string describe() const override { return "Sequential"; }

 private:
  std::size_t next_index_ = 0;
};

}  // namespace tg::nn
