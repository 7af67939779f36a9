#include "conv_relu_pool.hpp"

#include <cstdint>
#include <vector>

#include "../core/detail/cpu.hpp"
#include "../core/record_op.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "detail/conv_lowering.hpp"
#include "pool.hpp"
#include "detail/pool_kernels.hpp"

namespace tg {
namespace {

// The 2x2 stride-2 pooling of one image's (O, OH, OW) convolution output.
detail::PoolGeometry pool_of(const detail::ConvPlan& p) {
  detail::PoolGeometry g;
  g.planes = p.O;
  g.height = p.g.out_h;
  g.width = p.g.out_w;
  g.kernel = 2;
  g.stride = 2;
  g.out_h = p.g.out_h / 2;
  g.out_w = p.g.out_w / 2;
  return g;
}

// relu in place, as tg::relu computes it (`x < 0 ? 0 : x` lets NaN through).
template <class T>
TG_KERNEL_INLINE void relu_in_place_kernel(T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
}
TG_AVX512_CLONES void relu_in_place(float* y, std::size_t n) { relu_in_place_kernel(y, n); }
TG_AVX512_CLONES void relu_in_place(double* y, std::size_t n) { relu_in_place_kernel(y, n); }

// pass[i] = whether relu's backward lets window i's gradient through (not where the pooled
// maximum y[i] is <= 0).
template <class T>
TG_KERNEL_INLINE void relu_passes_kernel(const T* y, std::size_t n, std::uint8_t* pass) {
  for (std::size_t i = 0; i < n; ++i) pass[i] = !(y[i] <= T(0));
}
TG_AVX512_CLONES void relu_passes(const float* y, std::size_t n, std::uint8_t* pass) { relu_passes_kernel(y, n, pass); }
TG_AVX512_CLONES void relu_passes(const double* y, std::size_t n, std::uint8_t* pass) { relu_passes_kernel(y, n, pass); }

// out[i] = g[i] where pass[i], else 0.
template <class T>
TG_KERNEL_INLINE void masked_copy_kernel(const T* g, const std::uint8_t* pass, std::size_t n, T* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = pass[i] ? g[i] : T(0);
}
TG_AVX512_CLONES void masked_copy(const float* g, const std::uint8_t* pass, std::size_t n, float* out) {
  masked_copy_kernel(g, pass, n, out);
}
TG_AVX512_CLONES void masked_copy(const double* g, const std::uint8_t* pass, std::size_t n, double* out) {
  masked_copy_kernel(g, pass, n, out);
}

}  // namespace

template <class T>
Variable<T> conv2d_relu_max_pool2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                                   std::size_t stride, std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", xv, w.value(), b, stride, padding, dilation, groups);
  // An output too small to pool: the three ops one by one report it as max_pool2d does.
  if (p.g.out_h < 2 || p.g.out_w < 2) return max_pool2d(relu(conv2d(x, w, b, stride, padding, dilation, groups)), 2);

  const detail::PoolGeometry pg = pool_of(p);
  const std::size_t N = xv.shape()[0], pooled = p.O * pg.out_h * pg.out_w, conv_out = p.out_image();
  Tensor<T> y = Tensor<T>::from_shape({N, p.O, pg.out_h, pg.out_w});
  // For backward, per window: which tap won the pooling, and whether the ReLU let its gradient
  // through (not when the window's maximum is <= 0: relu's backward is `x <= 0 ? 0 : g`).
  const bool recorded = will_record<T>({x, w, b});
  std::vector<std::uint8_t> choice(recorded ? N * pooled : 0), passes(recorded ? N * pooled : 0);
  T* yp = y.data();
  // Each image's convolution output stays in the thread's spare buffer: ReLU there, then pool.
  detail::convolution_forward(
      p, x, w, b, [](std::size_t, T* spare) { return spare; },
      [&](std::size_t n, T* activation) {
        relu_in_place(activation, conv_out);
        T* yn = yp + n * pooled;
        detail::max_pool_2x2_forward(activation, pg, yn, recorded ? choice.data() + n * pooled : nullptr);
        if (recorded) relu_passes(yn, pooled, passes.data() + n * pooled);
      });
  if (!recorded) return record_op<T>("conv2d_relu_max_pool2d", std::move(y), {x, w, b}, nullptr);

  return record_op<T>(
      "conv2d_relu_max_pool2d", std::move(y), {x, w, b},
      [x, w, b, p, pg, choice = std::move(choice), passes = std::move(passes)](const Tensor<T>& gy) {
        const std::size_t pooled = p.O * pg.out_h * pg.out_w;
        const T* gp = gy.data();
        // Per image: the window gradients after the ReLU, then the convolution output's gradient.
        return detail::convolution_backward(p, x, w, b, pooled + p.out_image(), [&](std::size_t n, T* work) {
          T* through_relu = work;
          T* dconv = work + pooled;
          masked_copy(gp + n * pooled, passes.data() + n * pooled, pooled, through_relu);
          detail::max_pool_2x2_backward(choice.data() + n * pooled, through_relu, pg, dconv);
          return static_cast<const T*>(dconv);
        });
      });
}

template Variable<float> conv2d_relu_max_pool2d(const Variable<float>&, const Variable<float>&,
                                                const Variable<float>&, std::size_t, std::size_t, std::size_t,
                                                std::size_t);
template Variable<double> conv2d_relu_max_pool2d(const Variable<double>&, const Variable<double>&,
                                                 const Variable<double>&, std::size_t, std::size_t, std::size_t,
                                                 std::size_t);

}  // namespace tg
