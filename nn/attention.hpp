// MultiheadAttention: attention over num_heads subspaces of the embedding, as torch.nn.MultiheadAttention.
#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <fmt/format.h>

#include "../core/errors.hpp"
#include "../core/generator.hpp"
#include "../ops/attention.hpp"
#include "../ops/linalg.hpp"
#include "../ops/reduce.hpp"
#include "../ops/shape.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "module.hpp"

namespace tg::nn {

// What MultiheadAttention::forward returns.
template <class T>
struct AttentionOutput {
  Variable<T> output;   // (L, N, E); (N, L, E) with batch_first; (L, E) for an unbatched query
  Variable<T> weights;  // (N, L, S) averaged over the heads ((L, S) unbatched); undefined unless need_weights
};

// Queries of length L attend to keys and values of length S in num_heads heads of embed_dim /
// num_heads features each; the heads' outputs are joined and projected by out_proj. Inputs are
// (L, N, E) (sequence first) or (N, L, E) with batch_first, or 2-D (L, E) for one unbatched
// sequence. Parameters as PyTorch's: in_proj_weight (3E, E) (the query, key and value projections
// stacked, xavier_uniform), in_proj_bias (3E,) (zeros), and the child Linear out_proj (its bias
// zeroed); bias = false leaves out both biases. Dropout applies to the attention weights while
// training, drawn from the default generator or from the one given to the constructor, which the
// module keeps by reference (it must outlive the module).
template <class T = float>
class MultiheadAttention : public Module<T> {
 public:
  MultiheadAttention(std::size_t embed_dim, std::size_t num_heads, double dropout = 0, bool bias = true,
                     bool batch_first = false)
      : MultiheadAttention(embed_dim, num_heads, dropout, bias, batch_first, default_generator()) {}

  MultiheadAttention(std::size_t embed_dim, std::size_t num_heads, double dropout, bool bias, bool batch_first,
                     Generator& gen)
      : embed_dim_(embed_dim), num_heads_(num_heads), dropout_(dropout), batch_first_(batch_first), gen_(&gen) {
    if (num_heads == 0 || embed_dim % num_heads != 0) {
      fail("MultiheadAttention", "embed_dim {} is not divisible by num_heads {}", embed_dim, num_heads);
    }
    if (!(dropout >= 0 && dropout < 1)) fail("MultiheadAttention", "dropout must be in [0, 1), got {}", dropout);
    // Drawn in PyTorch's order: out_proj is built first, then in_proj_weight is initialised.
    out_proj_ = std::make_shared<Linear<T>>(embed_dim, embed_dim, bias, gen);
    in_proj_weight_ = this->register_parameter("in_proj_weight", init::xavier_uniform<T>({3 * embed_dim, embed_dim}, gen));
    if (bias) {
      in_proj_bias_ = this->register_parameter("in_proj_bias", init::zeros<T>({3 * embed_dim}));
      out_proj_->bias().value().fill(T(0));
    }
    this->register_module("out_proj", out_proj_);
  }

  // query (L, N, E), key and value (S, N, E) (batch_first: (N, L, E), (N, S, E); unbatched: (L, E),
  // (S, E)). key_padding_mask (N, S) ((S,) unbatched): true hides that key. attn_mask (L, S) or
  // (N * num_heads, L, S) ((num_heads, L, S) unbatched) is added to the scores. Shapes that do not
  // fit throw std::invalid_argument naming the module and the shapes.
  AttentionOutput<T> forward(const Variable<T>& query, const Variable<T>& key, const Variable<T>& value,
                             const Mask* key_padding_mask = nullptr, bool need_weights = true,
                             const Tensor<T>* attn_mask = nullptr) {
    const Shape qs = query.shape(), ks = key.shape(), vs = value.shape();
    const bool batched = qs.size() == 3;
    if ((qs.size() != 3 && qs.size() != 2) || ks.size() != qs.size() || vs.size() != qs.size()) {
      fail("MultiheadAttention", "query, key and value must all be 3-D ({}) or all 2-D (unbatched), got query {}, key {}, value {}",
           batch_first_ ? "N, L, E" : "L, N, E", format_shape(qs), format_shape(ks), format_shape(vs));
    }
    const int batch_axis = batch_first_ ? 0 : 1, seq_axis = batch_first_ ? 1 : 0;
    const Variable<T> q = batched ? query : unsqueeze(query, batch_axis);
    const Variable<T> k = batched ? key : unsqueeze(key, batch_axis);
    const Variable<T> v = batched ? value : unsqueeze(value, batch_axis);
    const Shape q3 = q.shape(), k3 = k.shape(), v3 = v.shape();
    const std::size_t N = q3[batch_axis], L = q3[seq_axis], S = k3[seq_axis], E = embed_dim_;
    if (q3[2] != E || k3[2] != E || v3[2] != E || k3[batch_axis] != N || v3[batch_axis] != N || v3[seq_axis] != S) {
      fail("MultiheadAttention", "embed_dim {}{}: query {}, key {} and value {} do not fit ({}, {} for key and value)", E,
           batch_first_ ? ", batch_first" : "", format_shape(qs), format_shape(ks), format_shape(vs),
           batch_first_ ? "(N, L, E)" : "(L, N, E)", batch_first_ ? "(N, S, E)" : "(S, N, E)");
    }
    const Tensor<T> mask = combined_mask(key_padding_mask, attn_mask, batched, N, L, S);
    const bool masked = key_padding_mask || attn_mask;

    // Project, then split the embedding into heads: (N, num_heads, length, head_dim).
    const Variable<T> qh = heads(project(q, 0), N);
    const Variable<T> kh = heads(project(k, 1), N);
    const Variable<T> vh = heads(project(v, 2), N);
    const AttentionResult<T> attended = attention_with_weights<T>(qh, kh, vh, masked ? &mask : nullptr, false,
                                                                  static_cast<T>(dropout_), this->is_training(), *gen_);
    // Join the heads back into (L, N, E) (or (N, L, E)) and project.
    const Variable<T> joined = permute(attended.output, batch_first_ ? Shape{0, 2, 1, 3} : Shape{2, 0, 1, 3});
    Variable<T> output = (*out_proj_)(reshape(joined, batch_first_ ? Shape{N, L, E} : Shape{L, N, E}));
    Variable<T> weights;
    if (need_weights) weights = mean(attended.weights, {1});  // (N, L, S)
    if (!batched) {
      output = squeeze(output, batch_axis);
      if (need_weights) weights = squeeze(weights, 0);
    }
    return {output, weights};
  }

  // Self-attention: forward(x, x, x).output.
  Variable<T> forward(const Variable<T>& x) override { return forward(x, x, x, nullptr, false).output; }

  std::string describe() const override {
    return fmt::format("MultiheadAttention(embed_dim={}, num_heads={}{}{})", embed_dim_, num_heads_,
                       dropout_ > 0 ? fmt::format(", dropout={}", dropout_) : "",
                       in_proj_bias_.defined() ? "" : ", bias=false");
  }

  Variable<T>& in_proj_weight() { return in_proj_weight_; }
  Variable<T>& in_proj_bias() { return in_proj_bias_; }  // undefined without bias
  Linear<T>& out_proj() { return *out_proj_; }
  std::size_t embed_dim() const { return embed_dim_; }
  std::size_t num_heads() const { return num_heads_; }
  bool batch_first() const { return batch_first_; }

 private:
  // x · W_iᵀ + b_i with W_i, b_i the i-th block of E rows of in_proj_weight / in_proj_bias (0: query, 1: key, 2: value).
  Variable<T> project(const Variable<T>& x, std::size_t i) const {
    const auto lo = static_cast<std::int64_t>(i * embed_dim_), hi = lo + static_cast<std::int64_t>(embed_dim_);
    const Variable<T> b = in_proj_bias_.defined() ? slice(in_proj_bias_, 0, lo, hi) : Variable<T>();
    return linear(x, slice(in_proj_weight_, 0, lo, hi), b);
  }

  // (length, N, E) or (N, length, E) -> (N, num_heads, length, head_dim).
  Variable<T> heads(const Variable<T>& x, std::size_t N) const {
    const Shape s = x.shape();
    const std::size_t length = batch_first_ ? s[1] : s[0], head_dim = embed_dim_ / num_heads_;
    const Variable<T> split = reshape(x, batch_first_ ? Shape{N, length, num_heads_, head_dim} : Shape{length, N, num_heads_, head_dim});
    return permute(split, batch_first_ ? Shape{0, 2, 1, 3} : Shape{1, 2, 0, 3});
  }

  // attn_mask and key_padding_mask (as -inf where true) in one tensor that broadcasts to the
  // scores (N, num_heads, L, S): (L, S), (N, num_heads, L, S), (N, 1, 1, S) or (N, num_heads or 1, L, S).
  // Empty when neither is given.
  Tensor<T> combined_mask(const Mask* key_padding_mask, const Tensor<T>* attn_mask, bool batched, std::size_t N,
                          std::size_t L, std::size_t S) const {
    std::size_t mask_heads = 1;  // 1: the same (L, S) mask for every batch entry and head
    if (attn_mask) {
      const Shape as(attn_mask->shape().begin(), attn_mask->shape().end());
      if (as == Shape{N * num_heads_, L, S}) {
        mask_heads = num_heads_;
      } else if (as != Shape{L, S}) {
        fail("MultiheadAttention", "attn_mask has shape {} but must be {} or {} (num_heads {})", format_shape(as),
             format_shape(Shape{L, S}), format_shape(batched ? Shape{N * num_heads_, L, S} : Shape{num_heads_, L, S}),
             num_heads_);
      }
    }
    if (key_padding_mask) {
      const Shape ps(key_padding_mask->shape().begin(), key_padding_mask->shape().end());
      const Shape expected = batched ? Shape{N, S} : Shape{S};
      if (ps != expected) {
        fail("MultiheadAttention", "key_padding_mask has shape {} but must be {} (batch, key length)", format_shape(ps),
             format_shape(expected));
      }
    }
    if (!key_padding_mask) {
      if (!attn_mask) return Tensor<T>();
      Tensor<T> mask = *attn_mask;
      if (mask_heads > 1) mask.reshape({N, num_heads_, L, S});
      return mask;
    }
    // (N, mask_heads, rows, S): the padding of batch entry n repeated over every head and query of
    // the attention mask (rows = 1 without one).
    const std::size_t rows = attn_mask ? L : 1;
    Tensor<T> mask = Tensor<T>::from_shape({N, mask_heads, rows, S});
    const bool* hidden = key_padding_mask->data();
    T* out = mask.data();
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t h = 0; h < mask_heads; ++h) {
        const T* added = attn_mask ? attn_mask->data() + (mask_heads > 1 ? (n * mask_heads + h) * L * S : 0) : nullptr;
        for (std::size_t r = 0; r < rows; ++r, out += S) {
          for (std::size_t j = 0; j < S; ++j) {
            const T base = added ? added[r * S + j] : T(0);
            out[j] = hidden[n * S + j] ? -std::numeric_limits<T>::infinity() : base;
          }
        }
      }
    }
    return mask;
  }

  std::size_t embed_dim_, num_heads_;
  double dropout_;
  bool batch_first_;
  Generator* gen_;
  Variable<T> in_proj_weight_, in_proj_bias_;
  std::shared_ptr<Linear<T>> out_proj_;
};

}  // namespace tg::nn
