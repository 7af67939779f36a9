// MaxPool2d and AvgPool2d: stride defaults to the kernel size, like PyTorch.
#pragma once

#include <fmt/format.h>

#include "../ops/pool.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : kernel_(kernel), stride_(stride == 0 ? kernel : stride), padding_(padding) {}
  Variable<T> forward(const Variable<T>& x) override { return max_pool2d(x, kernel_, stride_, padding_); }
  std::string describe() const override {
    return fmt::format("MaxPool2d(kernel_size={}, stride={}, padding={})", kernel_, stride_, padding_);
  }

 private:
  std::size_t kernel_, stride_, padding_;
};

template <class T = float>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : kernel_(kernel), stride_(stride == 0 ? kernel : stride), padding_(padding) {}
  Variable<T> forward(const Variable<T>& x) override { return avg_pool2d(x, kernel_, stride_, padding_); }
  std::string describe() const override {
    return fmt::format("AvgPool2d(kernel_size={}, stride={}, padding={})", kernel_, stride_, padding_);
  }

 private:
  std::size_t kernel_, stride_, padding_;
};

}  // namespace tg::nn
