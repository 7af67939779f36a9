// Fusion passes: explicit, named rewrites of a model into faster modules that compute the same
// values and gradients bit for bit.
//
//   auto net = std::make_shared<tg::nn::Sequential<float>>(Conv2d(1, 32, 3), ReLU(), MaxPool2d(2), ...);
//   tg::nn::fuse_conv_relu_pool(*net);   // the three modules become one ConvReLUMaxPool2d "0"
//   tg::nn::fuse_conv_batch_norm(*resnet);   // Conv2d, BatchNorm2d[, ReLU] runs train as one op
#pragma once

#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "../ops/conv.hpp"
#include "../ops/conv_chain.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "module.hpp"
#include "normalization.hpp"
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

// What a Sequential runs a run of Conv2d, BatchNorm2d[, ReLU] layers through after
// fuse_conv_batch_norm: in training, one conv_batch_norm_chain (in float with oneDNN the values
// between its ends stay in oneDNN's blocked layout); in eval, or for a module in another mode than
// the first batch normalisation's, the modules one by one. The modules stay the Sequential's
// children and this reads their current parameters, buffers and flags.
template <class T = float>
class ConvBatchNormChain : public Module<T> {
 public:
  struct Layer {
    std::shared_ptr<Conv2d<T>> conv;
    std::shared_ptr<BatchNorm2d<T>> norm;
    std::shared_ptr<ReLU<T>> relu;  // null: none
  };
  explicit ConvBatchNormChain(std::vector<Layer> layers) : layers_(std::move(layers)) {}

  Variable<T> forward(const Variable<T>& x) override {
    bool all_training = true;
    for (const Layer& l : layers_) all_training = all_training && l.norm->is_training();
    if (!all_training) return one_by_one(x);
    std::vector<ConvBatchNormLayer<T>> chain;
    for (const Layer& l : layers_) {
      ConvBatchNormLayer<T> c;
      c.weight = l.conv->weight();
      c.bias = l.conv->bias();
      c.stride = l.conv->stride();
      c.padding = l.conv->padding();
      c.dilation = l.conv->dilation();
      c.groups = l.conv->groups();
      c.scale = l.norm->weight();
      c.shift = l.norm->bias();
      if (l.norm->running_mean().defined()) {
        c.running_mean = &l.norm->running_mean().value();
        c.running_var = &l.norm->running_var().value();
      }
      c.momentum = static_cast<T>(l.norm->momentum());
      c.eps = static_cast<T>(l.norm->eps());
      c.relu = l.relu != nullptr;
      chain.push_back(c);
    }
    Variable<T> y = conv_batch_norm_chain(x, chain);
    for (const Layer& l : layers_) {
      if (l.norm->num_batches_tracked().defined()) l.norm->num_batches_tracked().value()() += T(1);
    }
    return y;
  }

  std::string describe() const override {
    std::string d = "ConvBatchNormChain(";
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer& l = layers_[i];
      d += (i ? ", " : "") + l.conv->describe() + ", " + l.norm->describe() + (l.relu ? ", ReLU()" : "");
    }
    return d + ")";
  }

 private:
  Variable<T> one_by_one(const Variable<T>& x) {
    Variable<T> y = x;
    for (const Layer& l : layers_) {
      y = l.norm->forward(l.conv->forward(y));
      if (l.relu) y = l.relu->forward(y);
    }
    return y;
  }

  std::vector<Layer> layers_;
};

// In every Sequential of `model` (itself, or any descendant), each run of one or more
// Conv2d, BatchNorm2d[, ReLU] layers (these exact types) is run through one ConvBatchNormChain
// (Sequential::run_through): the modules keep their names, parameters and buffers, so optimisers and
// checkpoints see no difference. Values and gradients are those of the modules one by one up to
// rounding. Returns the number of runs; a Sequential's runs are reset by its replace().
template <class T>
std::size_t fuse_conv_batch_norm(Module<T>& model) {
  std::size_t fused = 0;
  for (const auto& [name, child] : model.children()) fused += fuse_conv_batch_norm(*child);
  auto* net = dynamic_cast<Sequential<T>*>(&model);
  if (!net) return fused;
  const auto& children = net->children();
  const auto as = [&](std::size_t i, const auto* type) {
    using M = std::remove_cv_t<std::remove_pointer_t<decltype(type)>>;
    return i < children.size() && typeid(*children[i].second) == typeid(M)
               ? std::static_pointer_cast<M>(children[i].second)
               : nullptr;
  };
  for (std::size_t i = 0; i < children.size();) {
    if (net->in_run(i)) {  // fused before
      ++i;
      continue;
    }
    std::vector<typename ConvBatchNormChain<T>::Layer> layers;
    std::size_t end = i;
    while (!net->in_run(end) && !net->in_run(end + 1)) {
      auto conv = as(end, static_cast<Conv2d<T>*>(nullptr));
      auto norm = as(end + 1, static_cast<BatchNorm2d<T>*>(nullptr));
      if (!conv || !norm) break;
      auto relu = as(end + 2, static_cast<ReLU<T>*>(nullptr));
      layers.push_back({conv, norm, relu});
      end += relu ? 3 : 2;
    }
    if (layers.empty()) {
      ++i;
      continue;
    }
    net->run_through(i, end - i, std::make_shared<ConvBatchNormChain<T>>(std::move(layers)));
    ++fused;
    i = end;
  }
  return fused;
}

}  // namespace tg::nn
