// The two networks every benchmark measures, the examples' own (examples/mnist_models.hpp), with
// the optimisers the peers use (bench/peers/).
#pragma once

#include <tapegrad/tapegrad.hpp>

#include "mnist_models.hpp"

#include <memory>

namespace bench {

// The MLP (trained with SGD, lr 0.01, momentum 0.9) and the CNN (Adam, lr 1e-3) of the examples.
inline std::shared_ptr<tg::nn::Module<float>> make_mlp() { return example::make_mnist_mlp(); }
inline std::shared_ptr<tg::nn::Module<float>> make_cnn() { return example::make_mnist_cnn(); }

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
