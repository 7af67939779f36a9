// Conv2d: 2-D convolution over (N, C, H, W), weight (out, in/groups, k, k), initialised like PyTorch.
#pragma once

#include <cmath>
#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../ops/conv.hpp"
#include "init.hpp"
#include "module.hpp"

namespace tg::nn {

namespace detail {

// What Conv2d and ConvTranspose2d share: their sizes and accessors, the groups check, PyTorch's
// _ConvNd.reset_parameters (kaiming_uniform(a = sqrt(5)) for the weight, then a bias in
// +-1/sqrt(fan_in), fan_in = weight.size(1)·k·k) and the repr, options at their defaults left out.
template <class T>
class ConvModule : public Module<T> {
 public:
  std::string describe() const override {
    std::string extra;
    if (stride_ != 1) extra += fmt::format(", stride={}", stride_);
    if (padding_ != 0) extra += fmt::format(", padding={}", padding_);
    if (dilation_ != 1) extra += fmt::format(", dilation={}", dilation_);
    if (output_padding_ != 0) extra += fmt::format(", output_padding={}", output_padding_);
    if (groups_ != 1) extra += fmt::format(", groups={}", groups_);
    if (!bias_.defined()) extra += ", bias=false";
    return fmt::format("{}({}, {}, kernel_size={}{})", name_, in_, out_, kernel_, extra);
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

 protected:
  // The weight is (out, in/groups, k, k), or (in, out/groups, k, k) when `transposed`.
  ConvModule(const char* name, bool transposed, std::size_t in, std::size_t out, std::size_t kernel,
             std::size_t stride, std::size_t padding, std::size_t output_padding, std::size_t dilation,
             std::size_t groups, bool bias, Generator& gen)
      : name_(name),
        in_(in),
        out_(out),
        kernel_(kernel),
        stride_(stride),
        padding_(padding),
        output_padding_(output_padding),
        dilation_(dilation),
        groups_(groups) {
    if (groups == 0 || in % groups != 0 || out % groups != 0) {
      fail(name, "in_channels {} and out_channels {} must both be divisible by groups {}", in, out, groups);
    }
    const Shape shape = transposed ? Shape{in, out / groups, kernel, kernel} : Shape{out, in / groups, kernel, kernel};
    weight_ = this->register_parameter("weight", init::kaiming_uniform<T>(shape, gen, std::sqrt(5.0)));
    const double fan_in = static_cast<double>(shape[1] * kernel * kernel);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    if (bias) bias_ = this->register_parameter("bias", init::uniform<T>({out}, -bound, bound, gen));
  }

  const char* name_;
  std::size_t in_, out_, kernel_, stride_, padding_, output_padding_, dilation_, groups_;
  Variable<T> weight_, bias_;
};

}  // namespace detail

template <class T = float>
class Conv2d : public detail::ConvModule<T> {
 public:
  Conv2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
         std::size_t dilation = 1, std::size_t groups = 1, bool bias = true)
      : Conv2d(in, out, kernel, stride, padding, dilation, groups, bias, default_generator()) {}
  // The same with its initial values drawn from `gen` (used only while constructing).
  Conv2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding,
         std::size_t dilation, std::size_t groups, bool bias, Generator& gen)
      : detail::ConvModule<T>("Conv2d", false, in, out, kernel, stride, padding, 0, dilation, groups, bias, gen) {}

  Variable<T> forward(const Variable<T>& x) override {
    return conv2d(x, this->weight_, this->bias_, this->stride_, this->padding_, this->dilation_, this->groups_);
  }
};

}  // namespace tg::nn
