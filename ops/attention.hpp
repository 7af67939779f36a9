// Scaled dot-product attention, like torch.nn.functional.scaled_dot_product_attention.
#pragma once

#include "../core/generator.hpp"
#include "../core/variable.hpp"

namespace tg {

// softmax(q·kᵀ / sqrt(E) + mask) · v for q (..., L, E), k (..., S, E), v (..., S, Ev), giving
// (..., L, Ev); the leading dimensions broadcast like matmul's. is_causal masks the scores above
// the diagonal (query i sees keys 0..i) with -inf. A row whose keys are all masked gives NaN, as in
// PyTorch. Built from batched GEMMs and softmax, so it is differentiable to any order. Shapes that
// do not fit throw std::invalid_argument naming the function and the shapes.
template <class T>
Variable<T> scaled_dot_product_attention(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                         bool is_causal = false);

// The same with `attn_mask` added to the scores (0 keeps a score, -inf removes it); it must
// broadcast to the scores' shape (..., L, S). A mask together with is_causal is a
// std::invalid_argument, as in PyTorch.
template <class T>
Variable<T> scaled_dot_product_attention(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                         const Tensor<T>& attn_mask, bool is_causal = false);

// The attention's output and its weights (the softmax of the scores, after dropout).
template <class T>
struct AttentionResult {
  Variable<T> output;
  Variable<T> weights;
};

// scaled_dot_product_attention with an optional mask (nullptr: none) and dropout with probability
// dropout_p on the weights while training, drawn from `gen`; returns the weights too, for
// modules that report them (nn::MultiheadAttention).
template <class T>
AttentionResult<T> attention_with_weights(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                          const Tensor<T>* attn_mask, bool is_causal, Scalar<T> dropout_p,
                                          bool training, Generator& gen);

}  // namespace tg
