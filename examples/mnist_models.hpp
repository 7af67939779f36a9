// The MNIST networks the examples train and the benchmarks time: one definition each, so a
// checkpoint of mnist_cnn loads into saliency and every benchmark measures the model users run.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <memory>

namespace example {

// 784-256-128-10 with ReLU.
inline std::shared_ptr<tg::nn::Sequential<float>> make_mnist_mlp() {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Flatten(), Linear(784, 256), ReLU(), Linear(256, 128), ReLU(),
                                             Linear(128, 10));
}

// Two 3x3 convolutions with max pooling, then two linear layers; "0.weight" is the first
// convolution's (32, 1, 3, 3) filters. Each Conv2d-ReLU-MaxPool2d run is fused into one
// ConvReLUMaxPool2d (same values and gradients, less memory traffic); names stay "0.*" and "3.*".
inline std::shared_ptr<tg::nn::Sequential<float>> make_mnist_cnn() {
  using namespace tg::nn;
  auto net = std::make_shared<Sequential<float>>(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2),   // 32 x 13 x 13
                                                 Conv2d(32, 64, 3), ReLU(), MaxPool2d(2),  // 64 x 5 x 5
                                                 Flatten(), Linear(1600, 128), ReLU(), Linear(128, 10));
  fuse_conv_relu_pool(*net);
  return net;
}

}  // namespace example
