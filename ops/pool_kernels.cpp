#include "pool_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "parallel.hpp"
#include "pool_2x2_avx512.hpp"

namespace tg::kernels {
namespace {

using Index = std::ptrdiff_t;

struct Range {
  std::size_t lo, hi;
};

// The input rows [lo, hi) inside the image that output row o's window covers.
Range window_rows(std::size_t o, const PoolGeometry& g) {
  const std::size_t start = o * g.stride;  // in padded coordinates
  const std::size_t lo = start > g.padding ? start - g.padding : 0;
  const std::size_t end = start + g.kernel > g.padding ? start + g.kernel - g.padding : 0;
  const std::size_t hi = std::min(end, g.height);
  return {std::min(lo, hi), hi};
}

// For each kernel column j, the output columns whose tap j lands inside the image: ow in [lo, hi)
// reads input column ow * stride + j - padding. Outside that range the tap reads padding.
std::vector<Range> column_taps(const PoolGeometry& g) {
  std::vector<Range> taps(g.kernel);
  const Index s = static_cast<Index>(g.stride);
  for (std::size_t j = 0; j < g.kernel; ++j) {
    const Index offset = static_cast<Index>(j) - static_cast<Index>(g.padding);
    const Index lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
    const Index end = static_cast<Index>(g.width) - offset;
    const std::size_t hi = std::min(end <= 0 ? 0 : static_cast<std::size_t>((end + s - 1) / s), g.out_w);
    taps[j] = {std::min(static_cast<std::size_t>(lo), hi), hi};
  }
  return taps;
}

// The first input column of output column ow's window that lies inside the image.
std::size_t first_column(std::size_t ow, const PoolGeometry& g) {
  return ow * g.stride > g.padding ? ow * g.stride - g.padding : 0;
}

// The loops run a whole output row at a time, tap by tap, so the innermost loop runs along the row
// (and vectorises) instead of over a tiny window. Taps are visited in row-major window order.
template <class T, bool with_argmax>
void max_pool_plane(const T* __restrict x, const PoolGeometry& g, const std::vector<Range>& taps, T* __restrict y,
                    std::int64_t* __restrict argmax) {
  const std::size_t W = g.width, OW = g.out_w;
  const Index s = static_cast<Index>(g.stride), p = static_cast<Index>(g.padding);
  for (std::size_t oh = 0; oh < g.out_h; ++oh) {
    const Range rows = window_rows(oh, g);
    T* yr = y + oh * OW;
    std::int64_t* ar = with_argmax ? argmax + oh * OW : nullptr;
    for (std::size_t ow = 0; ow < OW; ++ow) {
      yr[ow] = -std::numeric_limits<T>::infinity();
      if (with_argmax) ar[ow] = static_cast<std::int64_t>(rows.lo * W + std::min(first_column(ow, g), W - 1));
    }
    for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
      const T* xr = x + ih * W;
      for (std::size_t j = 0; j < g.kernel; ++j) {
        const Index offset = static_cast<Index>(j) - p;
        for (std::size_t ow = taps[j].lo; ow < taps[j].hi; ++ow) {
          const Index iw = static_cast<Index>(ow) * s + offset;
          const T v = xr[iw], best = yr[ow];
          // PyTorch's rule: the first maximum wins, and so does a NaN. Selects rather than a branch:
          // on data the comparison is unpredictable.
          const bool take = (v > best) | (v != v);
          yr[ow] = take ? v : best;
          if (with_argmax) ar[ow] = take ? static_cast<std::int64_t>(ih * W) + iw : ar[ow];
        }
      }
    }
  }
}

// The common CNN case, 2x2 windows with stride 2 and no padding, as straight-line code.
template <class T, bool with_argmax>
void max_pool_plane_2x2(const T* __restrict x, const PoolGeometry& g, T* __restrict y,
                        std::int64_t* __restrict argmax) {
  const std::size_t W = g.width, OW = g.out_w;
  for (std::size_t oh = 0; oh < g.out_h; ++oh) {
    const T* r0 = x + 2 * oh * W;
    const T* r1 = r0 + W;
    for (std::size_t ow = 0; ow < OW; ++ow) {
      const std::int64_t i0 = static_cast<std::int64_t>(2 * oh * W + 2 * ow);
      T best = r0[2 * ow];
      std::int64_t at = i0;
      const T v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
      bool take = (v1 > best) | (v1 != v1);
      best = take ? v1 : best;
      at = take ? i0 + 1 : at;
      take = (v2 > best) | (v2 != v2);
      best = take ? v2 : best;
      at = take ? i0 + static_cast<std::int64_t>(W) : at;
      take = (v3 > best) | (v3 != v3);
      best = take ? v3 : best;
      at = take ? i0 + static_cast<std::int64_t>(W) + 1 : at;
      y[oh * OW + ow] = best;
      if (with_argmax) argmax[oh * OW + ow] = at;
    }
  }
}

// One pair of input rows into the four taps of its OW windows, and back (not inlined, with
// restrict parameters, so that GCC vectorises them).
template <class T>
[[gnu::noinline]] void split_rows(const T* __restrict r0, const T* __restrict r1, T* __restrict a0, T* __restrict a1,
                                  T* __restrict a2, T* __restrict a3, std::size_t OW) {
  for (std::size_t ow = 0; ow < OW; ++ow) {
    a0[ow] = r0[2 * ow];
    a1[ow] = r0[2 * ow + 1];
    a2[ow] = r1[2 * ow];
    a3[ow] = r1[2 * ow + 1];
  }
}

template <class T>
[[gnu::noinline]] void join_rows(const T* __restrict a0, const T* __restrict a1, const T* __restrict a2,
                                 const T* __restrict a3, T* __restrict r0, T* __restrict r1, std::size_t OW) {
  for (std::size_t ow = 0; ow < OW; ++ow) {
    r0[2 * ow] = a0[ow];
    r0[2 * ow + 1] = a1[ow];
    r1[2 * ow] = a2[ow];
    r1[2 * ow + 1] = a3[ow];
  }
}

// 2x2 windows with stride 2, one plane at a time: the four taps of every window are first copied
// into four contiguous arrays (tap k of output o at a[k][o]), so that the selection below runs as
// vector code; done in place on the interleaved rows it compiles to unpredictable branches.
template <class T>
struct Taps2x2 {
  std::vector<T> a[4];
  void gather(const T* __restrict x, std::size_t W, std::size_t OH, std::size_t OW) {
    for (auto& v : a) v.resize(OH * OW);
    T* a0 = a[0].data();
    T* a1 = a[1].data();
    T* a2 = a[2].data();
    T* a3 = a[3].data();
    for (std::size_t oh = 0; oh < OH; ++oh) {
      const T* r0 = x + 2 * oh * W;
      split_rows(r0, r0 + W, a0 + oh * OW, a1 + oh * OW, a2 + oh * OW, a3 + oh * OW, OW);
    }
  }
};

// PyTorch's rule over taps in row-major order: a later tap wins when it is larger or a NaN. Sets
// t1..t3 (did tap k win against the taps before it) and returns the window's maximum.
template <class T>
inline T select_2x2(T v0, T v1, T v2, T v3, bool& t1, bool& t2, bool& t3) {
  t1 = (v1 > v0) | (v1 != v1);
  const T b1 = t1 ? v1 : v0;
  t2 = (v2 > b1) | (v2 != v2);
  const T b2 = t2 ? v2 : b1;
  t3 = (v3 > b2) | (v3 != v3);
  return t3 ? v3 : b2;
}

// The window maxima of n windows from their four tap arrays. Not inlined, and with restrict
// parameters: GCC 12 vectorises these loops only so (inlined into the caller it did not).
template <class T>
[[gnu::noinline]] void max_of_taps(const T* __restrict a0, const T* __restrict a1, const T* __restrict a2,
                                 const T* __restrict a3, T* __restrict y, std::size_t n) {
  for (std::size_t o = 0; o < n; ++o) {
    bool t1, t2, t3;
    y[o] = select_2x2(a0[o], a1[o], a2[o], a3[o], t1, t2, t3);
  }
}

// The gradient of n windows per tap: gy goes to the tap the forward chose, 0 to the others.
template <class T>
[[gnu::noinline]] void route_to_taps(const T* __restrict a0, const T* __restrict a1, const T* __restrict a2,
                                   const T* __restrict a3, const T* __restrict gy, T* __restrict d0,
                                   T* __restrict d1, T* __restrict d2, T* __restrict d3, std::size_t n) {
  for (std::size_t o = 0; o < n; ++o) {
    bool t1, t2, t3;
    select_2x2(a0[o], a1[o], a2[o], a3[o], t1, t2, t3);
    const T gv = gy[o];
    d3[o] = t3 ? gv : T(0);
    d2[o] = (t2 & !t3) ? gv : T(0);
    d1[o] = (t1 & !t2 & !t3) ? gv : T(0);
    d0[o] = (!t1 & !t2 & !t3) ? gv : T(0);
  }
}

}  // namespace

template <class T>
void max_pool_forward(const T* x, const PoolGeometry& g, T* y, std::int64_t* argmax) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  const std::vector<Range> taps = column_taps(g);
  const bool two_by_two = g.kernel == 2 && g.stride == 2 && g.padding == 0;
#if TG_POOL_2X2_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (two_by_two && !argmax) return max_pool_2x2_forward_avx512(x, g, y);
  }
#endif
  parallel_blocks(g.planes, in_plane, [&](std::size_t lo, std::size_t hi) {
    Taps2x2<T> quad;
    for (std::size_t p = lo; p < hi; ++p) {
      if (two_by_two && !argmax) {
        quad.gather(x + p * in_plane, g.width, g.out_h, g.out_w);
        max_of_taps(quad.a[0].data(), quad.a[1].data(), quad.a[2].data(), quad.a[3].data(), y + p * out_plane,
                    out_plane);
      } else if (two_by_two) {
        max_pool_plane_2x2<T, true>(x + p * in_plane, g, y + p * out_plane, argmax + p * out_plane);
      } else if (argmax) {
        max_pool_plane<T, true>(x + p * in_plane, g, taps, y + p * out_plane, argmax + p * out_plane);
      } else {
        max_pool_plane<T, false>(x + p * in_plane, g, taps, y + p * out_plane, nullptr);
      }
    }
  });
}

template <class T>
void max_pool_backward(const T* gy, const std::int64_t* argmax, const PoolGeometry& g, T* gx) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  for (std::size_t p = 0; p < g.planes; ++p) {
    const T* gp = gy + p * out_plane;
    const std::int64_t* ap = argmax + p * out_plane;
    T* xp = gx + p * in_plane;
    for (std::size_t j = 0; j < out_plane; ++j) xp[ap[j]] += gp[j];
  }
}

template <class T>
void max_pool_backward_2x2(const T* x, const T* gy, const PoolGeometry& g, T* gx) {
  const std::size_t W = g.width, H = g.height, OW = g.out_w, OH = g.out_h;
  const std::size_t in_plane = H * W, out_plane = OH * OW;
#if TG_POOL_2X2_AVX512
  if constexpr (std::is_same_v<T, float>) return max_pool_2x2_backward_avx512(x, gy, g, gx);
#endif
  parallel_blocks(g.planes, 2 * in_plane, [&](std::size_t lo, std::size_t hi) {
    Taps2x2<T> taps, grads;
    for (auto& v : grads.a) v.resize(out_plane);
    for (std::size_t p = lo; p < hi; ++p) {
      taps.gather(x + p * in_plane, W, OH, OW);
      T* d0 = grads.a[0].data();
      T* d1 = grads.a[1].data();
      T* d2 = grads.a[2].data();
      T* d3 = grads.a[3].data();
      route_to_taps(taps.a[0].data(), taps.a[1].data(), taps.a[2].data(), taps.a[3].data(), gy + p * out_plane, d0, d1,
                    d2, d3, out_plane);  // the forward's choice, made again
      T* dp = gx + p * in_plane;
      for (std::size_t oh = 0; oh < OH; ++oh) {  // scatter back, zero in an odd last column
        T* r0 = dp + 2 * oh * W;
        T* r1 = r0 + W;
        const std::size_t o = oh * OW;
        join_rows(d0 + o, d1 + o, d2 + o, d3 + o, r0, r1, OW);
        for (std::size_t c = 2 * OW; c < W; ++c) r0[c] = r1[c] = T(0);
      }
      for (std::size_t r = 2 * OH; r < H; ++r) std::fill_n(dp + r * W, W, T(0));  // and in an odd last row
    }
  });
}

template <class T>
void avg_pool_forward(const T* x, const PoolGeometry& g, T* y) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w, W = g.width, OW = g.out_w;
  const Index s = static_cast<Index>(g.stride), pad = static_cast<Index>(g.padding);
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  if (g.kernel == 2 && g.stride == 2 && g.padding == 0) {  // the common case, as straight-line code
    for (std::size_t p = 0; p < g.planes; ++p) {
      for (std::size_t oh = 0; oh < g.out_h; ++oh) {
        const T* __restrict r0 = x + p * in_plane + 2 * oh * W;
        const T* __restrict r1 = r0 + W;
        T* __restrict yr = y + p * out_plane + oh * OW;
        for (std::size_t ow = 0; ow < OW; ++ow) {
          yr[ow] = (r0[2 * ow] + r0[2 * ow + 1] + r1[2 * ow] + r1[2 * ow + 1]) * scale;
        }
      }
    }
    return;
  }
  const std::vector<Range> taps = column_taps(g);
  for (std::size_t p = 0; p < g.planes; ++p) {
    for (std::size_t oh = 0; oh < g.out_h; ++oh) {
      const Range rows = window_rows(oh, g);
      T* __restrict yr = y + p * out_plane + oh * OW;
      std::fill(yr, yr + OW, T(0));
      for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
        const T* __restrict xr = x + p * in_plane + ih * W;
        for (std::size_t j = 0; j < g.kernel; ++j) {
          const Index offset = static_cast<Index>(j) - pad;
          for (std::size_t ow = taps[j].lo; ow < taps[j].hi; ++ow) yr[ow] += xr[static_cast<Index>(ow) * s + offset];
        }
      }
      for (std::size_t ow = 0; ow < OW; ++ow) yr[ow] *= scale;
    }
  }
}

template <class T>
void avg_pool_backward(const T* gy, const PoolGeometry& g, T* gx) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w, W = g.width, OW = g.out_w;
  const Index s = static_cast<Index>(g.stride), pad = static_cast<Index>(g.padding);
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  if (g.kernel == 2 && g.stride == 2 && g.padding == 0) {  // the common case, as straight-line code
    for (std::size_t p = 0; p < g.planes; ++p) {
      for (std::size_t oh = 0; oh < g.out_h; ++oh) {
        T* __restrict r0 = gx + p * in_plane + 2 * oh * W;
        T* __restrict r1 = r0 + W;
        const T* __restrict gr = gy + p * out_plane + oh * OW;
        for (std::size_t ow = 0; ow < OW; ++ow) {
          const T v = gr[ow] * scale;
          r0[2 * ow] += v;
          r0[2 * ow + 1] += v;
          r1[2 * ow] += v;
          r1[2 * ow + 1] += v;
        }
      }
    }
    return;
  }
  const std::vector<Range> taps = column_taps(g);
  std::vector<T> scaled(OW);
  for (std::size_t p = 0; p < g.planes; ++p) {
    for (std::size_t oh = 0; oh < g.out_h; ++oh) {
      const Range rows = window_rows(oh, g);
      const T* gr = gy + p * out_plane + oh * OW;
      for (std::size_t ow = 0; ow < OW; ++ow) scaled[ow] = gr[ow] * scale;
      for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
        T* __restrict xr = gx + p * in_plane + ih * W;
        for (std::size_t j = 0; j < g.kernel; ++j) {
          const Index offset = static_cast<Index>(j) - pad;
          for (std::size_t ow = taps[j].lo; ow < taps[j].hi; ++ow) xr[static_cast<Index>(ow) * s + offset] += scaled[ow];
        }
      }
    }
  }
}

template void max_pool_forward<float>(const float*, const PoolGeometry&, float*, std::int64_t*);
template void max_pool_forward<double>(const double*, const PoolGeometry&, double*, std::int64_t*);
template void max_pool_backward<float>(const float*, const std::int64_t*, const PoolGeometry&, float*);
template void max_pool_backward<double>(const double*, const std::int64_t*, const PoolGeometry&, double*);
template void max_pool_backward_2x2<float>(const float*, const float*, const PoolGeometry&, float*);
template void max_pool_backward_2x2<double>(const double*, const double*, const PoolGeometry&, double*);
template void avg_pool_forward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_forward<double>(const double*, const PoolGeometry&, double*);
template void avg_pool_backward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_backward<double>(const double*, const PoolGeometry&, double*);

}  // namespace tg::kernels
