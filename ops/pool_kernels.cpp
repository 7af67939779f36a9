#include "pool_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tg::kernels {
namespace {

// The input rows (or columns) [lo, hi) that output position o's window covers inside the image.
struct Window {
  std::size_t lo, hi;
};

Window window(std::size_t o, std::size_t stride, std::size_t padding, std::size_t kernel, std::size_t size) {
  const std::size_t start = o * stride;  // in padded coordinates
  const std::size_t lo = start > padding ? start - padding : 0;
  const std::size_t hi = std::min(start + kernel > padding ? start + kernel - padding : 0, size);
  return {std::min(lo, hi), hi};
}

// Calls f(out_index, rows, cols) for every output position of every plane, with the offsets of
// that plane's input (plane * H * W) and output (plane * OH * OW) applied by the callers.
template <class F>
void for_each_window(const PoolGeometry& g, F f) {
  for (std::size_t oh = 0; oh < g.out_h; ++oh) {
    const Window rows = window(oh, g.stride, g.padding, g.kernel, g.height);
    for (std::size_t ow = 0; ow < g.out_w; ++ow) {
      f(oh * g.out_w + ow, rows, window(ow, g.stride, g.padding, g.kernel, g.width));
    }
  }
}

}  // namespace

template <class T>
void max_pool_forward(const T* x, const PoolGeometry& g, T* y, std::int64_t* argmax) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w, W = g.width;
  for (std::size_t p = 0; p < g.planes; ++p) {
    const T* xp = x + p * in_plane;
    T* yp = y + p * out_plane;
    std::int64_t* ap = argmax ? argmax + p * out_plane : nullptr;
    for_each_window(g, [&](std::size_t out, Window rows, Window cols) {
      T best = -std::numeric_limits<T>::infinity();
      std::size_t best_index = rows.lo * W + cols.lo;
      for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
        for (std::size_t iw = cols.lo; iw < cols.hi; ++iw) {
          const T v = xp[ih * W + iw];
          if (v > best || std::isnan(v)) {
            best = v;
            best_index = ih * W + iw;
          }
        }
      }
      yp[out] = best;
      if (ap) ap[out] = static_cast<std::int64_t>(best_index);
    });
  }
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
void avg_pool_forward(const T* x, const PoolGeometry& g, T* y) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w, W = g.width;
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  for (std::size_t p = 0; p < g.planes; ++p) {
    const T* xp = x + p * in_plane;
    T* yp = y + p * out_plane;
    for_each_window(g, [&](std::size_t out, Window rows, Window cols) {
      T sum = T(0);
      for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
        for (std::size_t iw = cols.lo; iw < cols.hi; ++iw) sum += xp[ih * W + iw];
      }
      yp[out] = sum * scale;
    });
  }
}

template <class T>
void avg_pool_backward(const T* gy, const PoolGeometry& g, T* gx) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w, W = g.width;
  const T scale = T(1) / static_cast<T>(g.kernel * g.kernel);
  for (std::size_t p = 0; p < g.planes; ++p) {
    const T* gp = gy + p * out_plane;
    T* xp = gx + p * in_plane;
    for_each_window(g, [&](std::size_t out, Window rows, Window cols) {
      const T v = gp[out] * scale;
      for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
        for (std::size_t iw = cols.lo; iw < cols.hi; ++iw) xp[ih * W + iw] += v;
      }
    });
  }
}

template void max_pool_forward<float>(const float*, const PoolGeometry&, float*, std::int64_t*);
template void max_pool_forward<double>(const double*, const PoolGeometry&, double*, std::int64_t*);
template void max_pool_backward<float>(const float*, const std::int64_t*, const PoolGeometry&, float*);
template void max_pool_backward<double>(const double*, const std::int64_t*, const PoolGeometry&, double*);
template void avg_pool_forward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_forward<double>(const double*, const PoolGeometry&, double*);
template void avg_pool_backward<float>(const float*, const PoolGeometry&, float*);
template void avg_pool_backward<double>(const double*, const PoolGeometry&, double*);

}  // namespace tg::kernels
