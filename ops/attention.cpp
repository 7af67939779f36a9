#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "activation.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/linalg_backward.hpp"
#include "dropout.hpp"

namespace tg {
namespace {

constexpr const char* kName = "scaled_dot_product_attention";

// Whether `small`, right-aligned against `big`, has in every dimension big's extent or 1.
bool broadcasts_to(const Shape& small, const Shape& big) {
  if (small.size() > big.size()) return false;
  const std::size_t pad = big.size() - small.size();
  for (std::size_t d = 0; d < small.size(); ++d) {
    if (small[d] != 1 && small[d] != big[d + pad]) return false;
  }
  return true;
}

// Checks q (..., L, E), k (..., S, E), v (..., S, Ev) and that their batch dimensions broadcast.
void check_shapes(const Shape& q, const Shape& k, const Shape& v) {
  if (q.size() < 2 || k.size() < 2 || v.size() < 2) {
    fail(kName, "q, k and v must be at least 2-D (..., L, E), (..., S, E), (..., S, Ev), got q {}, k {}, v {}",
         format_shape(q), format_shape(k), format_shape(v));
  }
  if (q.back() != k.back()) {
    fail(kName, "q and k have different embedding sizes E: q {}, k {}", format_shape(q), format_shape(k));
  }
  if (k[k.size() - 2] != v[v.size() - 2]) {
    fail(kName, "k and v have different sequence lengths S: k {}, v {}", format_shape(k), format_shape(v));
  }
  const std::size_t n = std::max({q.size(), k.size(), v.size()}) - 2;
  for (std::size_t i = 0; i < n; ++i) {  // batch dimension i, counted from the last one
    std::size_t extent = 1;
    for (const Shape* s : {&q, &k, &v}) {
      if (s->size() < i + 3) continue;
      const std::size_t e = (*s)[s->size() - 3 - i];
      if (e != 1 && extent != 1 && e != extent) {
        fail(kName, "the batch dimensions of q {}, k {} and v {} do not broadcast", format_shape(q), format_shape(k),
             format_shape(v));
      }
      if (e != 1) extent = e;
    }
  }
}

// 0 where key j may be seen by query i (j <= i), -inf above the diagonal, as an (L, S) tensor.
template <class T>
Tensor<T> causal_mask(std::size_t L, std::size_t S) {
  Tensor<T> mask = Tensor<T>::from_shape({L, S});
  for (std::size_t i = 0; i < L; ++i) {
    for (std::size_t j = 0; j < S; ++j) mask(i, j) = j <= i ? T(0) : -std::numeric_limits<T>::infinity();
  }
  return mask;
}

}  // namespace

template <class T>
AttentionResult<T> attention_with_weights(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                          const Tensor<T>* attn_mask, bool is_causal, Scalar<T> dropout_p,
                                          bool training, Generator& gen) {
  const Shape qs = q.shape(), ks = k.shape(), vs = v.shape();
  check_shapes(qs, ks, vs);
  if (attn_mask && is_causal) {
    fail(kName, "attn_mask (shape {}) and is_causal = true cannot be used together", format_shape(attn_mask->shape()));
  }
  const std::size_t E = qs.back(), L = qs[qs.size() - 2], S = ks[ks.size() - 2];
  // scores (..., L, S) = q·kᵀ / sqrt(E): the scale is the GEMM's alpha, k is read transposed in place.
  Variable<T> scores = detail::batched_mm<T>(kName, q, k, false, true, T(1 / std::sqrt(static_cast<double>(E))));
  if (attn_mask) {
    const Shape mask_shape(attn_mask->shape().begin(), attn_mask->shape().end());
    if (!broadcasts_to(mask_shape, scores.shape())) {
      fail(kName, "attn_mask of shape {} does not broadcast to the scores' shape {} (q {}, k {})",
           format_shape(mask_shape), format_shape(scores.shape()), format_shape(qs), format_shape(ks));
    }
    scores = scores + detail::constant<T>(*attn_mask);
  } else if (is_causal) {
    scores = scores + detail::constant<T>(causal_mask<T>(L, S));
  }
  AttentionResult<T> result;
  result.weights = softmax(scores, -1);
  if (training && dropout_p > T(0)) result.weights = dropout(result.weights, dropout_p, training, gen);
  result.output = detail::batched_mm<T>(kName, result.weights, v, false, false);
  return result;
}

template <class T>
Variable<T> scaled_dot_product_attention(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                         bool is_causal) {
  return attention_with_weights<T>(q, k, v, nullptr, is_causal, T(0), false, default_generator()).output;
}

template <class T>
Variable<T> scaled_dot_product_attention(const Variable<T>& q, const Variable<T>& k, const Variable<T>& v,
                                         const Tensor<T>& attn_mask, bool is_causal) {
  return attention_with_weights<T>(q, k, v, &attn_mask, is_causal, T(0), false, default_generator()).output;
}

#define TG_FUNCTIONS(T)                                                                                            \
  template Variable<T> scaled_dot_product_attention(const Variable<T>&, const Variable<T>&, const Variable<T>&,   \
                                                    bool);                                                         \
  template Variable<T> scaled_dot_product_attention(const Variable<T>&, const Variable<T>&, const Variable<T>&,   \
                                                    const Tensor<T>&, bool);                                       \
  template AttentionResult<T> attention_with_weights(const Variable<T>&, const Variable<T>&, const Variable<T>&,   \
                                                     const Tensor<T>*, bool, Scalar<T>, bool, Generator&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
