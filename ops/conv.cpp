#include "conv.hpp"

#include "../core/record_op.hpp"
#include "detail/conv_lowering.hpp"

namespace tg {

template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", xv, w.value(), b, stride, padding, dilation, groups);
  Tensor<T> y = Tensor<T>::from_shape({xv.shape()[0], p.O, p.g.out_h, p.g.out_w});
  T* yp = y.data();
  detail::convolution_forward(
      p, x, w, b, [&](std::size_t n, T*) { return yp + n * p.out_image(); }, [](std::size_t, T*) {});

  return record_op<T>("conv2d", std::move(y), {x, w, b}, [x, w, b, p](const Tensor<T>& gy) {
    const T* gp = gy.data();
    return detail::convolution_backward(p, x, w, b, 0, [&](std::size_t n, T*) { return gp + n * p.out_image(); });
  });
}

template Variable<float> conv2d(const Variable<float>&, const Variable<float>&, const Variable<float>&, std::size_t,
                                std::size_t, std::size_t, std::size_t);
template Variable<double> conv2d(const Variable<double>&, const Variable<double>&, const Variable<double>&,
                                 std::size_t, std::size_t, std::size_t, std::size_t);

}  // namespace tg
