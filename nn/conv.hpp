// Conv2d: 2-D convolution over (N, C, H, W), weight (out, in/groups, k, k), initialised like PyTorch.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "../ops/conv.hpp"
#include "init.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class Conv2d : public Module<T> {
 public:
  Conv2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
         std::size_t dilation = 1, std::size_t groups = 1, bool bias = true)
      : Conv2d(in, out, kernel, stride, padding, dilation, groups, bias, default_generator()) {}
  // The same with its initial values drawn from `gen` (used only while constructing).
  Conv2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding,
         std::size_t dilation, std::size_t groups, bool bias, Generator& gen)
      : in_(in), out_(out), kernel_(kernel), stride_(stride), padding_(padding), dilation_(dilation), groups_(groups) {
    if (groups == 0 || in % groups != 0 || out % groups != 0) {
      fail("Conv2d", "in_channels {} and out_channels {} must both be divisible by groups {}", in, out, groups);
    }
    const Shape shape{out, in / groups, kernel, kernel};
    weight_ = this->register_parameter("weight", init::kaiming_uniform<T>(shape, gen, std::sqrt(5.0)));
    const double fan_in = static_cast<double>(in / groups * kernel * kernel);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    if (bias) bias_ = this->register_parameter("bias", init::uniform<T>({out}, -bound, bound, gen));
  }

  Variable<T> forward(const Variable<T>& x) override {
    return conv2d(x, weight_, bias_, stride_, padding_, dilation_, groups_);
  }
  std::string describe() const override {
    std::string extra;
    if (stride_ != 1) extra += fmt::format(", stride={}", stride_);
    if (padding_ != 0) extra += fmt::format(", padding={}", padding_);
    if (dilation_ != 1) extra += fmt::format(", dilation={}", dilation_);
    if (groups_ != 1) extra += fmt::format(", groups={}", groups_);
    if (!bias_.defined()) extra += ", bias=false";
    return fmt::format("Conv2d({}, {}, kernel_size={}{})", in_, out_, kernel_, extra);
  }

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  std::size_t kernel_size() const { return kernel_; }
  std::size_t stride() const { return stride_; }
  std::size_t padding() const { return padding_; }
  std::size_t dilation() const { return dilation_; }
  std::size_t groups() const { return groups_; }
  Variable<T>& weight() { return weight_; }
  const Variable<T>& weight() const { return weight_; }
  Variable<T>& bias() { return bias_; }  // undefined without bias
  const Variable<T>& bias() const { return bias_; }

 private:
  std::size_t in_, out_, kernel_, stride_, padding_, dilation_, groups_;
  Variable<T> weight_, bias_;
};

}  // namespace tg::nn
