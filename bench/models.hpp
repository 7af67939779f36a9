// The two networks every benchmark measures, built the way examples/mnist_mlp.cpp and
// examples/mnist_cnn.cpp build them, with the optimisers the peers use (bench/peers/).
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <memory>

namespace bench {

// 784-256-128-10 ReLU MLP; trained with SGD (lr 0.01, momentum 0.9).
inline std::shared_ptr<tg::nn::Module<float>> make_mlp() {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Flatten(), Linear(784, 256), ReLU(), Linear(256, 128), ReLU(),
                                             Linear(128, 10));
}

// conv 1->32 3x3, ReLU, pool 2 (32x13x13), conv 32->64 3x3, ReLU, pool 2 (64x5x5), 1600-128-10;
// trained with Adam (lr 1e-3).
inline std::shared_ptr<tg::nn::Module<float>> make_cnn() {
  using namespace tg::nn;
  return std::make_shared<Sequential<float>>(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2),   //
                                             Conv2d(32, 64, 3), ReLU(), MaxPool2d(2),  //
                                             Flatten(), Linear(1600, 128), ReLU(), Linear(128, 10));
}

inline std::unique_ptr<tg::optim::Optimizer<float>> make_optimizer(bool cnn, tg::nn::Module<float>& model) {
  if (cnn) {
    tg::optim::AdamOptions o;
    o.lr = 1e-3;
    return std::make_unique<tg::optim::Adam<float>>(model.parameters(), o);
  }
  tg::optim::SGDOptions o;
  o.lr = 0.01;
  o.momentum = 0.9;
  return std::make_unique<tg::optim::SGD<float>>(model.parameters(), o);
}

// One training step: forward, fused cross-entropy, backward, update. Returns the loss.
inline float train_step(tg::nn::Module<float>& model, tg::optim::Optimizer<float>& optimizer,
                        const tg::Variable<float>& images, const tg::Labels& labels) {
  optimizer.zero_grad();
  tg::Variable<float> loss = tg::cross_entropy(model(images), labels);
  loss.backward();
  optimizer.step();
  return loss.item();
}

}  // namespace bench
