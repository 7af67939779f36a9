// Pooling loops over raw buffers: every (N, C) plane pooled on its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tg::detail {

struct PoolGeometry {
  std::size_t planes = 0;             // N * C
  std::size_t height = 0, width = 0;  // input plane
  std::size_t kernel = 1, stride = 1, padding = 0;
  std::size_t out_h = 0, out_w = 0;

  // Kernel 2, stride 2, no padding: the usual CNN pooling, which has kernels of its own.
  bool is_2x2() const { return kernel == 2 && stride == 2 && padding == 0; }
};

// y[plane][oh][ow] = max over the window; argmax (when not null) gets the flat index, within the
// input plane, of the first maximum in row-major window order (a NaN wins, as in PyTorch).
template <class T>
void max_pool_forward(const T* x, const PoolGeometry& g, T* y, std::int64_t* argmax);

// gx (zeroed by the caller) += gy routed to each window's argmax.
template <class T>
void max_pool_backward(const T* gy, const std::int64_t* argmax, const PoolGeometry& g, T* gx);

// 2x2 windows with stride 2 and no padding, the usual CNN pooling: y = the window maxima and, when
// `choice` is not null, one byte per window naming the tap that won under PyTorch's rule (0
// top-left, 1 top-right, 2 bottom-left, 3 bottom-right: the first maximum, or the last NaN).
template <class T>
void max_pool_2x2_forward(const T* x, const PoolGeometry& g, T* y, std::uint8_t* choice);

// Its gradient: gy goes to each window's chosen tap and 0 to the others. Writes every element of
// gx, including an odd last row or column (0). Reads a byte per window instead of the input. A
// choice of 4 names no tap: the window's gradient is dropped (the fused op's ReLU cut it off).
template <class T>
void max_pool_2x2_backward(const std::uint8_t* choice, const T* gy, const PoolGeometry& g, T* gx);

// The adjoints of the two backwards above (the derivatives of max pooling's gradient): out (one
// value per window) = u at the window's maximum; 0 where the choice is 4.
template <class T>
void max_pool_gather(const T* u, const std::int64_t* argmax, const PoolGeometry& g, T* out);
template <class T>
void max_pool_2x2_gather(const std::uint8_t* choice, const T* u, const PoolGeometry& g, T* out);

// y = window sum / kernel², padding counting as zeros (PyTorch's count_include_pad=True).
template <class T>
void avg_pool_forward(const T* x, const PoolGeometry& g, T* y);

// gx (zeroed by the caller) += gy / kernel² over each window's elements inside the image.
template <class T>
void avg_pool_backward(const T* gy, const PoolGeometry& g, T* gx);

}  // namespace tg::detail
