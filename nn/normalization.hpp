// Normalisation modules: BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's parameters, buffers
// and defaults (the math is in ops/normalization.hpp).
#pragma once

#include <fmt/format.h>

#include <xtensor/xbuilder.hpp>

#include "../core/errors.hpp"
#include "../ops/normalization.hpp"
#include "module.hpp"

namespace tg::nn {

namespace detail {

// What BatchNorm1d and BatchNorm2d share; they differ only in the input ranks they accept.
// Parameters weight (ones) and bias (zeros) when affine; buffers running_mean (zeros), running_var
// (ones) and num_batches_tracked when track_running_stats. num_batches_tracked counts the training
// forwards; PyTorch keeps it as a 0-d int64 tensor, here it is a 0-d tensor of T (shape ()), so a
// PyTorch state_dict saved to .npz loads (the count converts to T).
template <class T>
class BatchNorm : public Module<T> {
 public:
  BatchNorm(std::size_t num_features, double eps, double momentum, bool affine, bool track_running_stats)
      : num_features_(num_features), eps_(eps), momentum_(momentum), affine_(affine), track_(track_running_stats) {
    if (affine) {
      weight_ = this->register_parameter("weight", Tensor<T>(xt::ones<T>({num_features})));
      bias_ = this->register_parameter("bias", Tensor<T>(xt::zeros<T>({num_features})));
    }
    if (track_running_stats) {
      running_mean_ = this->register_buffer("running_mean", Tensor<T>(xt::zeros<T>({num_features})));
      running_var_ = this->register_buffer("running_var", Tensor<T>(xt::ones<T>({num_features})));
      num_batches_tracked_ = this->register_buffer("num_batches_tracked", Tensor<T>(T(0)));
    }
  }

  // PyTorch's arguments, the defaults left out: "BatchNorm2d(16)", "BatchNorm1d(8, momentum=0.2, affine=false)".
  std::string describe() const override {
    std::string args = std::to_string(num_features_);
    if (eps_ != 1e-5) args += fmt::format(", eps={}", eps_);
    if (momentum_ != 0.1) args += fmt::format(", momentum={}", momentum_);
    if (!affine_) args += ", affine=false";
    if (!track_) args += ", track_running_stats=false";
    return fmt::format("{}({})", this->class_name(), args);
  }

  std::size_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  double momentum() const { return momentum_; }
  Variable<T>& weight() { return weight_; }  // undefined without affine
  Variable<T>& bias() { return bias_; }
  Variable<T>& running_mean() { return running_mean_; }  // undefined without track_running_stats
  Variable<T>& running_var() { return running_var_; }
  Variable<T>& num_batches_tracked() { return num_batches_tracked_; }

 protected:
  // Training: batch statistics, and the running ones updated; eval: the running statistics (batch
  // statistics when they are not tracked), as PyTorch.
  Variable<T> normalize(const Variable<T>& x) {
    const bool training = this->is_training();
    Tensor<T>* mean = track_ ? &running_mean_.value() : nullptr;
    Tensor<T>* var = track_ ? &running_var_.value() : nullptr;
    Variable<T> y = batch_norm(x, mean, var, weight_, bias_, training, static_cast<T>(momentum_), static_cast<T>(eps_));
    if (training && track_) num_batches_tracked_.value()() += T(1);
    return y;
  }

  std::string class_name() const { return tg::nn::detail::class_name(typeid(*this)); }

 private:
  std::size_t num_features_;
  double eps_, momentum_;
  bool affine_, track_;
  Variable<T> weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

}  // namespace detail

// Batch normalisation of (N, C) or (N, C, L) inputs over N (and L) per channel C = num_features.
template <class T = float>
class BatchNorm1d : public detail::BatchNorm<T> {
 public:
  explicit BatchNorm1d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : detail::BatchNorm<T>(num_features, eps, momentum, affine, track_running_stats) {}
  Variable<T> forward(const Variable<T>& x) override {
    if (x.shape().size() != 2 && x.shape().size() != 3) {
      fail("BatchNorm1d", "expected a 2-D (N, C) or 3-D (N, C, L) input, got {}", format_shape(x.shape()));
    }
    return this->normalize(x);
  }
};

// Batch normalisation of (N, C, H, W) inputs over N, H and W per channel C = num_features.
template <class T = float>
class BatchNorm2d : public detail::BatchNorm<T> {
 public:
  explicit BatchNorm2d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : detail::BatchNorm<T>(num_features, eps, momentum, affine, track_running_stats) {}
  Variable<T> forward(const Variable<T>& x) override {
    if (x.shape().size() != 4) fail("BatchNorm2d", "expected a 4-D (N, C, H, W) input, got {}", format_shape(x.shape()));
    return this->normalize(x);
  }
};

// Normalises over the trailing dimensions normalized_shape; weight (ones) and bias (zeros) of that
// shape when elementwise_affine.
template <class T = float>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true)
      : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
    if (elementwise_affine) {
      weight_ = this->register_parameter("weight", Tensor<T>(xt::ones<T>(normalized_shape_)));
      bias_ = this->register_parameter("bias", Tensor<T>(xt::zeros<T>(normalized_shape_)));
    }
  }
  Variable<T> forward(const Variable<T>& x) override {
    return layer_norm(x, normalized_shape_, weight_, bias_, static_cast<T>(eps_));
  }
  std::string describe() const override {
    return fmt::format("LayerNorm({}{}{})", format_shape(normalized_shape_), eps_ != 1e-5 ? fmt::format(", eps={}", eps_) : "",
                       weight_.defined() ? "" : ", elementwise_affine=false");
  }

  Variable<T>& weight() { return weight_; }  // undefined without elementwise_affine
  Variable<T>& bias() { return bias_; }

 private:
  Shape normalized_shape_;
  double eps_;
  Variable<T> weight_, bias_;
};

}  // namespace tg::nn
