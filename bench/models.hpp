// The networks the benchmarks measure, the examples' own (examples/mnist_models.hpp and
// examples/layer_models.hpp), with the optimisers and batch sizes the peers use (bench/peers/).
#pragma once

#include <tapegrad/tapegrad.hpp>

#include "mnist_models.hpp"
#include "layer_models.hpp"

#include <memory>
#include <stdexcept>
#include <string>

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

// The models by name, as epoch_bench's --model takes them: "mlp", "cnn" (above), "lstm",
// "transformer", "resnet" (examples/layer_models.hpp; the ResNet trains on Fashion-MNIST).
inline bool is_model(const std::string& name) {
  return name == "mlp" || name == "cnn" || name == "lstm" || name == "transformer" || name == "resnet";
}

inline std::shared_ptr<tg::nn::Module<float>> make_model(const std::string& name) {
  if (name == "mlp") return make_mlp();
  if (name == "cnn") return make_cnn();
  if (name == "lstm") return example::make_mnist_lstm();
  if (name == "transformer") return example::make_mnist_transformer();
  if (name == "resnet") return example::make_fashion_resnet();
  throw std::invalid_argument("bench::make_model: unknown model '" + name + "'");
}

// Images per training step: the examples' batch sizes.
inline std::size_t batch_size(const std::string& name) {
  if (name == "lstm") return example::kMnistLstmBatch;
  if (name == "transformer") return example::kMnistTransformerBatch;
  if (name == "resnet") return example::kFashionResnetBatch;
  return 128;
}

// The MLP: SGD lr 0.01 momentum 0.9; the others Adam at their example's learning rate
// (constant here: the examples' cosine schedule changes it only between epochs).
inline std::unique_ptr<tg::optim::Optimizer<float>> make_optimizer(const std::string& name, tg::nn::Module<float>& model) {
  if (name == "mlp" || name == "cnn") return make_optimizer(name == "cnn", model);
  tg::optim::AdamOptions o;
  o.lr = name == "lstm" ? example::kMnistLstmLr : name == "transformer" ? example::kMnistTransformerLr : example::kFashionResnetLr;
  return std::make_unique<tg::optim::Adam<float>>(model.parameters(), o);
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
