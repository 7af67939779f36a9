#include "conv.hpp"

#include <omp.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <utility>
#include <vector>

#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "gemm.hpp"
#include "im2col.hpp"

namespace tg {
namespace {

using kernels::ConvGeometry;
using kernels::gemm;

// floor((size + 2p - d(k-1) - 1) / s) + 1, which may be zero or negative for too small an input.
long long output_size(std::size_t size, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
  const long long num = static_cast<long long>(size + 2 * p) - static_cast<long long>(d * (k - 1) + 1);
  const long long st = static_cast<long long>(s);
  return (num >= 0 ? num / st : -((-num + st - 1) / st)) + 1;
}

// Checks every argument and returns one group's geometry (channels = C / groups).
template <class T>
ConvGeometry check(const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  if (x.dimension() != 4) fail("conv2d", "input must be 4-D (N, C, H, W), got {}", format_shape(x.shape()));
  if (w.dimension() != 4) fail("conv2d", "weight must be 4-D (O, C/groups, kH, kW), got {}", format_shape(w.shape()));
  if (stride == 0) fail("conv2d", "stride must be positive, got 0");
  if (dilation == 0) fail("conv2d", "dilation must be positive, got 0");
  if (groups == 0) fail("conv2d", "groups must be positive, got 0");
  const std::size_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  if (C != w.shape()[1] * groups) {
    fail("conv2d", "input has {} channels but weight {} with groups {} expects {}", C, format_shape(w.shape()), groups,
         w.shape()[1] * groups);
  }
  if (O % groups != 0) {
    fail("conv2d", "weight {} has {} output channels, which groups {} does not divide", format_shape(w.shape()), O,
         groups);
  }
  if (b.defined() && (b.value().dimension() != 1 || b.value().shape()[0] != O)) {
    fail("conv2d", "bias has shape {} but weight {} needs ({},)", format_shape(b.value().shape()),
         format_shape(w.shape()), O);
  }
  if (kh == 0 || kw == 0) fail("conv2d", "weight {} has an empty kernel", format_shape(w.shape()));
  const long long oh = output_size(H, kh, stride, padding, dilation), ow = output_size(W, kw, stride, padding, dilation);
  if (oh <= 0 || ow <= 0) {
    fail("conv2d",
         "input {} is too small for kernel {}x{} with stride {}, padding {}, dilation {}: the output would be {}x{}",
         format_shape(x.shape()), kh, kw, stride, padding, dilation, oh, ow);
  }
  ConvGeometry g;
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
  return g;
}

// A scratch buffer left uninitialised: im2col writes every entry, and GEMM with beta 0 too.
template <class T>
std::unique_ptr<T[]> scratch(std::size_t n) {
  return n == 0 ? nullptr : std::unique_ptr<T[]>(new T[n]);
}

// The sum of n values, in 16 independent lanes so that the compiler vectorises it (a single running
// sum is a chain of dependent additions that it may not reorder).
template <class T>
T sum_of(const T* p, std::size_t n) {
  constexpr std::size_t lanes = 16;
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) acc[k] += p[i + k];
  }
  T total = T(0);
  for (; i < n; ++i) total += p[i];
  for (std::size_t k = 0; k < lanes; ++k) total += acc[k];
  return total;
}

// dW (Og, K) += dY (Og, L) · colᵀ when K, a group's C·kH·kW, is tiny (9 for a first 3x3 layer on
// grey images): GEMM libraries block for large output matrices and run this Og x K product at a
// third of the speed of these Og·K dot products of length L. Nine taps go in one pass over a dY
// row (each load of dY feeds nine multiply-adds; 30% faster than four at a time), the rest four
// or one at a time. The sums are named variables: GCC does not vectorise an array reduction.
template <class T>
void add_small_weight_grad(const T* dy, const T* col, std::size_t Og, std::size_t K, std::size_t L, T* dw) {
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

// Up to this many taps per group the weight gradient takes add_small_weight_grad instead of GEMM.
constexpr std::size_t small_tap_count = 16;

// A 1x1 kernel with stride 1 and no padding reads the input as it is: im2col would only copy it.
bool lowers_to_itself(const ConvGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride == 1 && g.padding == 0;
}

// Images are spread over the OpenMP threads, each lowering one image at a time into its own small
// (cache-resident) column buffer and running a single-threaded GEMM on it: per-image products are
// too small to split well, and this way the threads never wait on each other inside a batch.
// Under 2^20 multiply-adds in all the batch stays on the calling thread.
int threads_for(std::size_t images, std::size_t work_per_image) {
  if (omp_in_parallel()) return 1;
  const double work = static_cast<double>(images) * static_cast<double>(work_per_image);
  if (work < double(1 << 20)) return 1;
  return static_cast<int>(std::min<std::size_t>(images, static_cast<std::size_t>(omp_get_max_threads())));
}

// The image range [lo, hi) that thread t of n takes (contiguous blocks, as schedule(static)).
std::pair<std::size_t, std::size_t> block(std::size_t count, int t, int n) {
  const std::size_t lo = count * static_cast<std::size_t>(t) / static_cast<std::size_t>(n);
  const std::size_t hi = count * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(n);
  return {lo, hi};
}

}  // namespace

template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const Tensor<T>& wv = w.value();
  const ConvGeometry g = check(xv, wv, b, stride, padding, dilation, groups);
  const std::size_t N = xv.shape()[0], C = xv.shape()[1], O = wv.shape()[0], Og = O / groups;
  const std::size_t K = g.col_rows(), L = g.col_cols(), plane = g.height * g.width;
  const bool direct = lowers_to_itself(g);
  if (std::max({Og, K, L}) > static_cast<std::size_t>(INT_MAX)) {  // checked here: the threads below cannot throw
    fail("conv2d", "input {} with weight {} needs a {}x{} lowering, beyond the BLAS integer range",
         format_shape(xv.shape()), format_shape(wv.shape()), K, L);
  }

  // Per image and group: y[n, group] (Og, L) = w[group] (Og, K) · col (K, L), on top of the bias.
  Tensor<T> y = Tensor<T>::from_shape({N, O, g.out_h, g.out_w});
  const T* bias = b.defined() ? b.value().data() : nullptr;
  const T* xp = xv.data();
  const T* wp = wv.data();
  T* yp = y.data();
  const int nt = threads_for(N, O * K * L);
#pragma omp parallel num_threads(nt)
  {
    const auto [lo, hi] = block(N, omp_get_thread_num(), omp_get_num_threads());
    const std::unique_ptr<T[]> col = scratch<T>(direct || lo == hi ? 0 : K * L);
    for (std::size_t n = lo; n < hi; ++n) {
      T* yn = yp + n * O * L;
      if (bias) {
        for (std::size_t o = 0; o < O; ++o) std::fill_n(yn + o * L, L, bias[o]);
      }
      for (std::size_t grp = 0; grp < groups; ++grp) {
        const T* xb = xp + (n * C + grp * g.channels) * plane;
        if (!direct) kernels::im2col(xb, g, col.get());
        gemm<T>(false, false, Og, L, K, T(1), wp + grp * Og * K, K, direct ? xb : col.get(), L,
                bias ? T(1) : T(0), yn + grp * Og * L, L);
      }
    }
  }

  return record_op<T>("conv2d", std::move(y), {x, w, b}, [x, w, b, g, groups, direct](const Tensor<T>& gy) {
    const Tensor<T>& xv = x.value();
    const Tensor<T>& wv = w.value();
    const std::size_t N = xv.shape()[0], C = xv.shape()[1], O = wv.shape()[0], Og = O / groups;
    const std::size_t K = g.col_rows(), L = g.col_cols(), plane = g.height * g.width;
    const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.requires_grad();
    std::vector<Tensor<T>> grads(3);
    if (need_x) grads[0] = Tensor<T>::from_shape(xv.shape());
    if (need_w) grads[1] = xt::zeros<T>(wv.shape());
    if (need_b) grads[2] = xt::zeros<T>({O});
    const T* xp = xv.data();
    const T* wp = wv.data();
    const T* gp = gy.data();
    T* dxp = need_x ? grads[0].data() : nullptr;
    const int nt = threads_for(N, O * K * L * (std::size_t(need_x) + std::size_t(need_w)));
    // Each thread sums dW and db over its own images; the partial sums are added in thread order
    // afterwards, so a run's result does not depend on which thread finishes first.
    const std::size_t w_size = need_w ? wv.size() : 0, b_size = need_b ? O : 0;
    std::vector<std::unique_ptr<T[]>> dw_part(static_cast<std::size_t>(nt)), db_part(static_cast<std::size_t>(nt));
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      const auto [lo, hi] = block(N, t, omp_get_num_threads());
      T* dw = need_w ? (t == 0 ? grads[1].data() : (dw_part[t] = scratch<T>(w_size)).get()) : nullptr;
      T* db = need_b ? (t == 0 ? grads[2].data() : (db_part[t] = scratch<T>(b_size)).get()) : nullptr;
      if (t != 0 && dw) std::fill_n(dw, w_size, T(0));
      if (t != 0 && db) std::fill_n(db, b_size, T(0));
      const std::unique_ptr<T[]> col = scratch<T>(need_w && !direct && lo < hi ? K * L : 0);
      const std::unique_ptr<T[]> dcol = scratch<T>(need_x && !direct && lo < hi ? K * L : 0);
      for (std::size_t n = lo; n < hi; ++n) {
        if (dxp && !direct) std::fill_n(dxp + n * C * plane, C * plane, T(0));  // col2im accumulates
        for (std::size_t grp = 0; grp < groups; ++grp) {
          const T* dy = gp + (n * O + grp * Og) * L;  // (Og, L)
          const T* wg = wp + grp * Og * K;             // (Og, K)
          const std::size_t x_offset = (n * C + grp * g.channels) * plane;
          if (dw) {  // dW[group] (Og, K) += dY (Og, L) · colᵀ
            const T* xb = xp + x_offset;
            if (!direct) kernels::im2col(xb, g, col.get());
            const T* lowered = direct ? xb : col.get();
            if (K <= small_tap_count) {
              add_small_weight_grad(dy, lowered, Og, K, L, dw + grp * Og * K);
            } else {
              gemm<T>(false, true, Og, K, L, T(1), dy, L, lowered, L, T(1), dw + grp * Og * K, K);
            }
          }
          if (dxp) {  // dcol (K, L) = W[group]ᵀ · dY, folded back onto the image by col2im
            T* dxb = dxp + x_offset;
            gemm<T>(true, false, K, L, Og, T(1), wg, K, dy, L, T(0), direct ? dxb : dcol.get(), L);
            if (!direct) kernels::col2im(dcol.get(), g, dxb);
          }
        }
        if (db) {  // db[o] = sum of dY over the batch and the output plane
          for (std::size_t o = 0; o < O; ++o) db[o] += sum_of(gp + (n * O + o) * L, L);
        }
      }
    }
    for (int t = 1; t < nt; ++t) {
      if (dw_part[t]) {  // null when the runtime gave the region fewer threads than asked
        T* dw = grads[1].data();
        const T* part = dw_part[t].get();
        for (std::size_t i = 0; i < w_size; ++i) dw[i] += part[i];
      }
      if (db_part[t]) {
        T* db = grads[2].data();
        const T* part = db_part[t].get();
        for (std::size_t i = 0; i < b_size; ++i) db[i] += part[i];
      }
    }
    return grads;
  });
}

template Variable<float> conv2d(const Variable<float>&, const Variable<float>&, const Variable<float>&, std::size_t,
                                std::size_t, std::size_t, std::size_t);
template Variable<double> conv2d(const Variable<double>&, const Variable<double>&, const Variable<double>&,
                                 std::size_t, std::size_t, std::size_t, std::size_t);

}  // namespace tg
