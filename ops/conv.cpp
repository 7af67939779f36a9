#include "conv.hpp"

#include "../core/record_op.hpp"
#include "conv_lowering.hpp"

namespace tg {

template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", xv, w.value(), b, stride, padding, dilation, groups);
  const std::size_t N = xv.shape()[0];
  Tensor<T> y = Tensor<T>::from_shape({N, p.O, p.g.out_h, p.g.out_w});
  const T* bias = b.defined() ? b.value().data() : nullptr;
  const T* xp = xv.data();
  const T* wp = w.value().data();
  T* yp = y.data();
  const int nt = detail::conv_threads(N, p.O * p.taps() * p.positions());
#pragma omp parallel num_threads(nt)
  {
    const auto [lo, hi] = detail::image_block(N, omp_get_thread_num(), omp_get_num_threads());
    const auto col = detail::scratch<T>(lo < hi ? p.column_size() : 0);
    for (std::size_t n = lo; n < hi; ++n) {
      detail::conv_forward_image(p, xp + n * p.in_image(), wp, bias, col.get(), yp + n * p.out_image());
    }
  }

  return record_op<T>("conv2d", std::move(y), {x, w, b}, [x, w, b, p](const Tensor<T>& gy) {
    const Tensor<T>& xv = x.value();
    const std::size_t N = xv.shape()[0];
    const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.requires_grad();
    std::vector<Tensor<T>> grads(3);
    if (need_x) grads[0] = Tensor<T>::from_shape(xv.shape());
    if (need_w) grads[1] = xt::zeros<T>(w.value().shape());
    if (need_b) grads[2] = xt::zeros<T>({p.O});
    const T* xp = xv.data();
    const T* wp = w.value().data();
    const T* gp = gy.data();
    T* dxp = need_x ? grads[0].data() : nullptr;
    const int nt = detail::conv_threads(N, p.O * p.taps() * p.positions() * (std::size_t(need_x) + std::size_t(need_w)));
    const std::size_t col_size = p.column_size();  // per thread: the lowered image, then its gradient
    detail::backward_over_images<T>(
        N, nt, need_w ? grads[1].data() : nullptr, need_w ? w.value().size() : 0, need_b ? grads[2].data() : nullptr,
        p.O, 2 * col_size, [&](std::size_t n, T* dw, T* db, T* work) {
          detail::conv_backward_image(p, xp + n * p.in_image(), wp, gp + n * p.out_image(), work, work + col_size,
                                      dw, db, dxp ? dxp + n * p.in_image() : nullptr);
        });
    return grads;
  });
}

template Variable<float> conv2d(const Variable<float>&, const Variable<float>&, const Variable<float>&, std::size_t,
                                std::size_t, std::size_t, std::size_t);
template Variable<double> conv2d(const Variable<double>&, const Variable<double>&, const Variable<double>&,
                                 std::size_t, std::size_t, std::size_t, std::size_t);

}  // namespace tg
