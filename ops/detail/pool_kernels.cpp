#include "pool_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "../../core/detail/cpu.hpp"
#include "../../core/detail/parallel.hpp"
#include "pool_2x2_avx512.hpp"
#include "pool_2x2_rows.hpp"

namespace tg::detail {
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

// For each kernel column j that reaches the image, the output columns whose tap j lands inside
// it: ow in [lo, hi) reads input column ow * stride + j - padding; outside that range the tap
// reads padding. Only columns first .. first + ranges.size() can reach the image (at most about
// twice its width), so a huge kernel costs no more than the image.
struct ColumnTaps {
  std::size_t first = 0;
  std::vector<Range> ranges;  // ranges[j - first]
  std::size_t end() const { return first + ranges.size(); }
  const Range& operator[](std::size_t j) const { return ranges[j - first]; }
};

ColumnTaps column_taps(const PoolGeometry& g) {
  ColumnTaps taps;
  const std::size_t last_start = (g.out_w - 1) * g.stride;  // the last window's first column, padded
  taps.first = g.padding > last_start ? g.padding - last_start : 0;
  const std::size_t end = std::min(g.kernel, g.padding + g.width);
  const Index s = static_cast<Index>(g.stride);
  for (std::size_t j = taps.first; j < end; ++j) {
    const Index offset = static_cast<Index>(j) - static_cast<Index>(g.padding);
    const Index lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
    const Index stop = static_cast<Index>(g.width) - offset;
    const std::size_t hi = std::min(stop <= 0 ? 0 : static_cast<std::size_t>((stop + s - 1) / s), g.out_w);
    taps.ranges.push_back({std::min(static_cast<std::size_t>(lo), hi), hi});
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
void max_pool_plane(const T* __restrict x, const PoolGeometry& g, const ColumnTaps& taps, T* __restrict y,
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
      for (std::size_t j = taps.first; j < taps.end(); ++j) {
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

// The tap that wins a window: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right.
inline std::uint8_t winner(bool t1, bool t2, bool t3) { return t3 ? 3 : t2 ? 2 : t1 ? 1 : 0; }

// 1 / kernel²: each tap's share of its window's average (padding counts as taps).
template <class T>
T tap_weight(const PoolGeometry& g) {
  return T(1) / static_cast<T>(g.kernel * g.kernel);
}

// Calls visit(ow, i) for each output column ow of row oh of plane p and each input i (flat index)
// its window covers, padding left out: average pooling's sum and its gradient's scatter.
template <class Visit>
void for_each_window_input(const PoolGeometry& g, const ColumnTaps& taps, std::size_t p, std::size_t oh, Visit visit) {
  const Index s = static_cast<Index>(g.stride), pad = static_cast<Index>(g.padding);
  const Range rows = window_rows(oh, g);
  for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
    const std::size_t row_start = (p * g.height + ih) * g.width;
    for (std::size_t j = taps.first; j < taps.end(); ++j) {
      const Index offset = static_cast<Index>(j) - pad;
      for (std::size_t ow = taps[j].lo; ow < taps[j].hi; ++ow) {
        visit(ow, row_start + static_cast<std::size_t>(static_cast<Index>(ow) * s + offset));
      }
    }
  }
}

}  // namespace

template <class T>
void max_pool_forward(const T* x, const PoolGeometry& g, T* y, std::int64_t* argmax) {
  if (!argmax && g.is_2x2()) return max_pool_2x2_forward(x, g, y, nullptr);
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  const ColumnTaps taps = column_taps(g);
  parallel_blocks(g.planes, in_plane, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      if (argmax) {
        max_pool_plane<T, true>(x + p * in_plane, g, taps, y + p * out_plane, argmax + p * out_plane);
      } else {
        max_pool_plane<T, false>(x + p * in_plane, g, taps, y + p * out_plane, nullptr);
      }
    }
  });
}

template <class T>
void max_pool_2x2_forward(const T* x, const PoolGeometry& g, T* y, std::uint8_t* choice) {
#if TG_POOL_2X2_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx512()) return max_pool_2x2_forward_avx512(x, g, y, choice);
  }
#endif
  const std::size_t W = g.width, OW = g.out_w;
  parallel_for_each_2x2_row(g, g.height * W, [x, y, choice, W, OW](std::size_t in, std::size_t o) {
    const T* r0 = x + in;
    const T* r1 = r0 + W;
    for (std::size_t ow = 0; ow < OW; ++ow) {
      bool t1, t2, t3;
      y[o + ow] = select_2x2(r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1], t1, t2, t3);
      if (choice) choice[o + ow] = winner(t1, t2, t3);
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
void max_pool_2x2_backward(const std::uint8_t* choice, const T* gy, const PoolGeometry& g, T* gx) {
#if TG_POOL_2X2_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (has_avx512()) return max_pool_2x2_backward_avx512(choice, gy, g, gx);
  }
#endif
  const std::size_t W = g.width, OW = g.out_w;
  parallel_for_each_2x2_gradient_row(g, gx, [choice, gy, gx, W, OW](std::size_t in, std::size_t o) {
    T* r0 = gx + in;
    T* r1 = r0 + W;
    for (std::size_t ow = 0; ow < OW; ++ow) {
      const std::uint8_t c = choice[o + ow];
      const T gv = gy[o + ow];
      r0[2 * ow] = c == 0 ? gv : T(0);
      r0[2 * ow + 1] = c == 1 ? gv : T(0);
      r1[2 * ow] = c == 2 ? gv : T(0);
      r1[2 * ow + 1] = c == 3 ? gv : T(0);
    }
  });
}

template <class T>
void max_pool_gather(const T* u, const std::int64_t* argmax, const PoolGeometry& g, T* out) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  parallel_blocks(g.planes, out_plane, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const T* up = u + p * in_plane;
      for (std::size_t j = p * out_plane; j < (p + 1) * out_plane; ++j) out[j] = up[argmax[j]];
    }
  });
}

template <class T>
void max_pool_2x2_gather(const std::uint8_t* choice, const T* u, const PoolGeometry& g, T* out) {
  const std::size_t W = g.width, OW = g.out_w;
  parallel_for_each_2x2_row(g, g.out_h * OW, [choice, u, out, W, OW](std::size_t in, std::size_t o) {
    const T* r0 = u + in;
    for (std::size_t ow = 0; ow < OW; ++ow) {
      const std::uint8_t c = choice[o + ow];
      out[o + ow] = c < 4 ? r0[(c >> 1) * W + 2 * ow + (c & 1)] : T(0);
    }
  });
}

template <class T>
void avg_pool_forward(const T* x, const PoolGeometry& g, T* y) {
  const std::size_t W = g.width, OW = g.out_w;
  const T scale = tap_weight<T>(g);
  if (g.is_2x2()) {  // the common case, as straight-line code
    for_each_2x2_row(g, 0, g.planes, [x, y, W, OW, scale](std::size_t in, std::size_t out) {
      const T* __restrict r0 = x + in;
      const T* __restrict r1 = r0 + W;
      T* __restrict yr = y + out;
      for (std::size_t ow = 0; ow < OW; ++ow) {
        yr[ow] = (r0[2 * ow] + r0[2 * ow + 1] + r1[2 * ow] + r1[2 * ow + 1]) * scale;
      }
    });
    return;
  }
  const ColumnTaps taps = column_taps(g);
  for (std::size_t p = 0; p < g.planes; ++p) {
    for (std::size_t oh = 0; oh < g.out_h; ++oh) {
      T* yr = y + (p * g.out_h + oh) * OW;
      std::fill(yr, yr + OW, T(0));
      for_each_window_input(g, taps, p, oh, [x, yr](std::size_t ow, std::size_t i) { yr[ow] += x[i]; });
      for (std::size_t ow = 0; ow < OW; ++ow) yr[ow] *= scale;
    }
  }
}

template <class T>
void avg_pool_backward(const T* gy, const PoolGeometry& g, T* gx) {
  const std::size_t W = g.width, OW = g.out_w;
  const T scale = tap_weight<T>(g);
  if (g.is_2x2()) {  // the common case, as straight-line code
    for_each_2x2_row(g, 0, g.planes, [gy, gx, W, OW, scale](std::size_t in, std::size_t out) {
      T* __restrict r0 = gx + in;
      T* __restrict r1 = r0 + W;
      const T* __restrict gr = gy + out;
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const T v = gr[ow] * scale;
        r0[2 * ow] += v;
        r0[2 * ow + 1] += v;
        r1[2 * ow] += v;
        r1[2 * ow + 1] += v;
      }
    });
    return;
  }
  const ColumnTaps taps = column_taps(g);
  std::vector<T> scaled(OW);
  for (std::size_t p = 0; p < g.planes; ++p) {
    for (std::size_t oh = 0; oh < g.out_h; ++oh) {
      const T* gr = gy + (p * g.out_h + oh) * OW;
      for (std::size_t ow = 0; ow < OW; ++ow) scaled[ow] = gr[ow] * scale;
      for_each_window_input(g, taps, p, oh, [gx, &scaled](std::size_t ow, std::size_t i) { gx[i] += scaled[ow]; });
    }
  }
}

template void max_pool_forward<float>(const float*, const PoolGeometry&, float*, std::int64_t*);
template void max_pool_forward<double>(const double*, const PoolGeometry&, double*, std::int64_t*);
template void max_pool_backward<float>(const float*, const std::int64_t*, const PoolGeometry&, float*);
template void max_pool_backward<double>(const double*, const std::int64_t*, const PoolGeometry&, double*);
template void max_pool_2x2_forward<float>(const float*, const PoolGeometry&, float*, std::uint8_t*);
template void max_pool_2x2_forward<double>(const double*, const PoolGeometry&, double*, std::uint8_t*);
template void max_pool_2x2_backward<float>(const std::uint8_t*, const float*, const PoolGeometry&, float*);
template void max_pool_2x2_backward<double>(const std::uint8_t*, const double*, const PoolGeometry&, double*);
template void max_pool_gather<float>(const float*, const std::int64_t*, const PoolGeometry&, float*);
template void max_pool_gather<double>(const double*, const std::int64_t*, const PoolGeometry&, double*);
template void max_pool_2x2_gather<float>(const std::uint8_t*, const float*, const PoolGeometry&, float*);
template void max_pool_2x2_gather<double>(const std::uint8_t*, const double*, const PoolGeometry&, double*);
template void avg_pool_forward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_forward<double>(const double*, const PoolGeometry&, double*);
template void avg_pool_backward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_backward<double>(const double*, const PoolGeometry&, double*);

}  // namespace tg::detail
