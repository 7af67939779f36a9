// mse_loss, l1_loss, huber_loss and binary_cross_entropy (declared in loss.hpp): losses that are the
// mean of an elementwise term, with PyTorch's values and gradients at kinks and clamps.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/broadcast.hpp"
#include "detail/elementwise.hpp"
#include "detail/lane_sum.hpp"
#include "loss.hpp"
#include "reduce.hpp"

namespace tg {
namespace {

using detail::Gradients;

// The mean of the `count` terms `term(i)` as a 0-d tensor (NaN for no terms, like PyTorch).
template <class T, class F>
Tensor<T> mean_of(std::size_t count, F term) {
  return Tensor<T>(static_cast<T>(detail::lane_sum(count, term) / static_cast<double>(count)));
}

// A loss of the difference d = pred - target (broadcast, checked as `op`): the mean of term(d) over
// its `count` elements.
template <class T>
struct DifferenceMean {
  Tensor<T> loss;
  std::size_t count;
};

template <class T, class Term>
DifferenceMean<T> mean_over_difference(const char* op, const Variable<T>& pred, const Variable<T>& target, Term term) {
  detail::broadcast_shapes(op, pred.shape(), target.shape());
  const Tensor<T> diff = pred.value() - target.value();
  const T* d = diff.data();
  return {mean_of<T>(diff.size(), [d, term](std::size_t i) { return term(d[i]); }), diff.size()};
}

// sign(v) as torch.sign: 0 at 0, NaN at NaN.
template <class T>
T sign_of(T v) {
  return v > T(0) ? T(1) : v < T(0) ? T(-1) : v * T(0);
}

// The gradients of a loss of d = pred - target, given its gradient gd with respect to d (of the
// broadcast shape): gd folded back to each input's shape, with a minus for the target.
template <class T>
Gradients<T> difference_gradients(const Variable<T>& gd, const Variable<T>& pred, const Variable<T>& target) {
  return Gradients<T>{pred.requires_grad() ? detail::sum_to(gd, pred.shape()) : Variable<T>(),
                      target.requires_grad() ? detail::sum_to(-gd, target.shape()) : Variable<T>()};
}

// PyTorch's floor under p (1 - p) in the gradient: 1e-12 as a float, which it is in PyTorch's kernel.
constexpr double bce_epsilon = static_cast<double>(1e-12f);

// binary_cross_entropy's gradient with respect to the probabilities, g (p - t) / max(p (1 - p), eps) / N
// (g 0-d). Linear in g; its other derivatives are written with tapegrad functions, the one in p with
// PyTorch's double-backward denominator (p + eps)^2 (1 - p + eps)^2.
template <class T>
Variable<T> bce_backward(const Variable<T>& g, const Variable<T>& p, const Variable<T>& t) {
  const std::size_t count = p.size();
  const T scale = g.value()() / static_cast<T>(count);
  const T* pp = p.value().data();
  const T* tp = t.value().data();
  Tensor<T> out = Tensor<T>::from_shape(p.value().shape());
  T* op = out.data();
  for (std::size_t i = 0; i < count; ++i) {
    op[i] = scale * (pp[i] - tp[i]) / std::max(pp[i] * (T(1) - pp[i]), T(bce_epsilon));
  }
  return detail::record<T>(
      "binary_cross_entropy_backward", std::move(out), {g, p, t}, detail::saves_inputs({0, 1, 2}),
      [g, p, t, count](Variable<T> u, const Variable<T>&) {
        const Variable<T> ug = u * (g * (T(1) / static_cast<T>(count)));
        Gradients<T> grads(3);
        if (g.requires_grad()) grads[0] = sum(u * bce_backward(detail::constant<T>(Tensor<T>(T(1))), p, t));
        if (p.requires_grad()) {
          const Variable<T> above = p + T(bce_epsilon), below = (T(1) + T(bce_epsilon)) - p;
          grads[1] = ug * (p * p - p * t * T(2) + t) / (above * above * below * below);
        }
        if (t.requires_grad()) grads[2] = -ug / (p * (T(1) - p));
        return grads;
      });
}

}  // namespace

template <class T>
Variable<T> mse_loss(const Variable<T>& pred, const Variable<T>& target) {
  DifferenceMean<T> m = mean_over_difference("mse_loss", pred, target, [](T d) { return d * d; });
  return detail::record<T>("mse_loss", std::move(m.loss), {pred, target}, detail::saves_inputs({0, 1}),
                           [pred, target, count = m.count](Variable<T> g, const Variable<T>&) {
                             const Variable<T> gd = (pred - target) * (g * (T(2) / static_cast<T>(count)));
                             return difference_gradients(gd, pred, target);
                           });
}

template <class T>
Variable<T> l1_loss(const Variable<T>& pred, const Variable<T>& target) {
  DifferenceMean<T> m = mean_over_difference("l1_loss", pred, target, [](T d) { return std::abs(d); });
  return detail::record<T>("l1_loss", std::move(m.loss), {pred, target}, detail::saves_inputs({0, 1}),
                           [pred, target, count = m.count](Variable<T> g, const Variable<T>&) {
                             // sign(d) is piecewise constant: the gradient's own derivative in d is 0
                             const Tensor<T> diff = pred.value() - target.value();
                             const Variable<T> sign = detail::constant(detail::map(diff, sign_of<T>));
                             return difference_gradients(sign * (g * (T(1) / static_cast<T>(count))), pred, target);
                           });
}

template <class T>
Variable<T> huber_loss(const Variable<T>& pred, const Variable<T>& target, Scalar<T> delta_in) {
  const T delta = delta_in;
  if (!(delta > T(0))) fail("huber_loss", "delta must be positive, got {}", delta);
  DifferenceMean<T> m = mean_over_difference("huber_loss", pred, target, [delta](T d) {
    const T a = std::abs(d);
    return a < delta ? T(0.5) * a * a : delta * (a - T(0.5) * delta);
  });
  return detail::record<T>(
      "huber_loss", std::move(m.loss), {pred, target}, detail::saves_inputs({0, 1}),
      [pred, target, count = m.count, delta](Variable<T> g, const Variable<T>&) {
        // clamp(d, -delta, delta) = d inside |d| < delta, delta sign(d) outside (so the second
        // derivative at |d| == delta is 0, as in PyTorch)
        const Tensor<T> diff = pred.value() - target.value();
        const Variable<T> inside = detail::constant(detail::map(diff, [delta](T v) { return T(std::abs(v) < delta); }));
        const Variable<T> outside = detail::constant(
            detail::map(diff, [delta](T v) { return std::abs(v) < delta ? T(0) : delta * sign_of(v); }));
        const Variable<T> clamped = (pred - target) * inside + outside;
        return difference_gradients(clamped * (g * (T(1) / static_cast<T>(count))), pred, target);
      });
}

template <class T>
Variable<T> binary_cross_entropy(const Variable<T>& probs, const Variable<T>& targets) {
  const Tensor<T>& p = probs.value();
  const Tensor<T>& t = targets.value();
  if (p.shape() != t.shape()) {
    fail("binary_cross_entropy", "probs {} and targets {} must have the same shape", format_shape(p.shape()),
         format_shape(t.shape()));
  }
  const T* pp = p.data();
  const T* tp = t.data();
  const std::size_t count = p.size();
  for (std::size_t i = 0; i < count; ++i) {
    if (!(pp[i] >= T(0) && pp[i] <= T(1))) {
      fail("binary_cross_entropy", "probs must lie in [0, 1], got {} at flat index {}", pp[i], i);
    }
  }
  Tensor<T> loss = mean_of<T>(count, [pp, tp](std::size_t i) {
    const T log_p = std::max(std::log(pp[i]), T(-100)), log_q = std::max(std::log1p(-pp[i]), T(-100));
    return -(tp[i] * log_p + (T(1) - tp[i]) * log_q);
  });
  return detail::record<T>("binary_cross_entropy", std::move(loss), {probs, targets}, detail::saves_inputs({0, 1}),
                           [probs, targets, count](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(2);
                             if (probs.requires_grad()) grads[0] = bce_backward(g, probs, targets);
                             if (targets.requires_grad()) {  // d/dt = log(1 - p) - log(p) = -logit(p)
                               grads[1] = (log(T(1) - probs) - log(probs)) * (g * (T(1) / static_cast<T>(count)));
                             }
                             return grads;
                           });
}

#define TG_FUNCTIONS(T)                                                                  \
  template Variable<T> mse_loss(const Variable<T>&, const Variable<T>&);                 \
  template Variable<T> l1_loss(const Variable<T>&, const Variable<T>&);                  \
  template Variable<T> huber_loss(const Variable<T>&, const Variable<T>&, Scalar<T>);    \
  template Variable<T> binary_cross_entropy(const Variable<T>&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
