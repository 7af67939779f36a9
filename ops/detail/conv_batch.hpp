// A convolution over a whole batch, by the faster of the two ways tapegrad has: oneDNN's
// primitives for the float plans they suit (dnnl_conv.hpp), im2col + GEMM image by image for the
// rest (conv_lowering.hpp). Include only from the library's .cpp files.
#pragma once

#include <type_traits>

#include "conv_lowering.hpp"
#include "dnnl_conv.hpp"

namespace tg::detail {

// Whether plan p goes through oneDNN in T, a whole batch at a time (else image by image).
template <class T>
bool convolves_by_batch(const ConvPlan& p) {
  if constexpr (std::is_same_v<T, float>) return dnnl_convolves(p);
  return false;
}

// y (N, O, OH, OW) = conv(x, w) + bias; bias (O values) may be null.
template <class T>
void convolve_batch(const ConvPlan& p, const T* x, const T* w, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (dnnl_convolves(p)) return dnnl_convolution_forward(p, x, w, bias, y);
  }
  const std::size_t stride = p.out_image();
  convolution_forward(
      p, x, w, bias, [y, stride](std::size_t n, T*) { return y + n * stride; }, [](std::size_t, T*) {});
}

// From the output gradient dy (N, O, OH, OW): dx, dw and db, each only when not null (overwritten).
// x is read only for dw, w only for dx.
template <class T>
void convolve_batch_backward(const ConvPlan& p, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  if constexpr (std::is_same_v<T, float>) {
    if (dnnl_convolves(p)) return dnnl_convolution_backward(p, x, w, dy, dx, dw, db);
  }
  const std::size_t stride = p.out_image();
  convolution_backward<T>(p, x, w, dx, dw, db, 0, [dy, stride](std::size_t n, T*) { return dy + n * stride; });
}

}  // namespace tg::detail
