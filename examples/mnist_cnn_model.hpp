// The MNIST CNN that mnist_cnn trains and saliency explains, so a checkpoint of one loads into the other.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <memory>

namespace example {

// Two 3x3 convolutions with max pooling, then two linear layers; "0.weight" is the first
// convolution's (32, 1, 3, 3) filters.
inline std::shared_ptr<tg::nn::Sequential<float>> make_mnist_cnn() {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2),   // 32 x 13 x 13
                                             Conv2d(32, 64, 3), ReLU(), MaxPool2d(2),  // 64 x 5 x 5
                                             Flatten(), Linear(1600, 128), ReLU(), Linear(128, 10));
}

}  // namespace example
