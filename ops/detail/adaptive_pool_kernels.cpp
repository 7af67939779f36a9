#include "adaptive_pool_kernels.hpp"

#include <algorithm>

#include "../../core/detail/parallel.hpp"

namespace tg::detail {
namespace {

struct Window {
  std::size_t lo, hi;
};

// floor(i·size/out) and ceil((i+1)·size/out).
Window window(std::size_t i, std::size_t size, std::size_t out) {
  return {i * size / out, ((i + 1) * size + out - 1) / out};
}

}  // namespace

template <class T>
void adaptive_avg_pool_forward(const T* x, const AdaptiveGeometry& g, T* y) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  parallel_blocks(g.planes, in_plane + out_plane, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      const T* xp = x + p * in_plane;
      for (std::size_t oh = 0; oh < g.out_h; ++oh) {
        const Window rows = window(oh, g.height, g.out_h);
        for (std::size_t ow = 0; ow < g.out_w; ++ow) {
          const Window cols = window(ow, g.width, g.out_w);
          T sum = 0;
          for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
            for (std::size_t iw = cols.lo; iw < cols.hi; ++iw) sum += xp[ih * g.width + iw];
          }
          y[p * out_plane + oh * g.out_w + ow] = sum / static_cast<T>((rows.hi - rows.lo) * (cols.hi - cols.lo));
        }
      }
    }
  });
}

template <class T>
void adaptive_avg_pool_backward(const T* gy, const AdaptiveGeometry& g, T* gx) {
  const std::size_t in_plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  parallel_blocks(g.planes, in_plane + out_plane, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t p = lo; p < hi; ++p) {
      T* xp = gx + p * in_plane;
      std::fill(xp, xp + in_plane, T(0));
      for (std::size_t oh = 0; oh < g.out_h; ++oh) {
        const Window rows = window(oh, g.height, g.out_h);
        for (std::size_t ow = 0; ow < g.out_w; ++ow) {
          const Window cols = window(ow, g.width, g.out_w);
          const T share =
              gy[p * out_plane + oh * g.out_w + ow] / static_cast<T>((rows.hi - rows.lo) * (cols.hi - cols.lo));
          for (std::size_t ih = rows.lo; ih < rows.hi; ++ih) {
            for (std::size_t iw = cols.lo; iw < cols.hi; ++iw) xp[ih * g.width + iw] += share;
          }
        }
      }
    }
  });
}

template void adaptive_avg_pool_forward<float>(const float*, const AdaptiveGeometry&, float*);
template void adaptive_avg_pool_forward<double>(const double*, const AdaptiveGeometry&, double*);
template void adaptive_avg_pool_backward<float>(const float*, const AdaptiveGeometry&, float*);
template void adaptive_avg_pool_backward<double>(const double*, const AdaptiveGeometry&, double*);

}  // namespace tg::detail
