#include "pool.hpp"

#include <cstdint>
#include <memory>
#include <vector>

#include "../core/anomaly.hpp"
#include "../core/detail/anomaly_checks.hpp"
#include "../core/detail/checked.hpp"
#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "detail/adaptive_pool_kernels.hpp"
#include "detail/autograd.hpp"
#include "detail/pool_grad.hpp"

namespace tg {
namespace {

using detail::Gradients;
using detail::PoolGeometry;

template <class T>
PoolGeometry check(const char* name, const Tensor<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  if (x.dimension() != 4) fail(name, "input must be 4-D (N, C, H, W), got {}", format_shape(x.shape()));
  if (kernel == 0) fail(name, "kernel size must be positive, got 0");
  if (stride == 0) stride = kernel;
  if (padding > kernel / 2) {
    fail(name, "padding {} must be at most half the kernel size {} (at most {})", padding, kernel, kernel / 2);
  }
  std::size_t window = 0;
  if (__builtin_mul_overflow(kernel, kernel, &window) || window > detail::max_elements) {
    fail(name, "kernel size {} is too large: a {}x{} window would hold more elements than a tensor can", kernel, kernel,
         kernel);
  }
  const std::size_t H = x.shape()[2], W = x.shape()[3];
  if (H == 0 || W == 0) fail(name, "input {} has an empty plane", format_shape(x.shape()));
  // padding <= kernel / 2 < 2^30 here, so the padded sizes cannot overflow.
  if (H + 2 * padding < kernel || W + 2 * padding < kernel) {
    fail(name, "input {} is too small for kernel {} with stride {} and padding {}", format_shape(x.shape()), kernel,
         stride, padding);
  }
  PoolGeometry g;
  g.planes = x.shape()[0] * x.shape()[1];
  g.height = H;
  g.width = W;
  g.kernel = kernel;
  // A stride beyond the padded input leaves one window per row: clamped so that the loops' signed
  // index arithmetic cannot overflow.
  g.stride = std::min(stride, detail::max_elements);
  g.padding = padding;
  g.out_h = (H + 2 * padding - kernel) / stride + 1;
  g.out_w = (W + 2 * padding - kernel) / stride + 1;
  return g;
}

Shape output_shape(const Shape& x, const PoolGeometry& g) { return {x[0], x[1], g.out_h, g.out_w}; }

// Average pooling over fixed windows (PoolGeometry) or adaptive ones (AdaptiveGeometry): the window
// geometry, the shapes on both sides and the names the op and its adjoint are recorded under.
template <class Geometry>
struct AveragePoolSpec {
  const char* name;
  const char* adjoint_name;
  Geometry g;
  Shape in_shape, out_shape;
};

// The loops of each pooling, chosen by its geometry. avg_pool_backward adds into gx, so gx starts
// at zero; adaptive_avg_pool_backward writes it whole.
template <class T>
void pool_loop(const T* x, const PoolGeometry& g, Tensor<T>& y) {
  detail::avg_pool_forward(x, g, y.data());
}
template <class T>
void pool_loop(const T* x, const detail::AdaptiveGeometry& g, Tensor<T>& y) {
  detail::adaptive_avg_pool_forward(x, g, y.data());
}
template <class T>
void adjoint_loop(const T* gy, const PoolGeometry& g, Tensor<T>& gx) {
  gx.fill(T(0));
  detail::avg_pool_backward(gy, g, gx.data());
}
template <class T>
void adjoint_loop(const T* gy, const detail::AdaptiveGeometry& g, Tensor<T>& gx) {
  detail::adaptive_avg_pool_backward(gy, g, gx.data());
}

// Average pooling (adjoint = false) is linear: its derivative is its adjoint (adjoint = true), the
// spreading of each output's gradient over its window, whose derivative is the pooling again.
template <bool adjoint, class T, class Geometry>
Variable<T> average_pool(const Variable<T>& x, std::shared_ptr<const AveragePoolSpec<Geometry>> s) {
  Tensor<T> y = Tensor<T>::from_shape(adjoint ? s->in_shape : s->out_shape);
  if constexpr (adjoint) {
    adjoint_loop(x.value().data(), s->g, y);
  } else {
    pool_loop(x.value().data(), s->g, y);
  }
  return detail::record<T>(adjoint ? s->adjoint_name : s->name, std::move(y), {x}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(average_pool<!adjoint>(g, s)); });
}

}  // namespace

namespace detail {
namespace {

// max_pool_scatter's derivative: u read at each window's maximum (0 where no tap was chosen).
template <class T>
Variable<T> gather_at_maxima(const Variable<T>& u, std::shared_ptr<const MaxPoolIndex> m) {
  Tensor<T> out = Tensor<T>::from_shape(m->out_shape);
  if (m->two_by_two) {
    max_pool_2x2_gather(m->choice.data(), u.value().data(), m->g, out.data());
  } else {
    max_pool_gather(u.value().data(), m->argmax.data(), m->g, out.data());
  }
  return record<T>("max_pool2d_backward_backward", std::move(out), {u}, saves_nothing(),
                   [m](Variable<T> v, const Variable<T>&) { return single(max_pool_scatter(v, m)); });
}

}  // namespace

template <class T>
Variable<T> max_pool_scatter(const Variable<T>& g, std::shared_ptr<const MaxPoolIndex> m) {
  Tensor<T> gx;
  if (m->two_by_two) {  // writes every element
    gx = Tensor<T>::from_shape(m->in_shape);
    max_pool_2x2_backward(m->choice.data(), g.value().data(), m->g, gx.data());
  } else {
    gx = xt::zeros<T>(m->in_shape);
    max_pool_backward(g.value().data(), m->argmax.data(), m->g, gx.data());
  }
  return record<T>("max_pool2d_backward", std::move(gx), {g}, saves_nothing(),
                   [m](Variable<T> u, const Variable<T>&) { return single(gather_at_maxima(u, m)); });
}

}  // namespace detail

template <class T>
Variable<T> max_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  const Tensor<T>& xv = x.value();
  const PoolGeometry g = check("max_pool2d", xv, kernel, stride, padding);
  Tensor<T> y = Tensor<T>::from_shape(output_shape(shape_of(xv), g));
  if (!will_record<T>({x})) {  // nothing will ask for the gradient: skip the argmax bookkeeping
    detail::max_pool_forward(xv.data(), g, y.data(), static_cast<std::int64_t*>(nullptr));
    if (anomaly_enabled()) detail::check_forward<T>("max_pool2d", y, {x});  // record is skipped here
    return Variable<T>(std::move(y));
  }
  auto m = std::make_shared<detail::MaxPoolIndex>();
  m->g = g;
  m->in_shape = shape_of(xv);
  m->out_shape = shape_of(y);
  m->two_by_two = g.is_2x2();
  if (m->two_by_two) {  // the CNN case: a byte per window, not an int64 argmax
    m->choice.resize(y.size());
    detail::max_pool_2x2_forward(xv.data(), g, y.data(), m->choice.data());
  } else {
    m->argmax.resize(y.size());
    detail::max_pool_forward(xv.data(), g, y.data(), m->argmax.data());
  }
  return detail::record<T>(
      "max_pool2d", std::move(y), {x}, detail::saves_nothing(),
      [m = std::shared_ptr<const detail::MaxPoolIndex>(std::move(m))](Variable<T> gy, const Variable<T>&) {
        return detail::single(detail::max_pool_scatter(gy, m));
      });
}

template <class T>
Variable<T> avg_pool2d(const Variable<T>& x, std::size_t kernel, std::size_t stride, std::size_t padding) {
  auto s = std::make_shared<AveragePoolSpec<PoolGeometry>>();
  s->name = "avg_pool2d";
  s->adjoint_name = "avg_pool2d_backward";
  s->g = check("avg_pool2d", x.value(), kernel, stride, padding);
  s->in_shape = x.shape();
  s->out_shape = output_shape(s->in_shape, s->g);
  return average_pool<false>(x, std::shared_ptr<const AveragePoolSpec<PoolGeometry>>(std::move(s)));
}

template <class T>
Variable<T> adaptive_avg_pool2d(const Variable<T>& x, const Shape& output_size) {
  const char* name = "adaptive_avg_pool2d";
  const Shape shape = x.shape();
  if (shape.size() != 3 && shape.size() != 4) {
    fail(name, "input must be 3-D (C, H, W) or 4-D (N, C, H, W), got {}", format_shape(shape));
  }
  if (output_size.size() != 2) fail(name, "output_size must have 2 values (OH, OW), got {}", format_shape(output_size));
  const std::size_t H = shape[shape.size() - 2], W = shape.back(), OH = output_size[0], OW = output_size[1];
  if (H == 0 || W == 0) fail(name, "input {} has an empty plane", format_shape(shape));
  if (OH == 0 || OW == 0) fail(name, "output_size {} must be positive", format_shape(output_size));
  auto s = std::make_shared<AveragePoolSpec<detail::AdaptiveGeometry>>();
  s->name = name;
  s->adjoint_name = "adaptive_avg_pool2d_backward";
  s->in_shape = shape;
  s->out_shape = shape;
  s->out_shape[shape.size() - 2] = OH;
  s->out_shape.back() = OW;
  detail::checked_count(name, s->out_shape);
  detail::checked_mul(name, OH, H);  // the window bounds i·H / OH
  detail::checked_mul(name, OW, W);
  s->g.planes = shape.size() == 4 ? shape[0] * shape[1] : shape[0];
  s->g.height = H;
  s->g.width = W;
  s->g.out_h = OH;
  s->g.out_w = OW;
  return average_pool<false>(x, std::shared_ptr<const AveragePoolSpec<detail::AdaptiveGeometry>>(std::move(s)));
}

#define TG_FUNCTIONS(T)                                                                       \
  template Variable<T> max_pool2d(const Variable<T>&, std::size_t, std::size_t, std::size_t); \
  template Variable<T> avg_pool2d(const Variable<T>&, std::size_t, std::size_t, std::size_t); \
  template Variable<T> adaptive_avg_pool2d(const Variable<T>&, const Shape&);                 \
  template Variable<T> detail::max_pool_scatter(const Variable<T>&, std::shared_ptr<const detail::MaxPoolIndex>);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
