#include "conv.hpp"

#include "../core/detail/instantiate.hpp"
#include "detail/autograd.hpp"
#include "detail/conv_batch.hpp"
#include "detail/conv_grad.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tg {
namespace detail {
namespace {

// Three ops, all of one convolution plan p (x (N, C, H, W) -> y (N, O, OH, OW)), each linear in
// each of its two inputs, whose derivatives are again these ops:
//   convolve(x, w)      = y               d/dx: input_grad(u, w)   d/dw: weight_grad(x, u)
//   input_grad(g, w)    = dx (x's shape)  d/dg: convolve(u, w)     d/dw: weight_grad(u, g)
//   weight_grad(x, g)   = dw (w's shape)  d/dx: input_grad(g, u)   d/dg: convolve(x, u)
// (input_grad is the transposed convolution.) An op whose value is computed elsewhere (the one-pass
// backward) is recorded by the record_ functions.

template <class T>
Variable<T> convolve(const char* name, const ConvPlan& p, const Variable<T>& x, const Variable<T>& w,
                     const Variable<T>& b);
template <class T>
Variable<T> input_grad(const ConvPlan& p, const Variable<T>& g, const Variable<T>& w);
template <class T>
Variable<T> weight_grad(const ConvPlan& p, const Variable<T>& x, const Variable<T>& g);

template <class T>
Variable<T> record_input_grad(const ConvPlan& p, Tensor<T> dx, const Variable<T>& g, const Variable<T>& w) {
  return record<T>("conv2d_input_grad", std::move(dx), {g, w}, saves_inputs({0, 1}),
                   [p, g, w](Variable<T> u, const Variable<T>&) {
                     Gradients<T> grads(2);
                     if (g.requires_grad()) grads[0] = convolve("conv2d", p, u, w, Variable<T>());
                     if (w.requires_grad()) grads[1] = weight_grad(p, u, g);
                     return grads;
                   });
}

template <class T>
Variable<T> record_weight_grad(const ConvPlan& p, Tensor<T> dw, const Variable<T>& x, const Variable<T>& g) {
  return record<T>("conv2d_weight_grad", std::move(dw), {x, g}, saves_inputs({0, 1}),
                   [p, x, g](Variable<T> u, const Variable<T>&) {
                     Gradients<T> grads(2);
                     if (x.requires_grad()) grads[0] = input_grad(p, g, u);
                     if (g.requires_grad()) grads[1] = convolve("conv2d", p, x, u, Variable<T>());
                     return grads;
                   });
}

// db = g summed over (N, OH, OW); its derivative spreads u back over those axes.
template <class T>
Variable<T> record_bias_grad(const ConvPlan& p, Tensor<T> db, const Variable<T>& g) {
  return record<T>("conv2d_bias_grad", std::move(db), {g}, saves_nothing(), [p](Variable<T> u, const Variable<T>&) {
    return single(expand(reshape(u, {1, p.O, 1, 1}), p.output_shape()));
  });
}

template <class T>
Variable<T> convolve(const char* name, const ConvPlan& p, const Variable<T>& x, const Variable<T>& w,
                     const Variable<T>& b) {
  Tensor<T> y = Tensor<T>::from_shape(p.output_shape());
  convolve_batch(p, x.value().data(), w.value().data(), b.defined() ? b.value().data() : nullptr, y.data());
  return record<T>(name, std::move(y), {x, w, b}, saves_inputs({0, 1}),
                   [p, x, w, b](Variable<T> g, const Variable<T>&) { return conv2d_gradients(p, x, w, b, g); });
}

template <class T>
Variable<T> input_grad(const ConvPlan& p, const Variable<T>& g, const Variable<T>& w) {
  Tensor<T> dx = Tensor<T>::from_shape(p.input_shape());
  convolve_batch_backward<T>(p, nullptr, w.value().data(), g.value().data(), dx.data(), nullptr, nullptr);
  return record_input_grad(p, std::move(dx), g, w);
}

template <class T>
Variable<T> weight_grad(const ConvPlan& p, const Variable<T>& x, const Variable<T>& g) {
  Tensor<T> dw = Tensor<T>::from_shape(p.weight_shape());
  convolve_batch_backward<T>(p, x.value().data(), nullptr, g.value().data(), nullptr, dw.data(), nullptr);
  return record_weight_grad(p, std::move(dw), x, g);
}

}  // namespace

template <class T>
Gradients<T> conv2d_gradients(const ConvPlan& p, const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                              const Variable<T>& g) {
  const bool need_x = x.requires_grad(), need_w = w.requires_grad(), need_b = b.defined() && b.requires_grad();
  Tensor<T> dx, dw, db;
  if (need_x) dx = Tensor<T>::from_shape(p.input_shape());
  if (need_w) dw = Tensor<T>::from_shape(p.weight_shape());
  if (need_b) db = Tensor<T>::from_shape({p.O});
  convolve_batch_backward<T>(p, x.value().data(), w.value().data(), g.value().data(), need_x ? dx.data() : nullptr,
                             need_w ? dw.data() : nullptr, need_b ? db.data() : nullptr);
  Gradients<T> grads(3);
  if (need_x) grads[0] = record_input_grad(p, std::move(dx), g, w);
  if (need_w) grads[1] = record_weight_grad(p, std::move(dw), x, g);
  if (need_b) grads[2] = record_bias_grad(p, std::move(db), g);
  return grads;
}

}  // namespace detail

template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  const detail::ConvPlan p = detail::plan_conv2d("conv2d", x.value(), w.value(), b, stride, padding, dilation, groups);
  return detail::convolve("conv2d", p, x, w, b);
}

template <class T>
Variable<T> conv_transpose2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                             std::size_t padding, std::size_t output_padding, std::size_t groups,
                             std::size_t dilation) {
  using namespace detail;
  const ConvPlan p = plan_conv_transpose2d("conv_transpose2d", x.value(), w.value(), b, stride, padding, output_padding,
                                           groups, dilation);
  // The input gradient of the convolution p, with x in the place of its output gradient.
  Tensor<T> y = Tensor<T>::from_shape(p.input_shape());
  convolve_batch_backward<T>(p, nullptr, w.value().data(), x.value().data(), y.data(), nullptr, nullptr);
  if (b.defined()) {
    const T* bias = b.value().data();
    const std::size_t plane = p.g.height * p.g.width;
    T* yp = y.data();
    for (std::size_t n = 0; n < p.N; ++n) {
      for (std::size_t c = 0; c < p.C; ++c, yp += plane) {
        for (std::size_t i = 0; i < plane; ++i) yp[i] += bias[c];
      }
    }
  }
  return record<T>("conv_transpose2d", std::move(y), {x, w, b}, saves_inputs({0, 1}),
                   [p, x, w, b](Variable<T> g, const Variable<T>&) {
                     Gradients<T> grads(3);
                     if (x.requires_grad()) grads[0] = convolve("conv2d", p, g, w, Variable<T>());
                     if (w.requires_grad()) grads[1] = weight_grad(p, g, x);
                     if (b.defined() && b.requires_grad()) grads[2] = sum(g, Axes{0, 2, 3});
                     return grads;
                   });
}

#define TG_FUNCTIONS(T)                                                                                             \
  template Variable<T> conv2d(const Variable<T>&, const Variable<T>&, const Variable<T>&, std::size_t, std::size_t, \
                              std::size_t, std::size_t);                                                            \
  template Variable<T> conv_transpose2d(const Variable<T>&, const Variable<T>&, const Variable<T>&, std::size_t,    \
                                        std::size_t, std::size_t, std::size_t, std::size_t);                        \
  template detail::Gradients<T> detail::conv2d_gradients(const detail::ConvPlan&, const Variable<T>&,               \
                                                         const Variable<T>&, const Variable<T>&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
