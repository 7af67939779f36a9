// Normalisation kernels: raw-buffer loops over a tensor viewed as (outer, groups, inner), where each
// group's statistics run over its outer * inner elements. batch_norm's groups are channels
// (N, C, spatial...); layer_norm's are rows (1, rows, normalised size).
#pragma once

#include <cstddef>

namespace tg::detail {

// Element (o, c, i) sits at (o * groups + c) * inner + i; group c holds outer * inner elements.
struct GroupLayout {
  std::size_t outer = 1, groups = 1, inner = 1;
  std::size_t group_size() const { return outer * inner; }
  std::size_t total() const { return outer * groups * inner; }
};

// Each group's mean and 1 / sqrt(biased variance + eps) in one sweep (sums shifted by the group's
// first element, accumulated in double, so a large mean does not swamp the variance). `variance`
// (biased; may be null) receives the variance itself, for running statistics.
template <class T>
void group_moments(const T* x, const GroupLayout& layout, T eps, T* mean, T* invstd, T* variance);

// y = x * scale[c] + shift[c]: normalisation fused with a per-group affine step.
template <class T>
void scale_shift_groups(const T* x, const GroupLayout& layout, const T* scale, const T* shift, T* y);

// y = (x - mean[c]) * invstd[c] * weight[i] + bias[i] (weight, bias: `inner` values each, either may be
// null): layer_norm's elementwise affine step.
template <class T>
void normalize_affine_inner(const T* x, const GroupLayout& layout, const T* mean, const T* invstd, const T* weight,
                            const T* bias, T* y);

// Per group: sum_g = sum of g, sum_g_xhat = sum of g * (x - mean) * invstd, in one sweep.
template <class T>
void grad_sums(const T* g, const T* x, const GroupLayout& layout, const T* mean, const T* invstd, T* sum_g,
               T* sum_g_xhat);

// The input gradient of normalisation followed by a per-group scale w (null: 1), given grad_sums:
// gx = w * invstd * (g - sum_g / M - xhat * sum_g_xhat / M), M the group size.
template <class T>
void normalize_input_grad(const T* g, const T* x, const GroupLayout& layout, const T* mean, const T* invstd,
                          const T* sum_g, const T* sum_g_xhat, const T* weight, T* gx);

}  // namespace tg::detail
