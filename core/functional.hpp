// tg::functional: derivatives of a function of one tensor, as torch.autograd.functional.
//
//   auto f = [&](const tg::Variable<double>& x) { return tg::tanh(tg::matmul(x, w)); };
//   tg::Tensor<double> J = tg::functional::jacobian(f, x);        // f(x).shape + x.shape
//   auto [y, Hv] = tg::functional::hvp(energy, x, v);              // energy returns one element
//
// f is any callable taking const Variable<T>& and returning a Variable<T>; T comes from x.
#pragma once

#include <utility>
#include <vector>

#include "errors.hpp"
#include "grad.hpp"

namespace tg::functional {

namespace detail {

template <class T, class F>
Variable<T> call(F& f, const Variable<T>& x, const char* function) {
  Variable<T> y = f(x);
  if (!y.defined()) fail(function, "f returned an undefined Variable");
  return y;
}

// The Jacobian of `y` (computed from `x`) as (y.shape + x.shape): one backward per element of y.
template <class T>
Tensor<T> jacobian_of(const Variable<T>& y, const Variable<T>& x) {
  Shape shape = y.shape();
  const Shape x_shape = x.shape();
  shape.insert(shape.end(), x_shape.begin(), x_shape.end());
  Tensor<T> jac = xt::zeros<T>(shape);
  if (!y.requires_grad()) return jac;  // y does not depend on x
  const std::size_t n = x.size();
  for (std::size_t j = 0; j < y.size(); ++j) {
    Tensor<T> seed = xt::zeros<T>(y.shape());
    seed.data()[j] = T(1);
    const Variable<T> row = grad<T>({y}, {x}, {Variable<T>(seed)}, true, false, true)[0];
    if (row.defined()) std::copy(row.value().data(), row.value().data() + n, jac.data() + j * n);
  }
  return jac;
}

template <class T>
void check_same_shape(const char* function, const char* what, const Tensor<T>& v, const Shape& expected) {
  if (shape_of(v) != expected) {
    fail(function, "{} has shape {} but must have shape {}", what, format_shape(v.shape()), format_shape(expected));
  }
}

// vᵀ ∂out/∂wrt, of wrt's shape (v of out's shape): zeros when out does not depend on wrt.
template <class T>
Tensor<T> contract(const Variable<T>& out, const Variable<T>& wrt, const Tensor<T>& v) {
  const Variable<T> g = grad<T>({out}, {wrt}, {Variable<T>(v)}, false, false, true)[0];
  return g.defined() ? g.value() : Tensor<T>(xt::zeros<T>(wrt.shape()));
}

// The double-backward step of jvp and hvp: g, the gradient of y with respect to x (seeded with
// `seed`, none meaning ones), kept on the tape, then vᵀ ∂g/∂wrt. Zeros of wrt's shape when g does
// not depend on wrt.
template <class T>
Tensor<T> contract_gradient(const Variable<T>& y, const Variable<T>& x, const std::vector<Variable<T>>& seed,
                            const Variable<T>& wrt, const Tensor<T>& v) {
  const Variable<T> g = grad<T>({y}, {x}, seed, std::nullopt, true, true)[0];
  if (!g.defined() || !g.requires_grad()) return xt::zeros<T>(wrt.shape());
  return contract(g, wrt, v);
}

}  // namespace detail

template <class T, class F>
Tensor<T> jacobian(F f, const Tensor<T>& x) {
  const Variable<T> input(x, true);
  return detail::jacobian_of(detail::call(f, input, "jacobian"), input);
}

// f must return one element; the result has shape x.shape + x.shape.
template <class T, class F>
Tensor<T> hessian(F f, const Tensor<T>& x) {
  const Variable<T> input(x, true);
  const Variable<T> y = detail::call(f, input, "hessian");
  if (y.size() != 1) fail("hessian", "f must return one element, got shape {}", format_shape(y.shape()));
  if (!y.requires_grad()) return detail::jacobian_of(y, input);  // zeros of the right shape
  const Variable<T> g = grad<T>({y}, {input}, {}, std::nullopt, true, true)[0];
  if (!g.defined()) return xt::zeros<T>(detail::jacobian_of(y, input).shape());
  Tensor<T> h = detail::jacobian_of(g, input);
  return h;
}

// (f(x), vᵀ J), v of f(x)'s shape.
template <class T, class F>
std::pair<Tensor<T>, Tensor<T>> vjp(F f, const Tensor<T>& x, const Tensor<T>& v) {
  const Variable<T> input(x, true);
  const Variable<T> y = detail::call(f, input, "vjp");
  detail::check_same_shape("vjp", "v", v, y.shape());
  if (!y.requires_grad()) return {y.value(), xt::zeros<T>(x.shape())};
  return {y.value(), detail::contract(y, input, v)};
}

// (f(x), J v), v of x's shape: the vector-Jacobian product of f, whose backward is linear in its
// output gradient u, differentiated with respect to u (the double-backward trick).
template <class T, class F>
std::pair<Tensor<T>, Tensor<T>> jvp(F f, const Tensor<T>& x, const Tensor<T>& v) {
  detail::check_same_shape("jvp", "v", v, shape_of(x));
  const Variable<T> input(x, true);
  const Variable<T> y = detail::call(f, input, "jvp");
  if (!y.requires_grad()) return {y.value(), xt::zeros<T>(y.shape())};
  const Variable<T> u(Tensor<T>(xt::zeros<T>(y.shape())), true);
  return {y.value(), detail::contract_gradient(y, input, {u}, u, v)};
}

// (f(x), H v) for an f returning one element, v of x's shape.
template <class T, class F>
std::pair<Tensor<T>, Tensor<T>> hvp(F f, const Tensor<T>& x, const Tensor<T>& v) {
  detail::check_same_shape("hvp", "v", v, shape_of(x));
  const Variable<T> input(x, true);
  const Variable<T> y = detail::call(f, input, "hvp");
  if (y.size() != 1) fail("hvp", "f must return one element, got shape {}", format_shape(y.shape()));
  if (!y.requires_grad()) return {y.value(), xt::zeros<T>(x.shape())};
  return {y.value(), detail::contract_gradient(y, input, {}, input, v)};
}

}  // namespace tg::functional
