#include "elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "../core/detail/instantiate.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/broadcast.hpp"
#include "detail/elementwise.hpp"

namespace tg {
namespace {

using detail::Gradients;
using detail::sum_to;

// ---------------------------------------------------------------- clamp

// g where lo <= x <= hi, else 0 (PyTorch's clamp_backward: the bounds themselves pass). Linear in
// g with a mask fixed by x, so its derivative in g is itself and in x is 0.
template <class T>
Variable<T> clamp_backward(const Variable<T>& g, const Variable<T>& x, T lo, T hi) {
  Tensor<T> out = detail::map2(x.value(), g.value(), [lo, hi](T v, T gv) { return v >= lo && v <= hi ? gv : T(0); });
  return detail::record<T>("clamp_backward", std::move(out), {g, x}, detail::saves_inputs({1}),
                           [x, lo, hi](Variable<T> u, const Variable<T>&) {
                             return Gradients<T>{clamp_backward(u, x, lo, hi), Variable<T>()};
                           });
}

// ---------------------------------------------------------------- where

// Whether the shapes broadcast together (NumPy's rule, over any number of shapes).
bool broadcastable(std::initializer_list<Shape> shapes) {
  std::size_t n = 0;
  for (const Shape& s : shapes) n = std::max(n, s.size());
  Shape out(n, 1);
  for (const Shape& s : shapes) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      std::size_t& have = out[n - s.size() + i];
      if (s[i] != have && s[i] != 1 && have != 1) return false;
      if (s[i] != 1) have = s[i];
    }
  }
  return true;
}

// cond ? a : b with the three broadcast together, element by element. Not xt::where: built for
// x86-64-v2 (TAPEGRAD_PORTABLE), its SIMD path read a broadcast bool mask with the wrong lanes.
template <class T>
Tensor<T> select_values(const Mask& cond, const Tensor<T>& a, const Tensor<T>& b) {
  const Shape shape = detail::broadcast_shapes("where", detail::broadcast_shapes("where", shape_of(cond), shape_of(a)), shape_of(b));
  Tensor<T> out = Tensor<T>::from_shape(shape);
  const auto c = xt::broadcast(cond, shape);
  const auto x = xt::broadcast(a, shape);
  const auto y = xt::broadcast(b, shape);
  auto ci = c.cbegin();
  auto xi = x.cbegin();
  auto yi = y.cbegin();
  for (T& o : out) {
    o = *ci ? *xi : *yi;
    ++ci, ++xi, ++yi;
  }
  return out;
}

// cond ? a : b, shapes already checked. The mask is shared by the whole chain of derivatives
// (each is a selection by the same mask), copied once and only when something is recorded.
template <class T>
Variable<T> select_by_mask(std::shared_ptr<const Mask> cond, const char* name, const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> out = select_values(*cond, a.value(), b.value());
  return detail::record<T>(name, std::move(out), {a, b}, detail::saves_nothing(),
                           [cond, a, b](Variable<T> g, const Variable<T>&) {
                             const Variable<T> zero = detail::constant<T>(Tensor<T>(T(0)));
                             return Gradients<T>{
                                 a.requires_grad() ? sum_to(select_by_mask(cond, "where", g, zero), a.shape()) : Variable<T>(),
                                 b.requires_grad() ? sum_to(select_by_mask(cond, "where", zero, g), b.shape()) : Variable<T>()};
                           });
}

template <class T>
Variable<T> select_by_mask(const Mask& cond, const char* name, const Variable<T>& a, const Variable<T>& b) {
  if (!will_record<T>({a, b})) {  // no copy of the mask: nothing keeps it
    return Variable<T>(select_values(cond, a.value(), b.value()));
  }
  return select_by_mask(std::make_shared<const Mask>(cond), name, a, b);
}

// ---------------------------------------------------------------- maximum, minimum

// How much of the gradient goes to `self` against `other`: all where self wins, none where it
// loses, half at a tie (PyTorch's rule; a NaN on either side loses nothing).
template <class T>
Tensor<T> share_of_gradient(const Tensor<T>& self, const Tensor<T>& other, bool larger) {
  if (larger) return xt::where(xt::equal(self, other), T(0.5), xt::where(self < other, T(0), T(1)));
  return xt::where(xt::equal(self, other), T(0.5), xt::where(self > other, T(0), T(1)));
}

template <class T>
Variable<T> extremum(const char* name, const Variable<T>& a, const Variable<T>& b, bool larger) {
  detail::broadcast_shapes(name, a.shape(), b.shape());
  const Tensor<T>& x = a.value();
  const Tensor<T>& y = b.value();
  // A NaN wins: x where x wins or is NaN; y otherwise (NaN if y is).
  Tensor<T> out = larger ? Tensor<T>(xt::where((x > y) || xt::isnan(x), x, y))
                         : Tensor<T>(xt::where((x < y) || xt::isnan(x), x, y));
  return detail::record<T>(name, std::move(out), {a, b}, detail::saves_inputs({0, 1}),
                           [a, b, larger](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(2);
                             if (a.requires_grad()) {
                               const Variable<T> share = detail::constant(share_of_gradient(a.value(), b.value(), larger));
                               grads[0] = sum_to(g * share, a.shape());
                             }
                             if (b.requires_grad()) {
                               const Variable<T> share = detail::constant(share_of_gradient(b.value(), a.value(), larger));
                               grads[1] = sum_to(g * share, b.shape());
                             }
                             return grads;
                           });
}

}  // namespace

template <class T>
Variable<T> sin(const Variable<T>& a) {
  return detail::record<T>("sin", Tensor<T>(xt::sin(a.value())), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(g * cos(a)); });
}

template <class T>
Variable<T> cos(const Variable<T>& a) {
  return detail::record<T>("cos", Tensor<T>(xt::cos(a.value())), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(-(g * sin(a))); });
}

template <class T>
Variable<T> log1p(const Variable<T>& a) {
  return detail::record<T>("log1p", Tensor<T>(xt::log1p(a.value())), {a}, detail::saves_inputs({0}),
                           [a](Variable<T> g, const Variable<T>&) { return detail::single(g / (a + T(1))); });
}

template <class T>
Variable<T> clamp(const Variable<T>& a, Scalar<T> lo, Scalar<T> hi) {
  // max first, then min: min > max gives max everywhere, as in PyTorch; a NaN fails both tests and stays.
  Tensor<T> y = detail::map(a.value(), [lo, hi](T v) {
    const T above = v < lo ? lo : v;
    return hi < above ? hi : above;
  });
  return detail::record<T>("clamp", std::move(y), {a}, detail::saves_inputs({0}),
                           [a, lo, hi](Variable<T> g, const Variable<T>&) {
                             return detail::single(clamp_backward(g, a, T(lo), T(hi)));
                           });
}

template <class T>
Variable<T> maximum(const Variable<T>& a, const Variable<T>& b) {
  return extremum("maximum", a, b, true);
}

template <class T>
Variable<T> minimum(const Variable<T>& a, const Variable<T>& b) {
  return extremum("minimum", a, b, false);
}

template <class T>
Variable<T> where(const Mask& cond, const Variable<T>& a, const Variable<T>& b) {
  const Shape cond_shape(cond.shape().begin(), cond.shape().end());
  if (!broadcastable({cond_shape, a.shape(), b.shape()})) {
    fail("where", "shapes {} (condition), {} (a) and {} (b) cannot be broadcast together", format_shape(cond_shape),
         format_shape(a.shape()), format_shape(b.shape()));
  }
  return select_by_mask(cond, "where", a, b);
}

template <class T>
Variable<T> masked_fill(const Variable<T>& a, const Mask& mask, Scalar<T> value) {
  const Shape mask_shape(mask.shape().begin(), mask.shape().end());
  if (!broadcastable({mask_shape, a.shape()})) {
    fail("masked_fill", "shapes {} (mask) and {} (input) cannot be broadcast together", format_shape(mask_shape),
         format_shape(a.shape()));
  }
  return select_by_mask(mask, "masked_fill", detail::constant<T>(Tensor<T>(T(value))), a);
}

#define TG_FUNCTIONS(T)                                                                 \
  template Variable<T> sin(const Variable<T>&);                                         \
  template Variable<T> cos(const Variable<T>&);                                         \
  template Variable<T> log1p(const Variable<T>&);                                       \
  template Variable<T> clamp(const Variable<T>&, Scalar<T>, Scalar<T>);                 \
  template Variable<T> maximum(const Variable<T>&, const Variable<T>&);                 \
  template Variable<T> minimum(const Variable<T>&, const Variable<T>&);                 \
  template Variable<T> where(const Mask&, const Variable<T>&, const Variable<T>&);      \
  template Variable<T> masked_fill(const Variable<T>&, const Mask&, Scalar<T>);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
