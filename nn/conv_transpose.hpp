// ConvTranspose2d: the transposed 2-D convolution over (N, C, H, W), weight (in, out/groups, k, k),
// initialised like PyTorch's nn.ConvTranspose2d.
#pragma once

#include <fmt/format.h>

#include <cmath>

#include "../core/generator.hpp"
#include "../ops/conv.hpp"
#include "init.hpp"
#include "module.hpp"

namespace tg::nn {

template <class T = float>
class ConvTranspose2d : public Module<T> {
 public:
  ConvTranspose2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
                  std::size_t output_padding = 0, std::size_t groups = 1, bool bias = true, std::size_t dilation = 1)
      : ConvTranspose2d(in, out, kernel, stride, padding, output_padding, groups, bias, dilation, default_generator()) {
  }

  // The same, drawing the initial weight and bias from `gen`.
  ConvTranspose2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding,
                  std::size_t output_padding, std::size_t groups, bool bias, std::size_t dilation, Generator& gen)
      : in_(in),
        out_(out),
        kernel_(kernel),
        stride_(stride),
        padding_(padding),
        output_padding_(output_padding),
        groups_(groups),
        dilation_(dilation) {
    if (groups == 0 || in % groups != 0 || out % groups != 0) {
      fail("ConvTranspose2d", "in_channels {} and out_channels {} must both be divisible by groups {}", in, out,
           groups);
    }
    // PyTorch's _ConvNd.reset_parameters: kaiming_uniform(a = sqrt(5)) and a bias in +-1/sqrt(fan_in),
    // fan_in being weight.size(1)·k·k, here (out/groups)·k·k.
    const Shape shape{in, out / groups, kernel, kernel};
    weight_ = this->register_parameter("weight", init::kaiming_uniform<T>(shape, gen, std::sqrt(5.0)));
    const double fan_in = static_cast<double>(out / groups * kernel * kernel);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    if (bias) bias_ = this->register_parameter("bias", init::uniform<T>({out}, -bound, bound, gen));
  }

  Variable<T> forward(const Variable<T>& x) override {
    return conv_transpose2d(x, weight_, bias_, stride_, padding_, output_padding_, groups_, dilation_);
  }
  // PyTorch's repr, options at their defaults left out (as Conv2d's).
  std::string describe() const override {
    std::string extra;
    if (stride_ != 1) extra += fmt::format(", stride={}", stride_);
    if (padding_ != 0) extra += fmt::format(", padding={}", padding_);
    if (dilation_ != 1) extra += fmt::format(", dilation={}", dilation_);
    if (output_padding_ != 0) extra += fmt::format(", output_padding={}", output_padding_);
    if (groups_ != 1) extra += fmt::format(", groups={}", groups_);
    if (!bias_.defined()) extra += ", bias=false";
    return fmt::format("ConvTranspose2d({}, {}, kernel_size={}{})", in_, out_, kernel_, extra);
  }

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  std::size_t kernel_size() const { return kernel_; }
  std::size_t stride() const { return stride_; }
  std::size_t padding() const { return padding_; }
  std::size_t output_padding() const { return output_padding_; }
  std::size_t groups() const { return groups_; }
  std::size_t dilation() const { return dilation_; }
  Variable<T>& weight() { return weight_; }
  const Variable<T>& weight() const { return weight_; }
  Variable<T>& bias() { return bias_; }  // undefined without bias
  const Variable<T>& bias() const { return bias_; }

 private:
  std::size_t in_, out_, kernel_, stride_, padding_, output_padding_, groups_, dilation_;
  Variable<T> weight_, bias_;
};

}  // namespace tg::nn
