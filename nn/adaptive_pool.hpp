// AdaptiveAvgPool2d: average pooling to a fixed output size, whatever the input's, like PyTorch's.
#pragma once

#include "../core/errors.hpp"
#include "../ops/pool.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class AdaptiveAvgPool2d : public Module<T> {
 public:
  // output_size: {OH, OW}.
  explicit AdaptiveAvgPool2d(Shape output_size) : output_size_(std::move(output_size)) {
    if (output_size_.size() != 2 || output_size_[0] == 0 || output_size_[1] == 0) {
      fail("AdaptiveAvgPool2d", "output_size must be two positive sizes (OH, OW), got {}", format_shape(output_size_));
    }
  }

  Variable<T> forward(const Variable<T>& x) override { return adaptive_avg_pool2d(x, output_size_); }
  std::string describe() const override { return "AdaptiveAvgPool2d(output_size=" + format_shape(output_size_) + ")"; }

  const Shape& output_size() const { return output_size_; }

 private:
  Shape output_size_;
};

}  // namespace tg::nn
