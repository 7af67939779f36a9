// TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual
// connection and layer normalisation, as torch.nn.TransformerEncoderLayer.
#pragma once

#include <memory>
#include <string>
#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/generator.hpp"
#include "../ops/ops.hpp"
#include "attention.hpp"
#include "dropout.hpp"
#include "linear.hpp"
#include "module.hpp"
#include "normalization.hpp"

namespace tg::nn {

// norm_first false (post-norm): x = norm1(x + sa(x)), then x = norm2(x + ff(x)); norm_first true
// (pre-norm): x = x + sa(norm1(x)), then x = x + ff(norm2(x)); with sa(x) = dropout1(self_attn(x, x, x))
// and ff(x) = dropout2(linear2(dropout(activation(linear1(x))))). activation is "relu" or "gelu".
// Inputs are (S, N, d_model), or (N, S, d_model) with batch_first, or (S, d_model) unbatched.
// Children, in PyTorch's order: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2.
template <class T = float>
class TransformerEncoderLayer : public Module<T> {
 public:
  TransformerEncoderLayer(std::size_t d_model, std::size_t nhead, std::size_t dim_feedforward = 2048, double dropout = 0.1,
                          std::string activation = "relu", double layer_norm_eps = 1e-5, bool batch_first = false,
                          bool norm_first = false)
      : TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, std::move(activation), layer_norm_eps,
                                batch_first, norm_first, default_generator()) {}

  TransformerEncoderLayer(std::size_t d_model, std::size_t nhead, std::size_t dim_feedforward, double dropout,
                          std::string activation, double layer_norm_eps, bool batch_first, bool norm_first,
                          Generator& gen)
      : d_model_(d_model), nhead_(nhead), dim_feedforward_(dim_feedforward), activation_(std::move(activation)),
        norm_first_(norm_first) {
    if (activation_ != "relu" && activation_ != "gelu") {
      fail("TransformerEncoderLayer", "activation must be \"relu\" or \"gelu\", got \"{}\"", activation_);
    }
    self_attn_ = std::make_shared<MultiheadAttention<T>>(d_model, nhead, dropout, true, batch_first, gen);
    linear1_ = std::make_shared<Linear<T>>(d_model, dim_feedforward, true, gen);
    dropout_ = std::make_shared<Dropout<T>>(dropout, gen);
    linear2_ = std::make_shared<Linear<T>>(dim_feedforward, d_model, true, gen);
    norm1_ = std::make_shared<LayerNorm<T>>(Shape{d_model}, layer_norm_eps, true);
    norm2_ = std::make_shared<LayerNorm<T>>(Shape{d_model}, layer_norm_eps, true);
    dropout1_ = std::make_shared<Dropout<T>>(dropout, gen);
    dropout2_ = std::make_shared<Dropout<T>>(dropout, gen);
    this->register_module("self_attn", self_attn_);
    this->register_module("linear1", linear1_);
    this->register_module("dropout", dropout_);
    this->register_module("linear2", linear2_);
    this->register_module("norm1", norm1_);
    this->register_module("norm2", norm2_);
    this->register_module("dropout1", dropout1_);
    this->register_module("dropout2", dropout2_);
  }

  // src_mask (S, S) or (N * nhead, S, S) is added to the attention scores; src_key_padding_mask
  // (N, S) hides the keys where it is true (see MultiheadAttention::forward).
  Variable<T> forward(const Variable<T>& src, const Tensor<T>* src_mask, const Mask* src_key_padding_mask = nullptr) {
    Variable<T> x = src;
    if (norm_first_) {
      x = x + self_attention_block((*norm1_)(x), src_mask, src_key_padding_mask);
      x = x + feed_forward_block((*norm2_)(x));
    } else {
      x = (*norm1_)(x + self_attention_block(x, src_mask, src_key_padding_mask));
      x = (*norm2_)(x + feed_forward_block(x));
    }
    return x;
  }

  Variable<T> forward(const Variable<T>& src) override { return forward(src, nullptr, nullptr); }

  std::string describe() const override {
    return fmt::format("TransformerEncoderLayer(d_model={}, nhead={}, dim_feedforward={}, activation={}{})", d_model_,
                       nhead_, dim_feedforward_, activation_, norm_first_ ? ", norm_first=true" : "");
  }

  MultiheadAttention<T>& self_attn() { return *self_attn_; }
  Linear<T>& linear1() { return *linear1_; }
  Linear<T>& linear2() { return *linear2_; }
  LayerNorm<T>& norm1() { return *norm1_; }
  LayerNorm<T>& norm2() { return *norm2_; }

 private:
  Variable<T> self_attention_block(const Variable<T>& x, const Tensor<T>* mask, const Mask* key_padding_mask) {
    return (*dropout1_)(self_attn_->forward(x, x, x, key_padding_mask, false, mask).output);
  }

  Variable<T> feed_forward_block(const Variable<T>& x) {
    const Variable<T> hidden = (*linear1_)(x);
    const Variable<T> activated = activation_ == "gelu" ? gelu(hidden) : relu(hidden);
    return (*dropout2_)((*linear2_)((*dropout_)(activated)));
  }

  std::size_t d_model_, nhead_, dim_feedforward_;
  std::string activation_;
  bool norm_first_;
  std::shared_ptr<MultiheadAttention<T>> self_attn_;
  std::shared_ptr<Linear<T>> linear1_, linear2_;
  std::shared_ptr<Dropout<T>> dropout_, dropout1_, dropout2_;
  std::shared_ptr<LayerNorm<T>> norm1_, norm2_;
};

}  // namespace tg::nn
