// Sequential: applies its children in order; children are named "0", "1", ...
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

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
  // Drops every run set by run_through (positions move).
  void replace(std::size_t first, std::size_t count, std::shared_ptr<Module<T>> module) {
    this->replace_modules(first, count, std::move(module));
    runs_.clear();
  }

  // From now on forward applies `runner` in place of the children at [first, first + count), which
  // stay the children: names, parameters, checkpoints and train/eval see no difference. What a
  // fusion pass does when the fused modules must keep their names (nn/fuse.hpp). A run may not
  // overlap another; std::invalid_argument names the positions otherwise.
  void run_through(std::size_t first, std::size_t count, std::shared_ptr<Module<T>> runner) {
    if (count == 0 || first + count > size()) {
      throw std::invalid_argument("Sequential::run_through: children [" + std::to_string(first) + ", " +
                                  std::to_string(first + count) + ") of " + std::to_string(size()));
    }
    for (const auto& [at, run] : runs_) {
      if (at < first + count && first < at + run.first) {
        throw std::invalid_argument("Sequential::run_through: children [" + std::to_string(first) + ", " +
                                    std::to_string(first + count) + ") overlap the run at [" + std::to_string(at) +
                                    ", " + std::to_string(at + run.first) + ")");
      }
    }
    runs_[first] = {count, std::move(runner)};
  }

  // Whether the child at `position` is in a run set by run_through.
  bool in_run(std::size_t position) const {
    for (const auto& [at, run] : runs_) {
      if (at <= position && position < at + run.first) return true;
    }
    return false;
  }

  Variable<T> forward(const Variable<T>& x) override {
    Variable<T> y = x;
    const auto& children = this->children();
    for (std::size_t i = 0; i < children.size();) {
      if (const auto run = runs_.find(i); run != runs_.end()) {
        y = run->second.second->forward(y);
        i += run->second.first;
      } else {
        y = children[i++].second->forward(y);
      }
    }
    return y;
  }
  std::string describe() const override { return "Sequential"; }

 private:
  std::size_t next_index_ = 0;
  std::map<std::size_t, std::pair<std::size_t, std::shared_ptr<Module<T>>>> runs_;  // first -> (count, runner)
};

}  // namespace tg::nn
