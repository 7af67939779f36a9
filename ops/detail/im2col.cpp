#include "im2col.hpp"

#include <algorithm>
#include <cstddef>

namespace tg::detail {
namespace {

using Index = std::ptrdiff_t;

struct Range {
  std::size_t lo, hi;
};

// The outputs o in [lo, hi) (clamped to [0, count)) whose input position o*stride + offset lies in
// [0, size): every other output of that kernel tap reads padding.
Range valid_outputs(Index offset, std::size_t stride, std::size_t size, std::size_t count) {
  const Index s = static_cast<Index>(stride);
  const Index lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
  const Index end = static_cast<Index>(size) - offset;  // need o*s < end
  const Index hi = end <= 0 ? 0 : (end + s - 1) / s;
  const std::size_t h = std::min(static_cast<std::size_t>(hi), count);
  return {std::min(static_cast<std::size_t>(lo), h), h};
}

// Calls visit(col_row, x_row, offset, range) for every (channel, tap, output row) whose input row is
// in the image, and pad(col_row) for the others: output column ow of that row reads
// x_row[ow * stride + offset], inside the image exactly for ow in `range`.
template <class T, class ColT, class XT, class Visit, class Pad>
void for_each_row(XT* x, const ConvGeometry& g, ColT* col, Visit visit, Pad pad) {
  const std::size_t H = g.height, W = g.width, OH = g.out_h, OW = g.out_w, L = OH * OW;
  const Index p = static_cast<Index>(g.padding), d = static_cast<Index>(g.dilation), s = static_cast<Index>(g.stride);
  for (std::size_t c = 0; c < g.channels; ++c) {
    XT* xc = x + c * H * W;
    for (std::size_t i = 0; i < g.kernel_h; ++i) {
      const Index row_offset = static_cast<Index>(i) * d - p;
      const Range rows = valid_outputs(row_offset, g.stride, H, OH);
      for (std::size_t j = 0; j < g.kernel_w; ++j) {
        const Index col_offset = static_cast<Index>(j) * d - p;
        const Range cols = valid_outputs(col_offset, g.stride, W, OW);
        ColT* crow = col + ((c * g.kernel_h + i) * g.kernel_w + j) * L;
        for (std::size_t oh = 0; oh < OH; ++oh) {
          if (oh < rows.lo || oh >= rows.hi) {
            pad(crow + oh * OW);
            continue;
          }
          const Index ih = static_cast<Index>(oh) * s + row_offset;
          visit(crow + oh * OW, xc + static_cast<std::size_t>(ih) * W, col_offset, cols);
        }
      }
    }
  }
}

// Stride 1, no padding, no dilation (a 'valid' convolution, the usual 3x3 layer): each col row is
// out_h runs of out_w neighbouring inputs. The runs are short (11 to 26 values in the MNIST CNN),
// so plain loops the compiler vectorises beat a memmove call per run. (The transposed convolution's
// plans may keep fewer outputs than fit: those take the general loops.)
bool is_valid_unit_stride(const ConvGeometry& g) {
  return g.stride == 1 && g.padding == 0 && g.dilation == 1 && g.out_h + g.kernel_h == g.height + 1 &&
         g.out_w + g.kernel_w == g.width + 1;
}

// Calls run(col_row, x_first) for every col row: entry oh*out_w + ow of the row belongs to input
// x_first[oh*width + ow].
template <class ColT, class XT, class Run>
void for_each_valid_row(XT* x, const ConvGeometry& g, ColT* col, Run run) {
  const std::size_t L = g.out_h * g.out_w;
  for (std::size_t c = 0; c < g.channels; ++c) {
    for (std::size_t i = 0; i < g.kernel_h; ++i) {
      for (std::size_t j = 0; j < g.kernel_w; ++j) {
        run(col + ((c * g.kernel_h + i) * g.kernel_w + j) * L, x + (c * g.height + i) * g.width + j);
      }
    }
  }
}

}  // namespace

template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
  const std::size_t OW = g.out_w, s = g.stride;
  if (is_valid_unit_stride(g)) {
    const std::size_t OH = g.out_h, W = g.width;
    for_each_valid_row(x, g, col, [OH, OW, W](T* __restrict dst, const T* __restrict src) {
      for (std::size_t oh = 0; oh < OH; ++oh, dst += OW, src += W) {
#pragma omp simd
        for (std::size_t ow = 0; ow < OW; ++ow) dst[ow] = src[ow];
      }
    });
    return;
  }
  for_each_row<T>(
      x, g, col,
      [OW, s](T* dst, const T* src, Index offset, Range r) {
        std::fill(dst, dst + r.lo, T(0));
        if (r.lo < r.hi) {
          const T* first = src + (static_cast<Index>(r.lo * s) + offset);  // input of output column r.lo
          if (s == 1) {
            std::copy(first, first + (r.hi - r.lo), dst + r.lo);
          } else {
            for (std::size_t ow = r.lo; ow < r.hi; ++ow) dst[ow] = first[(ow - r.lo) * s];
          }
        }
        std::fill(dst + r.hi, dst + OW, T(0));
      },
      [OW](T* dst) { std::fill(dst, dst + OW, T(0)); });
}

template <class T>
void col2im(const T* col, const ConvGeometry& g, T* x) {
  const std::size_t s = g.stride;
  if (is_valid_unit_stride(g)) {
    const std::size_t OH = g.out_h, OW = g.out_w, W = g.width;
    for_each_valid_row(x, g, col, [OH, OW, W](const T* __restrict src, T* __restrict dst) {
      for (std::size_t oh = 0; oh < OH; ++oh, src += OW, dst += W) {
#pragma omp simd
        for (std::size_t ow = 0; ow < OW; ++ow) dst[ow] += src[ow];
      }
    });
    return;
  }
  for_each_row<T>(
      x, g, col,
      [s](const T* src, T* dst, Index offset, Range r) {
        if (r.lo >= r.hi) return;
        T* first = dst + (static_cast<Index>(r.lo * s) + offset);  // input of output column r.lo
        if (s == 1) {
          for (std::size_t ow = r.lo; ow < r.hi; ++ow) first[ow - r.lo] += src[ow];
        } else {
          for (std::size_t ow = r.lo; ow < r.hi; ++ow) first[(ow - r.lo) * s] += src[ow];
        }
      },
      [](const T*) {});
}

template void im2col<float>(const float*, const ConvGeometry&, float*);
template void im2col<double>(const double*, const ConvGeometry&, double*);
template void col2im<float>(const float*, const ConvGeometry&, float*);
template void col2im<double>(const double*, const ConvGeometry&, double*);

}  // namespace tg::detail
