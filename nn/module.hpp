// Module: the base of every layer. Holds named parameters and child modules, and the train/eval flag.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../core/variable.hpp"

namespace tg::nn {

template <class T = float>
class Module {
 public:
  using NamedParameters = std::vector<std::pair<std::string, Variable<T>>>;

  virtual ~Module() = default;
  virtual Variable<T> forward(const Variable<T>& x) = 0;
  Variable<T> operator()(const Variable<T>& x) { return forward(x); }

  // A short description for summaries and printing, e.g. "Linear(784, 256)".
  virtual std::string describe() const = 0;

  // Dotted names ("0.weight") in registration order, children after the module's own parameters.
  NamedParameters named_parameters() const {
    NamedParameters out = params_;
    for (const auto& [child_name, child] : children_) {
      for (auto& [name, p] : child->named_parameters()) out.emplace_back(child_name + "." + name, p);
    }
    return out;
  }

  std::vector<Variable<T>> parameters() const {
    std::vector<Variable<T>> out;
    for (auto& named : named_parameters()) out.push_back(named.second);
    return out;
  }

  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& children() const { return children_; }

  void train(bool on = true) {
    training_ = on;
    for (auto& child : children_) child.second->train(on);
  }
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad() {
    for (auto& p : parameters()) p.zero_grad();
  }

 protected:
  Module() = default;
  Module(const Module&) = default;
  Module& operator=(const Module&) = default;

  // Adds a trainable parameter and returns its handle (shared with the module's own member).
  Variable<T> register_parameter(std::string name, Tensor<T> value) {
    return register_parameter(std::move(name), Variable<T>(std::move(value), true));
  }
  // Adds an existing Variable as a parameter: two modules may share one (a fused layer and the
  // layer it replaces).
  Variable<T> register_parameter(std::string name, Variable<T> parameter) {
    parameter.set_name(name);
    params_.emplace_back(std::move(name), parameter);
    return parameter;
  }

  // Adds a child; its parameters are named "<name>.<their name>".
  void register_module(std::string name, std::shared_ptr<Module<T>> child) {
    name_parameters(name, *child);
    children_.emplace_back(std::move(name), std::move(child));
  }

  // Replaces children [first, first + count) by `child`, which takes the name of the first of them.
  void replace_modules(std::size_t first, std::size_t count, std::shared_ptr<Module<T>> child) {
    const std::string name = children_.at(first).first;
    name_parameters(name, *child);
    children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(first),
                    children_.begin() + static_cast<std::ptrdiff_t>(first + count));
    children_.emplace(children_.begin() + static_cast<std::ptrdiff_t>(first), name, std::move(child));
  }

 private:
  static void name_parameters(const std::string& prefix, Module<T>& child) {
    for (auto& [child_param, p] : child.named_parameters()) p.set_name(prefix + "." + child_param);
  }

  NamedParameters params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
