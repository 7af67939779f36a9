#include "conv.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include "../core/detail/cpu.hpp"
#include "../core/detail/instantiate.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "detail/autograd.hpp"
#include "../core/detail/parallel.hpp"
#include "detail/conv_batch.hpp"
#include "detail/conv_grad.hpp"
#include "detail/pool_grad.hpp"
#include "detail/pool_kernels.hpp"
#include "pool.hpp"

namespace tg {
namespace {

using detail::Gradients;

// The 2x2 stride-2 pooling of `planes` (O, OH, OW) convolution output planes.
detail::PoolGeometry pool_of(const detail::ConvPlan& p, std::size_t planes) {
  detail::PoolGeometry g;
  g.planes = planes;
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

// Marks the windows whose maximum is <= 0 with choice 4: the ReLU passes them no gradient. The
// restrict pointers let the loop vectorise (a uint8_t store may otherwise alias anything).
template <class T>
TG_KERNEL_INLINE void mark_relu_cut_kernel(const T* __restrict pooled, std::size_t n, std::uint8_t* __restrict choice) {
  for (std::size_t i = 0; i < n; ++i) choice[i] = pooled[i] <= T(0) ? std::uint8_t(4) : choice[i];
}
TG_AVX512_CLONES void mark_relu_cut(const float* pooled, std::size_t n, std::uint8_t* choice) {
  mark_relu_cut_kernel(pooled, n, choice);
}
TG_AVX512_CLONES void mark_relu_cut(const double* pooled, std::size_t n, std::uint8_t* choice) {
  mark_relu_cut_kernel(pooled, n, choice);
}

// The first-order backward, image by image: each image's convolution output gradient is built in
// the thread's buffer from the window choices, never for the whole batch.
template <class T>
Gradients<T> fused_backward(const detail::ConvPlan& p, const detail::PoolGeometry& pg, const detail::MaxPoolIndex& m,
                            const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, const Variable<T>& gy) {
  const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.defined() && b.requires_grad();
  Tensor<T> dx, dw, db;
  if (need_x) dx = Tensor<T>::from_shape(p.input_shape());
  if (need_w) dw = Tensor<T>::from_shape(p.weight_shape());
  if (need_b) db = Tensor<T>::from_shape({p.O});
  const std::size_t pooled = p.O * pg.out_h * pg.out_w;
  const T* gp = gy.value().data();
  const std::uint8_t* choice = m.choice.data();
  const auto conv_grad_of = [&](std::size_t n, T* dconv) {
    detail::max_pool_2x2_backward(choice + n * pooled, gp + n * pooled, pg, dconv);
  };
  T* dxp = need_x ? dx.data() : nullptr;
  T* dwp = need_w ? dw.data() : nullptr;
  T* dbp = need_b ? db.data() : nullptr;
  if (detail::convolves_by_batch<T>(p)) {
    // The whole batch's convolution output gradient first, for a convolution that takes it at once.
    const auto dconv = detail::scratch<T>(p.N * p.out_image());
    detail::parallel_blocks(p.N, p.out_image(), [&](std::size_t lo, std::size_t hi) {
      for (std::size_t n = lo; n < hi; ++n) conv_grad_of(n, dconv.get() + n * p.out_image());
    });
    detail::convolve_batch_backward<T>(p, x.value().data(), w.value().data(), dconv.get(), dxp, dwp, dbp);
  } else {
    detail::convolution_backward<T>(p, x.value().data(), w.value().data(), dxp, dwp, dbp, p.out_image(),
                                    [&](std::size_t n, T* dconv) {
                                      conv_grad_of(n, dconv);
                                      return static_cast<const T*>(dconv);
                                    });
  }
  Gradients<T> grads(3);
  if (need_x) grads[0] = Variable<T>(std::move(dx));
  if (need_w) grads[1] = Variable<T>(std::move(dw));
  if (need_b) grads[2] = Variable<T>(std::move(db));
  return grads;
}

}  // namespace

template <class T>
Variable<T> conv2d_relu_max_pool2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                                   std::size_t stride, std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", xv, w.value(), b, stride, padding, dilation, groups);
  // An output too small to pool: the three ops one by one report it as max_pool2d does.
  if (p.g.out_h < 2 || p.g.out_w < 2) return max_pool2d(relu(conv2d(x, w, b, stride, padding, dilation, groups)), 2);

  const detail::PoolGeometry pg = pool_of(p, p.O);  // one image's
  const std::size_t N = p.N, pooled = p.O * pg.out_h * pg.out_w, conv_out = p.out_image();
  Tensor<T> y = Tensor<T>::from_shape({N, p.O, pg.out_h, pg.out_w});
  // For backward, per window: the tap that won the pooling, or 4 where the ReLU stops the gradient
  // (the window's maximum is <= 0: relu's backward is `x <= 0 ? 0 : g`).
  std::shared_ptr<detail::MaxPoolIndex> m;
  if (will_record<T>({x, w, b})) {
    m = std::make_shared<detail::MaxPoolIndex>();
    m->g = pool_of(p, N * p.O);
    m->in_shape = p.output_shape();
    m->out_shape = shape_of(y);
    m->two_by_two = true;
    m->choice.resize(N * pooled);
  }
  std::uint8_t* choice = m ? m->choice.data() : nullptr;
  T* yp = y.data();
  const auto relu_pool = [&](std::size_t n, T* activation) {
    relu_in_place(activation, conv_out);
    T* yn = yp + n * pooled;
    std::uint8_t* cn = choice ? choice + n * pooled : nullptr;
    detail::max_pool_2x2_forward(activation, pg, yn, cn);
    if (cn) mark_relu_cut(yn, pooled, cn);
  };
  const T* bias = b.defined() ? b.value().data() : nullptr;
  if (detail::convolves_by_batch<T>(p)) {
    const auto activation = detail::scratch<T>(N * conv_out);
    detail::convolve_batch(p, xv.data(), w.value().data(), bias, activation.get());
    detail::parallel_blocks(N, conv_out, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t n = lo; n < hi; ++n) relu_pool(n, activation.get() + n * conv_out);
    });
  } else {
    // Each image's convolution output stays in the thread's spare buffer: ReLU there, then pool.
    detail::convolution_forward(
        p, xv.data(), w.value().data(), bias, [](std::size_t, T* spare) { return spare; }, relu_pool);
  }
  if (!m) return detail::record<T>("conv2d_relu_max_pool2d", std::move(y), {x, w, b}, detail::saves_nothing(), nullptr);

  return detail::record<T>("conv2d_relu_max_pool2d", std::move(y), {x, w, b}, detail::saves_inputs({0, 1}),
                           [x, w, b, p, pg, m = std::shared_ptr<const detail::MaxPoolIndex>(std::move(m))](
                               Variable<T> gy, const Variable<T>&) {
                             if (!will_record<T>({gy, x, w, b})) return fused_backward(p, pg, *m, x, w, b, gy);
                             // create_graph: the same gradients as recorded ops (the ReLU's cut is in the choices), so
                             // they can be differentiated again: the pooling's scatter, then the convolution's
                             // gradients.
                             return detail::conv2d_gradients(p, x, w, b, detail::max_pool_scatter(gy, m));
                           });
}

#define TG_FUNCTIONS(T)                                                                                                \
  template Variable<T> conv2d_relu_max_pool2d(const Variable<T>&, const Variable<T>&, const Variable<T>&, std::size_t, \
                                              std::size_t, std::size_t, std::size_t);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
