// Activation modules: thin wrappers over ops/activation.
#pragma once

#include <fmt/format.h>

#include "../ops/activation.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class ReLU : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return relu(x); }
  std::string describe() const override { return "ReLU()"; }
};

template <class T = float>
class Sigmoid : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return sigmoid(x); }
  std::string describe() const override { return "Sigmoid()"; }
};

template <class T = float>
class Tanh : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return tanh(x); }
  std::string describe() const override { return "Tanh()"; }
};

template <class T = float>
class LeakyReLU : public Module<T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : slope_(static_cast<T>(negative_slope)) {}
  Variable<T> forward(const Variable<T>& x) override { return leaky_relu(x, slope_); }
  std::string describe() const override { return fmt::format("LeakyReLU(negative_slope={})", slope_); }

 private:
  T slope_;
};

template <class T = float>
class ELU : public Module<T> {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(static_cast<T>(alpha)) {}
  Variable<T> forward(const Variable<T>& x) override { return elu(x, alpha_); }
  std::string describe() const override { return fmt::format("ELU(alpha={})", alpha_); }

 private:
  T alpha_;
};

template <class T = float>
class Softmax : public Module<T> {
 public:
  explicit Softmax(int axis = -1) : axis_(axis) {}
  Variable<T> forward(const Variable<T>& x) override { return softmax(x, axis_); }
  std::string describe() const override { return fmt::format("Softmax(dim={})", axis_); }

 private:
  int axis_;
};

template <class T = float>
class LogSoftmax : public Module<T> {
 public:
  explicit LogSoftmax(int axis = -1) : axis_(axis) {}
  Variable<T> forward(const Variable<T>& x) override { return log_softmax(x, axis_); }
  std::string describe() const override { return fmt::format("LogSoftmax(dim={})", axis_); }

 private:
  int axis_;
};

}  // namespace tg::nn
