#include "conv_block.hpp"

#include <cstdint>
#include <vector>

#include "../core/record_op.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "conv_lowering.hpp"
#include "pool.hpp"
#include "pool_kernels.hpp"

namespace tg {
namespace {

// The 2x2 stride-2 pooling of one image's (O, OH, OW) convolution output.
kernels::PoolGeometry pool_of(const detail::ConvPlan& p) {
  kernels::PoolGeometry g;
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
void relu_in_place(T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
}

}  // namespace

template <class T>
Variable<T> conv2d_relu_max_pool2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                                   std::size_t stride, std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", xv, w.value(), b, stride, padding, dilation, groups);
  // An output too small to pool: the three ops one by one report it as max_pool2d does.
  if (p.g.out_h < 2 || p.g.out_w < 2) return max_pool2d(relu(conv2d(x, w, b, stride, padding, dilation, groups)), 2);

  const kernels::PoolGeometry pg = pool_of(p);
  const std::size_t N = xv.shape()[0], pooled = p.O * pg.out_h * pg.out_w, conv_out = p.out_image();
  Tensor<T> y = Tensor<T>::from_shape({N, p.O, pg.out_h, pg.out_w});
  // For backward, per window: which tap won the pooling, and whether the ReLU let its gradient
  // through (not when the window's maximum is <= 0: relu's backward is `x <= 0 ? 0 : g`).
  const bool recorded = will_record<T>({x, w, b});
  std::vector<std::uint8_t> choice(recorded ? N * pooled : 0), passes(recorded ? N * pooled : 0);
  const T* bias = b.defined() ? b.value().data() : nullptr;
  const T* xp = xv.data();
  const T* wp = w.value().data();
  T* yp = y.data();
  const int nt = detail::conv_threads(N, p.O * p.taps() * p.positions());
#pragma omp parallel num_threads(nt)
  {
    const auto [lo, hi] = detail::image_block(N, omp_get_thread_num(), omp_get_num_threads());
    const auto work = detail::scratch<T>(lo < hi ? p.column_size() + conv_out : 0);
    T* col = work.get();
    T* activation = col + p.column_size();  // one image's convolution output, then its ReLU
    for (std::size_t n = lo; n < hi; ++n) {
      detail::conv_forward_image(p, xp + n * p.in_image(), wp, bias, col, activation);
      relu_in_place(activation, conv_out);
      T* yn = yp + n * pooled;
      kernels::max_pool_2x2_forward(activation, pg, yn, recorded ? choice.data() + n * pooled : nullptr);
      if (recorded) {
        for (std::size_t i = 0; i < pooled; ++i) passes[n * pooled + i] = !(yn[i] <= T(0));
      }
    }
  }
  if (!recorded) return record_op<T>("conv2d_relu_max_pool2d", std::move(y), {x, w, b}, nullptr);

  return record_op<T>(
      "conv2d_relu_max_pool2d", std::move(y), {x, w, b},
      [x, w, b, p, pg, choice = std::move(choice), passes = std::move(passes)](const Tensor<T>& gy) {
        const Tensor<T>& xv = x.value();
        const std::size_t N = xv.shape()[0], pooled = p.O * pg.out_h * pg.out_w, conv_out = p.out_image();
        const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.requires_grad();
        std::vector<Tensor<T>> grads(3);
        if (need_x) grads[0] = Tensor<T>::from_shape(xv.shape());
        if (need_w) grads[1] = xt::zeros<T>(w.value().shape());
        if (need_b) grads[2] = xt::zeros<T>({p.O});
        const T* xp = xv.data();
        const T* wp = w.value().data();
        const T* gp = gy.data();
        T* dxp = need_x ? grads[0].data() : nullptr;
        const int nt =
            detail::conv_threads(N, p.O * p.taps() * p.positions() * (std::size_t(need_x) + std::size_t(need_w)));
        // Per thread: the lowered image and its gradient, the window gradients after the ReLU, and
        // the gradient of one image's convolution output.
        const std::size_t col_size = p.column_size();
        detail::backward_over_images<T>(
            N, nt, need_w ? grads[1].data() : nullptr, need_w ? w.value().size() : 0,
            need_b ? grads[2].data() : nullptr, p.O, 2 * col_size + pooled + conv_out,
            [&](std::size_t n, T* dw, T* db, T* work) {
              T* through_relu = work + 2 * col_size;
              T* dconv = through_relu + pooled;
              const std::uint8_t* pass = passes.data() + n * pooled;
              const T* gn = gp + n * pooled;
              for (std::size_t i = 0; i < pooled; ++i) through_relu[i] = pass[i] ? gn[i] : T(0);
              kernels::max_pool_2x2_backward(choice.data() + n * pooled, through_relu, pg, dconv);
              detail::conv_backward_image(p, xp + n * p.in_image(), wp, dconv, work, work + col_size, dw, db,
                                          dxp ? dxp + n * p.in_image() : nullptr);
            });
        return grads;
      });
}

template Variable<float> conv2d_relu_max_pool2d(const Variable<float>&, const Variable<float>&,
                                                const Variable<float>&, std::size_t, std::size_t, std::size_t,
                                                std::size_t);
template Variable<double> conv2d_relu_max_pool2d(const Variable<double>&, const Variable<double>&,
                                                 const Variable<double>&, std::size_t, std::size_t, std::size_t,
                                                 std::size_t);

}  // namespace tg
