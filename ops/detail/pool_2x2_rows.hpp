// The walk over the output rows of 2x2 pooling (PoolGeometry::is_2x2) that its kernels share, the
// portable ones and the AVX-512 ones alike. Include only from .cpp files compiled with OpenMP.
#pragma once

#include <cstddef>

#include "../../core/detail/cpu.hpp"
#include "../../core/detail/parallel.hpp"
#include "pool_kernels.hpp"

namespace tg::detail {

// Calls row(in, out) for every output row of planes [first, last): `in` is the flat index of the
// top-left input of the row's first window (two input rows per output row), `out` that of the
// row's first output. The loop along the row is the caller's; inlined, so that it is compiled as if
// written out in each kernel.
template <class Row>
TG_KERNEL_INLINE void for_each_2x2_row(const PoolGeometry& g, std::size_t first, std::size_t last, Row row) {
  const std::size_t W = g.width, in_plane = g.height * W, OH = g.out_h, OW = g.out_w, out_plane = OH * OW;
  for (std::size_t p = first; p < last; ++p) {
    for (std::size_t oh = 0; oh < OH; ++oh) row(p * in_plane + 2 * oh * W, p * out_plane + oh * OW);
  }
}

// The same over all planes, split over the threads by parallel_blocks (a plane weighing
// elements_per_plane).
template <class Row>
TG_KERNEL_INLINE void parallel_for_each_2x2_row(const PoolGeometry& g, std::size_t elements_per_plane, Row&& row) {
  parallel_blocks(g.planes, elements_per_plane,
                  [&](std::size_t lo, std::size_t hi) { for_each_2x2_row(g, lo, hi, row); });
}

// The same for a gradient gx shaped like the input, which row(in, out) writes where the row's
// windows cover it: this walk zeroes what no window covers (an odd last column, an odd last row),
// each thread in its own planes.
template <class T, class Row>
TG_KERNEL_INLINE void parallel_for_each_2x2_gradient_row(const PoolGeometry& g, T* gx, Row&& row) {
  const std::size_t W = g.width, in_plane = g.height * W, covered = 2 * g.out_h * W;
  const bool odd_width = W > 2 * g.out_w;
  parallel_blocks(g.planes, in_plane, [&](std::size_t lo, std::size_t hi) {
    for_each_2x2_row(g, lo, hi, [&](std::size_t in, std::size_t out) {
      row(in, out);
      if (odd_width) gx[in + W - 1] = gx[in + 2 * W - 1] = T(0);
    });
    for (std::size_t p = lo; p < hi; ++p) {
      for (std::size_t i = p * in_plane + covered; i < (p + 1) * in_plane; ++i) gx[i] = T(0);
    }
  });
}

}  // namespace tg::detail
