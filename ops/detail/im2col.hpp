// Lowering of a 2-D convolution to a matrix product: im2col and its adjoint col2im, on raw buffers.
#pragma once

#include <cstddef>

namespace tg::detail {

// One image's channel block and the convolution applied to it.
struct ConvGeometry {
  std::size_t channels = 0;           // channels lowered together (C / groups)
  std::size_t height = 0, width = 0;  // input plane
  std::size_t kernel_h = 0, kernel_w = 0;
  std::size_t stride = 1, padding = 0, dilation = 1;
  std::size_t out_h = 0, out_w = 0;

  std::size_t col_rows() const { return channels * kernel_h * kernel_w; }
  std::size_t col_cols() const { return out_h * out_w; }
};

// Writes col, a row-major (channels*kH*kW, out_h*out_w) matrix, from x (channels, height, width):
// col[(c*kH + i)*kW + j][oh*out_w + ow] = x[c][oh*s - p + i*d][ow*s - p + j*d], zero in the padding.
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col);

// The adjoint of im2col: adds each col entry onto the x element it was read from (entries that
// fell in the padding are dropped). x is accumulated into, not overwritten.
template <class T>
void col2im(const T* col, const ConvGeometry& g, T* x);

}  // namespace tg::detail
