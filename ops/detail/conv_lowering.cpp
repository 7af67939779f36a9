#include "conv_lowering.hpp"

#include <climits>
#include <string>

#include "../../core/detail/checked.hpp"
#include "../../core/detail/cpu.hpp"
#include "../../core/errors.hpp"
#include "gemm.hpp"
#include "lane_sum.hpp"

namespace tg::detail {
namespace {

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

// The padded input extent size + 2·padding; beyond a tensor's reach (or overflowing) it is refused.
std::size_t padded_extent(const char* op, const char* what, std::size_t size, std::size_t padding) {
  std::size_t twice = 0, padded = 0;
  if (__builtin_mul_overflow(padding, std::size_t(2), &twice) || __builtin_add_overflow(size, twice, &padded) ||
      padded > max_elements) {
    fail(op, "padding {} on an input {} of {} overflows the padded size {} + 2 x {}", padding, what, size, size,
         padding);
  }
  return padded;
}

// The dilated kernel extent dilation·(k - 1) + 1, refused when it overflows.
std::size_t dilated_extent(const char* op, std::size_t k, std::size_t dilation) {
  std::size_t span = 0;
  if (__builtin_mul_overflow(dilation, k - 1, &span) || span >= max_elements) {
    fail(op, "dilation {} with kernel size {} overflows the dilated kernel size {} x ({} - 1) + 1", dilation, k,
         dilation, k, k);
  }
  return span + 1;
}

// "-3" for a size that would be negative: magnitude given apart, it cannot overflow.
std::string signed_size(bool negative, std::size_t magnitude) {
  return (negative && magnitude != 0 ? "-" : "") + std::to_string(magnitude);
}

// A stride larger than any padded extent leaves one output per row or column: clamped so that the
// lowering's signed index arithmetic cannot overflow (the output is the same).
std::size_t clamped_stride(std::size_t stride) { return std::min(stride, max_elements); }

// The plan of a convolution of x's N images from `in` (C, H, W) to `out` (O, OH, OW) with w's kH x kW
// kernel, checked for what the lowering needs (output count, BLAS integer range).
ConvPlan checked_plan(const char* op, const Shape& x, const Shape& w, std::size_t groups, std::size_t stride,
                      std::size_t padding, std::size_t dilation, const Shape& in, const Shape& out) {
  ConvPlan plan;
  plan.N = x[0];
  plan.C = in[0];
  plan.O = out[0];
  plan.groups = groups;
  plan.g.channels = in[0] / groups;
  plan.g.height = in[1];
  plan.g.width = in[2];
  plan.g.kernel_h = w[2];
  plan.g.kernel_w = w[3];
  plan.g.stride = clamped_stride(stride);
  plan.g.padding = padding;
  plan.g.dilation = dilation;
  plan.g.out_h = out[1];
  plan.g.out_w = out[2];
  const Shape out_shape{plan.N, plan.O, plan.g.out_h, plan.g.out_w};
  checked_count(op, plan.input_shape());
  checked_count(op, out_shape);
  checked_count(op, {plan.g.channels, plan.g.kernel_h, plan.g.kernel_w});  // the taps
  checked_count(op, {plan.g.out_h, plan.g.out_w});                         // the positions
  if (std::max({plan.out_per_group(), plan.taps(), plan.positions()}) > static_cast<std::size_t>(INT_MAX)) {
    fail(op, "input {} with weight {} needs a {}x{} lowering, beyond the BLAS integer range", format_shape(x),
         format_shape(w), plan.taps(), plan.positions());
  }
  return plan;
}

// The checks both ops share: dimensions, positive options, a non-empty kernel, a bias of `out` values.
void check_common(const char* op, const Shape& x, const Shape& w, const char* weight_layout, std::size_t stride,
                  std::size_t dilation, std::size_t groups) {
  if (x.size() != 4) fail(op, "input must be 4-D (N, C, H, W), got {}", format_shape(x));
  if (w.size() != 4) fail(op, "weight must be 4-D {}, got {}", weight_layout, format_shape(w));
  if (stride == 0) fail(op, "stride must be positive, got 0");
  if (dilation == 0) fail(op, "dilation must be positive, got 0");
  if (groups == 0) fail(op, "groups must be positive, got 0");
}

void check_bias(const char* op, const Shape* b, const Shape& w, std::size_t out) {
  if (b && (b->size() != 1 || (*b)[0] != out)) {
    fail(op, "bias has shape {} but weight {} needs ({},)", format_shape(*b), format_shape(w), out);
  }
}

template <class T>
const Shape* bias_shape(const Variable<T>& b, Shape& storage) {
  if (!b.defined()) return nullptr;
  storage = shape_of(b.value());
  return &storage;
}

}  // namespace

ConvPlan plan_conv2d(const char* op, const Shape& x, const Shape& w, const Shape* b, std::size_t stride,
                     std::size_t padding, std::size_t dilation, std::size_t groups) {
  check_common(op, x, w, "(O, C/groups, kH, kW)", stride, dilation, groups);
  const std::size_t C = x[1], H = x[2], W = x[3];
  const std::size_t O = w[0], kh = w[2], kw = w[3];
  if (C != w[1] * groups) {
    fail(op, "input has {} channels but weight {} with groups {} expects {}", C, format_shape(w), groups,
         w[1] * groups);
  }
  if (O % groups != 0) {
    fail(op, "weight {} has {} output channels, which groups {} does not divide", format_shape(w), O,
         groups);
  }
  check_bias(op, b, w, O);
  if (kh == 0 || kw == 0) fail(op, "weight {} has an empty kernel", format_shape(w));
  // floor((size + 2p - span) / s) + 1 with span = d(k-1) + 1, which is zero or negative for too small an input.
  const std::size_t ph = padded_extent(op, "height", H, padding), pw = padded_extent(op, "width", W, padding);
  const std::size_t sh = dilated_extent(op, kh, dilation), sw = dilated_extent(op, kw, dilation);
  if (ph < sh || pw < sw) {
    auto would_be = [stride](std::size_t padded, std::size_t span) {
      if (padded >= span) return std::to_string((padded - span) / stride + 1);
      const std::size_t short_by = (span - padded - 1) / stride + 1;  // ceil, so the output is 1 - short_by
      return signed_size(true, short_by - 1);
    };
    fail(op,
         "input {} is too small for kernel {}x{} with stride {}, padding {}, dilation {}: the output would be {}x{}",
         format_shape(x), kh, kw, stride, padding, dilation, would_be(ph, sh), would_be(pw, sw));
  }
  return checked_plan(op, x, w, groups, stride, padding, dilation, {C, H, W},
                      {O, (ph - sh) / stride + 1, (pw - sw) / stride + 1});
}

template <class T>
ConvPlan plan_conv2d(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b, std::size_t stride,
                     std::size_t padding, std::size_t dilation, std::size_t groups) {
  Shape storage;
  return plan_conv2d(op, shape_of(x), shape_of(w), bias_shape(b, storage), stride, padding, dilation, groups);
}

template <class T>
ConvPlan plan_conv_transpose2d(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b,
                               std::size_t stride, std::size_t padding, std::size_t output_padding, std::size_t groups,
                               std::size_t dilation) {
  check_common(op, shape_of(x), shape_of(w), "(C_in, C_out/groups, kH, kW)", stride, dilation, groups);
  const std::size_t C_in = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t kh = w.shape()[2], kw = w.shape()[3];
  if (C_in != w.shape()[0]) {
    fail(op, "input has {} channels but weight {} expects {}", C_in, format_shape(w.shape()), w.shape()[0]);
  }
  if (C_in % groups != 0) fail(op, "input channels {} are not divisible by groups {}", C_in, groups);
  const std::size_t C_out = checked_mul(op, w.shape()[1], groups);
  Shape storage;
  check_bias(op, bias_shape(b, storage), shape_of(w), C_out);
  if (kh == 0 || kw == 0) fail(op, "weight {} has an empty kernel", format_shape(w.shape()));
  if (output_padding >= stride && output_padding >= dilation) {
    fail(op, "output_padding {} must be smaller than either stride {} or dilation {}", output_padding, stride,
         dilation);
  }
  if (H == 0 || W == 0) fail(op, "input {} has an empty plane", format_shape(x.shape()));
  if (padding > max_elements) fail(op, "padding {} is too large: 2 x {} overflows the output size", padding, padding);
  // (size - 1)·s + d(k-1) + 1 + output_padding - 2p: the reach of the last window, less the padding cut off.
  // Returns the size, or the magnitude of a size <= 0 and false.
  auto output_size = [&](const char* what, std::size_t size, std::size_t k) -> std::pair<std::size_t, bool> {
    const std::size_t span = dilated_extent(op, k, dilation);
    std::size_t reach = 0;
    if (__builtin_mul_overflow(size - 1, stride, &reach) || __builtin_add_overflow(reach, span, &reach) ||
        __builtin_add_overflow(reach, output_padding, &reach) || reach > max_elements) {
      fail(op,
           "input {} of {} with stride {}, kernel size {}, dilation {} and output_padding {} overflows the output "
           "size",
           what, size, stride, k, dilation, output_padding);
    }
    if (2 * padding >= reach) return {2 * padding - reach, false};
    return {reach - 2 * padding, true};
  };
  const auto [oh, oh_ok] = output_size("height", H, kh);
  const auto [ow, ow_ok] = output_size("width", W, kw);
  if (!oh_ok || !ow_ok) {
    fail(op,
         "input {} is too small for kernel {}x{} with stride {}, padding {}, output_padding {}, dilation {}: the "
         "output would be {}x{}",
         format_shape(x.shape()), kh, kw, stride, padding, output_padding, dilation, signed_size(!oh_ok, oh),
         signed_size(!ow_ok, ow));
  }
  // The convolution from (N, C_out, OH, OW) to x's shape that this op is the adjoint of.
  return checked_plan(op, shape_of(x), shape_of(w), groups, stride, padding, dilation, {C_out, oh, ow}, {C_in, H, W});
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
template ConvPlan plan_conv_transpose2d<float>(const char*, const Tensor<float>&, const Tensor<float>&,
                                               const Variable<float>&, std::size_t, std::size_t, std::size_t,
                                               std::size_t, std::size_t);
template ConvPlan plan_conv_transpose2d<double>(const char*, const Tensor<double>&, const Tensor<double>&,
                                                const Variable<double>&, std::size_t, std::size_t, std::size_t,
                                                std::size_t, std::size_t);
template void conv_forward_image<float>(const ConvPlan&, const float*, const float*, const float*, float*, float*);
template void conv_forward_image<double>(const ConvPlan&, const double*, const double*, const double*, double*,
                                         double*);
template void conv_backward_image<float>(const ConvPlan&, const float*, const float*, const float*, float*, float*,
                                         float*, float*, float*);
template void conv_backward_image<double>(const ConvPlan&, const double*, const double*, const double*, double*,
                                          double*, double*, double*, double*);

}  // namespace tg::detail
