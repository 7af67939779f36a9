// Module: the base of every layer. Holds named parameters, buffers and child modules, and the
// train/eval flag. A user's subclass defines forward and registers what it owns:
//
//   struct Scaled : tg::nn::Module<float> {
//     Scaled() {
//       fc = std::make_shared<tg::nn::Linear<float>>(4, 4);
//       register_module("fc", fc);
//       scale = register_parameter("scale", tg::Tensor<float>(xt::ones<float>({4})));
//     }
//     tg::Variable<float> forward(const tg::Variable<float>& x) override { return (*fc)(x) * scale; }
//     std::shared_ptr<tg::nn::Linear<float>> fc;
//     tg::Variable<float> scale;
//   };
#pragma once

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../core/variable.hpp"

namespace tg::nn {

namespace detail {
// The name of a module's class as written in code, without namespaces or template arguments
// ("Linear" for tg::nn::Linear<float>).
std::string class_name(const std::type_info& type);
}  // namespace detail

template <class T = float>
class Module {
 public:
  using NamedParameters = std::vector<std::pair<std::string, Variable<T>>>;
  using NamedModules = std::vector<std::pair<std::string, Module<T>*>>;

  virtual ~Module() = default;
  virtual Variable<T> forward(const Variable<T>& x) = 0;
  Variable<T> operator()(const Variable<T>& x) { return forward(x); }

  // A short description for summaries and printing, e.g. "Linear(784, 256)"; by default the
  // class's name.
  virtual std::string describe() const { return detail::class_name(typeid(*this)); }

  // Dotted names ("0.weight") in registration order, children after the module's own parameters.
  NamedParameters named_parameters() const { return collect(&Module::params_); }
  std::vector<Variable<T>> parameters() const { return values(named_parameters()); }

  // Non-trainable state (running statistics), named and saved like parameters; Variables that
  // require no gradient, sharing their storage with the module.
  NamedParameters named_buffers() const { return collect(&Module::buffers_); }
  std::vector<Variable<T>> buffers() const { return values(named_buffers()); }

  // This module first (name ""), then every descendant, depth first, by dotted name ("0", "0.fc").
  NamedModules named_modules() {
    NamedModules out{{"", this}};
    for (const auto& [child_name, child] : children_) {
      for (auto& [name, m] : child->named_modules()) out.emplace_back(name.empty() ? child_name : child_name + "." + name, m);
    }
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

  // Adds a buffer and returns its handle; its value may be updated in place (running statistics).
  Variable<T> register_buffer(std::string name, Tensor<T> value) {
    Variable<T> buffer(std::move(value), false);
    buffer.set_name(name);
    buffers_.emplace_back(std::move(name), buffer);
    return buffer;
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
    for (auto& [child_buffer, b] : child.named_buffers()) b.set_name(prefix + "." + child_buffer);
  }

  // The module's own entries of `member` (parameters or buffers), then its children's, dotted.
  NamedParameters collect(NamedParameters Module::*member) const {
    NamedParameters out = this->*member;
    for (const auto& [child_name, child] : children_) {
      for (auto& [name, v] : child->collect(member)) out.emplace_back(child_name + "." + name, v);
    }
    return out;
  }

  static std::vector<Variable<T>> values(const NamedParameters& named) {
    std::vector<Variable<T>> out;
    for (const auto& entry : named) out.push_back(entry.second);
    return out;
  }

  NamedParameters params_;
  NamedParameters buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
