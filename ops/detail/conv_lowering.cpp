#include "conv_lowering.hpp"

#include <climits>

#include "../../core/detail/cpu.hpp"
#include "../../core/errors.hpp"
#include "gemm.hpp"
#include "lane_sum.hpp"

namespace tg::detail {
namespace {

// floor((size + 2p - d(k-1) - 1) / s) + 1, which may be zero or negative for too small an input.
long long output_size(std::size_t size, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
  const long long num = static_cast<long long>(size + 2 * p) - static_cast<long long>(d * (k - 1) + 1);
  const long long st = static_cast<long long>(s);
  return (num >= 0 ? num / st : -((-num + st - 1) / st)) + 1;
}

// dW (Og, K) += dY (Og, L) · colᵀ when K, a group's C·kH·kW, is tiny (9 for a first 3x3 layer on
// grey images): GEMM libraries block for large output matrices and run this Og x K product at a
// third of the speed of these Og·K dot products of length L. Nine taps go in one pass over a dY
// row (each load of dY feeds nine multiply-adds; 30% faster than four at a time), the rest four
// or one at a time. The sums are named variables: GCC does not vectorise an array reduction.
template <class T>
TG_KERNEL_INLINE void add_small_weight_grad_kernel(const T* dy, const T* col, std::size_t Og, std::size_t K,
                                                   std::size_t L, T* dw) {
  for (std::size_t o = 0; o < Og; ++o) {
    const T* __restrict d = dy + o * L;
    T* dw_row = dw + o * K;
    std::size_t k = 0;
    for (; k + 9 <= K; k += 9) {
      const T* __restrict c = col + k * L;
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, s4, s5, s6, s7, s8)
      for (std::size_t p = 0; p < L; ++p) {
        const T v = d[p];
        s0 += v * c[p];
        s1 += v * c[L + p];
        s2 += v * c[2 * L + p];
        s3 += v * c[3 * L + p];
        s4 += v * c[4 * L + p];
        s5 += v * c[5 * L + p];
        s6 += v * c[6 * L + p];
        s7 += v * c[7 * L + p];
        s8 += v * c[8 * L + p];
      }
      T* r = dw_row + k;
      r[0] += s0, r[1] += s1, r[2] += s2, r[3] += s3, r[4] += s4, r[5] += s5, r[6] += s6, r[7] += s7, r[8] += s8;
    }
    for (; k + 4 <= K; k += 4) {
      const T* __restrict c = col + k * L;
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (std::size_t p = 0; p < L; ++p) {
        const T v = d[p];
        s0 += v * c[p];
        s1 += v * c[L + p];
        s2 += v * c[2 * L + p];
        s3 += v * c[3 * L + p];
      }
      T* r = dw_row + k;
      r[0] += s0, r[1] += s1, r[2] += s2, r[3] += s3;
    }
    for (; k < K; ++k) {
      const T* __restrict c = col + k * L;
      T s0 = 0;
#pragma omp simd reduction(+ : s0)
      for (std::size_t p = 0; p < L; ++p) s0 += d[p] * c[p];
      dw_row[k] += s0;
    }
  }
}
TG_AVX512_CLONES void add_small_weight_grad(const float* dy, const float* col, std::size_t Og, std::size_t K,
                                            std::size_t L, float* dw) {
  add_small_weight_grad_kernel(dy, col, Og, K, L, dw);
}
TG_AVX512_CLONES void add_small_weight_grad(const double* dy, const double* col, std::size_t Og, std::size_t K,
                                            std::size_t L, double* dw) {
  add_small_weight_grad_kernel(dy, col, Og, K, L, dw);
}

// y (O, L): row o set to bias[o], before the GEMM adds w · col.
template <class T>
TG_KERNEL_INLINE void fill_bias_rows_kernel(const T* bias, std::size_t O, std::size_t L, T* y) {
  for (std::size_t o = 0; o < O; ++o) std::fill_n(y + o * L, L, bias[o]);
}
TG_AVX512_CLONES void fill_bias_rows(const float* bias, std::size_t O, std::size_t L, float* y) {
  fill_bias_rows_kernel(bias, O, L, y);
}
TG_AVX512_CLONES void fill_bias_rows(const double* bias, std::size_t O, std::size_t L, double* y) {
  fill_bias_rows_kernel(bias, O, L, y);
}

// Up to this many taps per group the weight gradient takes add_small_weight_grad instead of GEMM.
constexpr std::size_t small_tap_count = 16;

}  // namespace

template <class T>
ConvPlan plan_conv2d(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b,
                     std::size_t stride, std::size_t padding, std::size_t dilation, std::size_t groups) {
  if (x.dimension() != 4) fail(op, "input must be 4-D (N, C, H, W), got {}", format_shape(x.shape()));
  if (w.dimension() != 4) fail(op, "weight must be 4-D (O, C/groups, kH, kW), got {}", format_shape(w.shape()));
  if (stride == 0) fail(op, "stride must be positive, got 0");
  if (dilation == 0) fail(op, "dilation must be positive, got 0");
  if (groups == 0) fail(op, "groups must be positive, got 0");
  const std::size_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  if (C != w.shape()[1] * groups) {
    fail(op, "input has {} channels but weight {} with groups {} expects {}", C, format_shape(w.shape()), groups,
         w.shape()[1] * groups);
  }
  if (O % groups != 0) {
    fail(op, "weight {} has {} output channels, which groups {} does not divide", format_shape(w.shape()), O,
         groups);
  }
  if (b.defined() && (b.value().dimension() != 1 || b.value().shape()[0] != O)) {
    fail(op, "bias has shape {} but weight {} needs ({},)", format_shape(b.value().shape()),
         format_shape(w.shape()), O);
  }
  if (kh == 0 || kw == 0) fail(op, "weight {} has an empty kernel", format_shape(w.shape()));
  const long long oh = output_size(H, kh, stride, padding, dilation), ow = output_size(W, kw, stride, padding, dilation);
  if (oh <= 0 || ow <= 0) {
    fail(op,
         "input {} is too small for kernel {}x{} with stride {}, padding {}, dilation {}: the output would be {}x{}",
         format_shape(x.shape()), kh, kw, stride, padding, dilation, oh, ow);
  }
  ConvPlan plan;
  plan.C = C;
  plan.O = O;
  plan.groups = groups;
  detail::ConvGeometry& g = plan.g;
  g.channels = C / groups;
  g.height = H;
  g.width = W;
  g.kernel_h = kh;
  g.kernel_w = kw;
  g.stride = stride;
  g.padding = padding;
  g.dilation = dilation;
  g.out_h = static_cast<std::size_t>(oh);
  g.out_w = static_cast<std::size_t>(ow);
  if (std::max({plan.out_per_group(), plan.taps(), plan.positions()}) > static_cast<std::size_t>(INT_MAX)) {
    fail(op, "input {} with weight {} needs a {}x{} lowering, beyond the BLAS integer range", format_shape(x.shape()),
         format_shape(w.shape()), plan.taps(), plan.positions());
  }
  return plan;
}

template <class T>
void conv_forward_image(const ConvPlan& p, const T* x, const T* w, const T* bias, T* col, T* y) {
  const std::size_t Og = p.out_per_group(), K = p.taps(), L = p.positions(), plane = p.g.height * p.g.width;
  if (bias) fill_bias_rows(bias, p.O, L, y);
  for (std::size_t grp = 0; grp < p.groups; ++grp) {  // y[group] (Og, L) = w[group] (Og, K) · col (K, L)
    const T* xb = x + grp * p.g.channels * plane;
    if (!p.direct()) detail::im2col(xb, p.g, col);
    detail::gemm<T>(false, false, Og, L, K, T(1), w + grp * Og * K, K, p.direct() ? xb : col, L,
                     bias ? T(1) : T(0), y + grp * Og * L, L);
  }
}

template <class T>
void conv_backward_image(const ConvPlan& p, const T* x, const T* w, const T* dy, T* col, T* dcol, T* dw, T* db,
                         T* dx) {
  const std::size_t Og = p.out_per_group(), K = p.taps(), L = p.positions(), plane = p.g.height * p.g.width;
  const bool direct = p.direct();
  if (dx && !direct) std::fill_n(dx, p.in_image(), T(0));  // col2im accumulates
  for (std::size_t grp = 0; grp < p.groups; ++grp) {
    const T* dyg = dy + grp * Og * L;  // (Og, L)
    const std::size_t x_offset = grp * p.g.channels * plane;
    if (dw) {  // dW[group] (Og, K) += dY (Og, L) · colᵀ
      const T* xb = x + x_offset;
      if (!direct) detail::im2col(xb, p.g, col);
      const T* lowered = direct ? xb : col;
      if (K <= small_tap_count) {
        add_small_weight_grad(dyg, lowered, Og, K, L, dw + grp * Og * K);
      } else {
        detail::gemm<T>(false, true, Og, K, L, T(1), dyg, L, lowered, L, T(1), dw + grp * Og * K, K);
      }
    }
    if (dx) {  // dcol (K, L) = W[group]ᵀ · dY, folded back onto the image by col2im
      T* dxb = dx + x_offset;
      detail::gemm<T>(true, false, K, L, Og, T(1), w + grp * Og * K, K, dyg, L, T(0), direct ? dxb : dcol, L);
      if (!direct) detail::col2im(dcol, p.g, dxb);
    }
  }
  if (db) {  // db[o] += the sum of dY over the output plane
    for (std::size_t o = 0; o < p.O; ++o) {
      const T* row = dy + o * L;
      db[o] += static_cast<T>(lane_sum(L, [row](std::size_t i) { return row[i]; }));
    }
  }
}

template ConvPlan plan_conv2d<float>(const char*, const Tensor<float>&, const Tensor<float>&, const Variable<float>&,
                                     std::size_t, std::size_t, std::size_t, std::size_t);
template ConvPlan plan_conv2d<double>(const char*, const Tensor<double>&, const Tensor<double>&,
                                      const Variable<double>&, std::size_t, std::size_t, std::size_t, std::size_t);
template void conv_forward_image<float>(const ConvPlan&, const float*, const float*, const float*, float*, float*);
template void conv_forward_image<double>(const ConvPlan&, const double*, const double*, const double*, double*,
                                         double*);
template void conv_backward_image<float>(const ConvPlan&, const float*, const float*, const float*, float*, float*,
                                         float*, float*, float*);
template void conv_backward_image<double>(const ConvPlan&, const double*, const double*, const double*, double*,
                                          double*, double*, double*, double*);

}  // namespace tg::detail
