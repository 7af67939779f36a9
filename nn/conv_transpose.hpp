// ConvTranspose2d: the transposed 2-D convolution over (N, C, H, W), weight (in, out/groups, k, k),
// initialised like PyTorch's nn.ConvTranspose2d.
#pragma once

#include "../core/generator.hpp"
#include "conv.hpp"

namespace tg::nn {

template <class T = float>
class ConvTranspose2d : public detail::ConvModule<T> {
 public:
  ConvTranspose2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride = 1, std::size_t padding = 0,
                  std::size_t output_padding = 0, std::size_t groups = 1, bool bias = true, std::size_t dilation = 1)
      : ConvTranspose2d(in, out, kernel, stride, padding, output_padding, groups, bias, dilation, default_generator()) {
  }

  // The same, drawing the initial weight and bias from `gen`.
  ConvTranspose2d(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t padding,
                  std::size_t output_padding, std::size_t groups, bool bias, std::size_t dilation, Generator& gen)
      : detail::ConvModule<T>("ConvTranspose2d", true, in, out, kernel, stride, padding, output_padding, dilation,
                              groups, bias, gen) {}

  Variable<T> forward(const Variable<T>& x) override {
    return conv_transpose2d(x, this->weight_, this->bias_, this->stride_, this->padding_, this->output_padding_,
                            this->groups_, this->dilation_);
  }

  std::size_t output_padding() const { return this->output_padding_; }
};

}  // namespace tg::nn
