// Adaptive average pooling loops over raw buffers: every plane pooled to out_h x out_w on its own.
#pragma once

#include <cstddef>

namespace tg::detail {

// Output row i averages input rows [floor(i·height/out_h), ceil((i+1)·height/out_h)), as PyTorch's
// adaptive_avg_pool2d (windows overlap when out_h does not divide height); columns likewise.
// The caller has checked that out_h·height and out_w·width do not overflow.
struct AdaptiveGeometry {
  std::size_t planes = 0;
  std::size_t height = 0, width = 0;
  std::size_t out_h = 0, out_w = 0;
};

template <class T>
void adaptive_avg_pool_forward(const T* x, const AdaptiveGeometry& g, T* y);

// Its adjoint: gx (written whole) = each gy spread evenly over its window, overlaps adding up.
template <class T>
void adaptive_avg_pool_backward(const T* gy, const AdaptiveGeometry& g, T* gx);

}  // namespace tg::detail
