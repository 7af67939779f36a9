// Fusion passes: explicit, named rewrites of a model into faster modules that compute the same
// values and gradients bit for bit.
//
//   auto net = std::make_shared<tg::nn::Sequential<float>>(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2), ...);
//   tg::nn::fuse_conv_relu_pool(*net);   // the three modules become one ConvReLUMaxPool2d "0"
#pragma once

#include <memory>
#include <string>
#include <typeinfo>

#include "../ops/conv.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "module.hpp"
#include "pool.hpp"
#include "sequential.hpp"

namespace tg::nn {

// Conv2d, then ReLU, then 2x2 max pooling, as one op (tg::conv2d_relu_max_pool2d): each image's
// convolution output stays in a small per-thread buffer, so the batch-sized convolution output and
// its ReLU are never stored. It shares the Conv2d's weight and bias (the same Variables, under the
// same names), so optimisers and checkpoints see no difference.
template <class T = float>
class ConvReLUMaxPool2d : public Module<T> {
 public:
  explicit ConvReLUMaxPool2d(const Conv2d<T>& conv)
      : conv_description_(conv.describe()),
        stride_(conv.stride()),
        padding_(conv.padding()),
        dilation_(conv.dilation()),
        groups_(conv.groups()) {
    weight_ = this->register_parameter("weight", conv.weight());
    if (conv.bias().defined()) bias_ = this->register_parameter("bias", conv.bias());
  }

  Variable<T> forward(const Variable<T>& x) override {
    return conv2d_relu_max_pool2d(x, weight_, bias_, stride_, padding_, dilation_, groups_);
  }
  std::string describe() const override {
    return "ConvReLUMaxPool2d(" + conv_description_ + ", ReLU(), MaxPool2d(kernel_size=2, stride=2, padding=0))";
  }

 private:
  std::string conv_description_;
  std::size_t stride_, padding_, dilation_, groups_;
  Variable<T> weight_, bias_;
};

// Replaces each run Conv2d, ReLU, MaxPool2d(2) (stride 2, no padding) among the children of `net`,
// and of every Sequential nested in it, with one ConvReLUMaxPool2d named as the Conv2d was.
// Only these exact types are fused: a subclass may have its own forward. Returns the number of
// runs fused. The intermediate values of a fused run can no longer be looked at.
template <class T>
std::size_t fuse_conv_relu_pool(Sequential<T>& net) {
  std::size_t fused = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (auto* inner = dynamic_cast<Sequential<T>*>(&net[i])) {
      fused += fuse_conv_relu_pool(*inner);
      continue;
    }
    if (i + 2 >= net.size()) continue;
    Module<T>& conv = net[i];
    Module<T>& relu = net[i + 1];
    Module<T>& pool = net[i + 2];
    if (typeid(conv) != typeid(Conv2d<T>) || typeid(relu) != typeid(ReLU<T>) || typeid(pool) != typeid(MaxPool2d<T>)) {
      continue;
    }
    const auto& max_pool = static_cast<const MaxPool2d<T>&>(pool);
    if (max_pool.kernel_size() != 2 || max_pool.stride() != 2 || max_pool.padding() != 0) continue;
    net.replace(i, 3, std::make_shared<ConvReLUMaxPool2d<T>>(static_cast<const Conv2d<T>&>(conv)));
    ++fused;
  }
  // A nested Sequential named its new children relative to itself; give every parameter its
  // full dotted name again (what reports and graph export show).
  for (auto& [name, p] : net.named_parameters()) p.set_name(name);
  return fused;
}

}  // namespace tg::nn
