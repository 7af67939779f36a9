#include "pool.hpp"

#include <cstdint>
#include <vector>

#include "../core/anomaly.hpp"
#include "../core/detail/anomaly_checks.hpp"
#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "detail/pool_kernels.hpp"

namespace tg {
namespace {

using detail::PoolGeometry;

template <class T>
PoolGeometry check(const char* name, const Tensor<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  if (x.dimension() != 4) fail(name, "input must be 4-D (N, C, H, W), got {}", format_shape(x.shape()));
  if (kernel == 0) fail(name, "kernel size must be positive, got 0");
  if (stride == 0) stride = kernel;
  if (padding > kernel / 2) {
    fail(name, "padding {} must be at most half the kernel size {} (at most {})", padding, kernel, kernel / 2);
  }
  const std::size_t H = x.shape()[2], W = x.shape()[3];
  if (H + 2 * padding < kernel || W + 2 * padding < kernel) {
    fail(name, "input {} is too small for kernel {} with stride {} and padding {}", format_shape(x.shape()), kernel,
         stride, padding);
  }
  PoolGeometry g;
  g.planes = x.shape()[0] * x.shape()[1];
  g.height = H;
  g.width = W;
  g.kernel = kernel;
  g.stride = stride;
  g.padding = padding;
  g.out_h = (H + 2 * padding - kernel) / stride + 1;
  g.out_w = (W + 2 * padding - kernel) / stride + 1;
  return g;
}

template <class T>
Shape output_shape(const Tensor<T>& x, const PoolGeometry& g) {
  return {x.shape()[0], x.shape()[1], g.out_h, g.out_w};
}

}  // namespace

template <class T>
Variable<T> max_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  const Tensor<T>& xv = x.value();
  const PoolGeometry g = check("max_pool2d", xv, kernel, stride, padding);
  Tensor<T> y = Tensor<T>::from_shape(output_shape(xv, g));
  if (!will_record<T>({x})) {  // nothing will ask for the gradient: skip the argmax bookkeeping
    detail::max_pool_forward(xv.data(), g, y.data(), static_cast<std::int64_t*>(nullptr));
    if (anomaly_enabled()) detail::check_forward<T>("max_pool2d", y, {x});  // record_op is skipped here
    return Variable<T>(std::move(y));
  }
  if (g.kernel == 2 && g.stride == 2 && g.padding == 0) {  // the CNN case: a byte per window, not an int64 argmax
    std::vector<std::uint8_t> choice(y.size());
    detail::max_pool_2x2_forward(xv.data(), g, y.data(), choice.data());
    Shape x_shape = shape_of(xv);
    return record_op<T>("max_pool2d", std::move(y), {x}, [g, x_shape, choice = std::move(choice)](const Tensor<T>& gy) {
      Tensor<T> gx = Tensor<T>::from_shape(x_shape);
      detail::max_pool_2x2_backward(choice.data(), gy.data(), g, gx.data());
      return std::vector<Tensor<T>>{std::move(gx)};
    });
  }
  std::vector<std::int64_t> argmax(y.size());
  detail::max_pool_forward(xv.data(), g, y.data(), argmax.data());
  Shape x_shape = shape_of(xv);
  return record_op<T>("max_pool2d", std::move(y), {x},
                      [g, x_shape, argmax = std::move(argmax)](const Tensor<T>& gy) {
                        Tensor<T> gx = xt::zeros<T>(x_shape);
                        detail::max_pool_backward(gy.data(), argmax.data(), g, gx.data());
                        return std::vector<Tensor<T>>{std::move(gx)};
                      });
}

template <class T>
Variable<T> avg_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  const Tensor<T>& xv = x.value();
  const PoolGeometry g = check("avg_pool2d", xv, kernel, stride, padding);
  Tensor<T> y = Tensor<T>::from_shape(output_shape(xv, g));
  detail::avg_pool_forward(xv.data(), g, y.data());
  Shape x_shape = shape_of(xv);
  return record_op<T>("avg_pool2d", std::move(y), {x}, [g, x_shape](const Tensor<T>& gy) {
    Tensor<T> gx = xt::zeros<T>(x_shape);
    detail::avg_pool_backward(gy.data(), g, gx.data());
    return std::vector<Tensor<T>>{std::move(gx)};
  });
}

template Variable<float> max_pool2d(const Variable<float>&, std::size_t, std::size_t, std::size_t);
template Variable<double> max_pool2d(const Variable<double>&, std::size_t, std::size_t, std::size_t);
template Variable<float> avg_pool2d(const Variable<float>&, std::size_t, std::size_t, std::size_t);
template Variable<double> avg_pool2d(const Variable<double>&, std::size_t, std::size_t, std::size_t);

}  // namespace tg
