// MaxPool2d and AvgPool2d: stride defaults to the kernel size, like PyTorch.
#pragma once

#include <fmt/format.h>

#include "../ops/pool.hpp"
#include "module.hpp"

namespace tg::nn {

// What both pooling modules share: the window and the op that applies it.
template <class T>
class Pool2d : public Module<T> {
 public:
  Variable<T> forward(const Variable<T>& x) override { return pool_(x, kernel_, stride_, padding_); }
  std::string describe() const override {
    return fmt::format("{}(kernel_size={}, stride={}, padding={})", name_, kernel_, stride_, padding_);
  }
  std::size_t kernel_size() const { return kernel_; }
  std::size_t stride() const { return stride_; }
  std::size_t padding() const { return padding_; }

 protected:
  using PoolFn = Variable<T> (*)(const Variable<T>&, std::size_t, std::size_t, std::size_t);
  Pool2d(const char* name, PoolFn pool, std::size_t kernel, std::size_t stride, std::size_t padding)
      : name_(name), pool_(pool), kernel_(kernel), stride_(stride == 0 ? kernel : stride), padding_(padding) {}

 private:
  const char* name_;
  PoolFn pool_;
  std::size_t kernel_, stride_, padding_;
};

template <class T = float>
class MaxPool2d : public Pool2d<T> {
 public:
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : Pool2d<T>("MaxPool2d", &max_pool2d<T>, kernel, stride, padding) {}
};

template <class T = float>
class AvgPool2d : public Pool2d<T> {
 public:
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : Pool2d<T>("AvgPool2d", &avg_pool2d<T>, kernel, stride, padding) {}
};

}  // namespace tg::nn
