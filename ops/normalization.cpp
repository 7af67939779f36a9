#include "normalization.hpp"

#include <memory>
#include <utility>

#include <xtensor/xmath.hpp>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/normalization_kernels.hpp"
#include "reduce.hpp"
#include "shape.hpp"

namespace tg {
namespace {

using detail::Gradients;
using detail::GroupLayout;

// How x splits into the groups that share a mean and variance, and those statistics (computed from
// x's value when the op ran; the engine's version check guards against later edits of x).
template <class T>
struct GroupStats {
  GroupLayout layout;
  Axes axes;   // the axes a group's statistics run over
  Shape kept;  // x's shape with 1 along `axes`: per-group values broadcast against x
  T eps;
  Tensor<T> mean, invstd;  // one value per group
};
template <class T>
using StatsPtr = std::shared_ptr<const GroupStats<T>>;

// The statistics of each group of x; `variance` (may be null) receives the biased variances.
template <class T>
StatsPtr<T> group_stats(const Tensor<T>& x, GroupLayout layout, Axes axes, Shape kept, T eps,
                        Tensor<T>* variance = nullptr) {
  auto s = std::make_shared<GroupStats<T>>();
  s->layout = layout;
  s->axes = std::move(axes);
  s->kept = std::move(kept);
  s->eps = eps;
  s->mean = Tensor<T>::from_shape({layout.groups});
  s->invstd = Tensor<T>::from_shape({layout.groups});
  if (variance) *variance = Tensor<T>::from_shape({layout.groups});
  detail::group_moments(x.data(), layout, eps, s->mean.data(), s->invstd.data(), variance ? variance->data() : nullptr);
  return s;
}

// Per group: the sum of g and of g * x_hat (both are batch_norm's weight and bias gradients).
template <class T>
struct GradSums {
  Tensor<T> sum_g, sum_g_xhat;
};

template <class T>
GradSums<T> grad_sums_of(const Tensor<T>& g, const Tensor<T>& x, const GroupStats<T>& s) {
  GradSums<T> sums{Tensor<T>::from_shape({s.layout.groups}), Tensor<T>::from_shape({s.layout.groups})};
  detail::grad_sums(g.data(), x.data(), s.layout, s.mean.data(), s.invstd.data(), sums.sum_g.data(),
                    sums.sum_g_xhat.data());
  return sums;
}

// 1 / sqrt(var + eps) per group, kept-shaped, as a differentiable function of x (for derivatives of
// second order and up; the first-order paths use the saved statistics).
template <class T>
Variable<T> invstd_of(const Variable<T>& x, const GroupStats<T>& s) {
  const Variable<T> centred = x - mean(x, s.axes, true);
  return pow(mean(centred * centred, s.axes, true) + s.eps, T(-0.5));
}

template <class T>
Variable<T> normalize_backward(Variable<T> g, const Variable<T>& x, const Variable<T>& w, const StatsPtr<T>& s,
                               const GradSums<T>* known_sums = nullptr);

// x_hat = (x - mean) * invstd per group (the saved statistics); its derivative is normalize_backward.
template <class T>
Variable<T> normalized(const Variable<T>& x, const StatsPtr<T>& s) {
  const Tensor<T> shift = -s->mean * s->invstd;
  Tensor<T> y = Tensor<T>::from_shape(x.value().shape());
  detail::scale_shift_groups(x.value().data(), s->layout, s->invstd.data(), shift.data(), y.data());
  return detail::record<T>("normalize", std::move(y), {x}, detail::saves_inputs({0}),
                           [x, s](Variable<T> g, const Variable<T>&) {
                             return detail::single(normalize_backward(std::move(g), x, Variable<T>(), s));
                           });
}

// gx = w * invstd * (g - mean(g) - x_hat * mean(g * x_hat)) per group: the input gradient of
// normalisation followed by a per-group scale w (undefined: 1). Two sweeps over the data (the sums,
// then gx), one when the sums are known; written into g's buffer when nothing else holds it.
// Its own derivative, with Q(v) = normalize_backward(v, x) and r = invstd, for upstream u:
//   in g: normalize_backward(u, x, w) (gx is linear in g, and self-adjoint);
//   in w: the group sums of u * Q(g);
//   in x: -w r (mean(u Q(g)) x_hat + mean(g x_hat) Q(u) + mean(u x_hat) Q(g)), all differentiable.
template <class T>
Variable<T> normalize_backward(Variable<T> g, const Variable<T>& x, const Variable<T>& w, const StatsPtr<T>& s,
                               const GradSums<T>* known_sums) {
  const bool recorded = will_record<T>({g, x, w});
  const GradSums<T> own = known_sums ? GradSums<T>{} : grad_sums_of(std::as_const(g).value(), x.value(), *s);
  const GradSums<T>& sums = known_sums ? *known_sums : own;
  const bool in_place = !recorded && detail::reusable(g);  // gx[k] reads only g[k] and x[k]
  Tensor<T> out = in_place ? std::move(g.impl()->value) : Tensor<T>::from_shape(x.value().shape());
  const T* gp = in_place ? out.data() : std::as_const(g).value().data();
  detail::normalize_input_grad(gp, x.value().data(), s->layout, s->mean.data(), s->invstd.data(), sums.sum_g.data(),
                               sums.sum_g_xhat.data(), w.defined() ? w.value().data() : nullptr, out.data());
  return detail::record<T>(
      "normalize_backward", std::move(out), {recorded ? g : Variable<T>(), x, w}, detail::saves_inputs({0, 1, 2}),
      [g, x, w, s](Variable<T> u, const Variable<T>&) {
        Gradients<T> grads(3);
        if (g.requires_grad()) grads[0] = normalize_backward(u, x, w, s);
        const bool need_x = x.requires_grad(), need_w = w.defined() && w.requires_grad();
        if (!need_x && !need_w) return grads;
        const Variable<T> q_g = normalize_backward(g, x, Variable<T>(), s);
        if (need_w) grads[2] = sum(u * q_g, s->axes);
        if (need_x) {
          const Variable<T> x_hat = normalized(x, s);
          const Variable<T> q_u = normalize_backward(u, x, Variable<T>(), s);
          Variable<T> coef = invstd_of(x, *s);
          if (w.defined()) coef = coef * reshape(w, s->kept);
          const Variable<T> terms = mean(u * q_g, s->axes, true) * x_hat + mean(g * x_hat, s->axes, true) * q_u +
                                    mean(u * x_hat, s->axes, true) * q_g;
          grads[1] = -(coef * terms);
        }
        return grads;
      });
}

// batch_norm with batch statistics: y = x * (w r) + (b - mean w r) per channel in one sweep.
template <class T>
Variable<T> batch_norm_batch_stats(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                                   const StatsPtr<T>& s) {
  Tensor<T> scale = s->invstd;
  if (w.defined()) scale *= w.value();
  Tensor<T> shift = -s->mean * scale;
  if (b.defined()) shift += b.value();
  Tensor<T> y = Tensor<T>::from_shape(x.value().shape());
  detail::scale_shift_groups(x.value().data(), s->layout, scale.data(), shift.data(), y.data());
  return detail::record<T>(
      "batch_norm", std::move(y), {x, w, b}, detail::saves_inputs({0, 1}),
      [x, w, b, s](Variable<T> g, const Variable<T>&) {
        Gradients<T> grads(3);
        const bool need_x = x.requires_grad(), need_w = w.defined() && w.requires_grad();
        const bool need_b = b.defined() && b.requires_grad();
        if (!will_record<T>({g, x, w})) {
          // First order: one sweep for the sums (which are also the weight and bias gradients), one for gx.
          GradSums<T> sums = grad_sums_of(std::as_const(g).value(), x.value(), *s);
          if (need_x) grads[0] = normalize_backward(std::move(g), x, w, s, &sums);
          if (need_w) grads[1] = detail::constant(std::move(sums.sum_g_xhat));
          if (need_b) grads[2] = detail::constant(std::move(sums.sum_g));
          return grads;
        }
        // create_graph: the same gradients as recorded functions of g, x and w.
        if (need_w) grads[1] = sum(g * normalized(x, s), s->axes);
        if (need_b) grads[2] = sum(g, s->axes);
        if (need_x) grads[0] = normalize_backward(g, x, w, s);
        return grads;
      });
}

// batch_norm with fixed (running) statistics: an affine map of x per channel.
template <class T>
Variable<T> batch_norm_fixed_stats(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b,
                                   const Tensor<T>& running_mean, const Tensor<T>& running_var, T eps,
                                   const GroupLayout& layout, const Axes& axes, const Shape& kept) {
  const Tensor<T> invstd = T(1) / xt::sqrt(running_var + eps);
  Tensor<T> scale = invstd;
  if (w.defined()) scale *= w.value();
  Tensor<T> shift = -running_mean * scale;
  if (b.defined()) shift += b.value();
  Tensor<T> y = Tensor<T>::from_shape(x.value().shape());
  detail::scale_shift_groups(x.value().data(), layout, scale.data(), shift.data(), y.data());
  const Variable<T> mean_k = detail::constant<T>(xt::eval(xt::reshape_view(running_mean, kept)));
  const Variable<T> invstd_k = detail::constant<T>(xt::eval(xt::reshape_view(invstd, kept)));
  return detail::record<T>("batch_norm", std::move(y), {x, w, b}, detail::saves_inputs({0, 1}),
                           [x, w, b, mean_k, invstd_k, axes, kept](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(3);
                             if (x.requires_grad()) {
                               grads[0] = g * (w.defined() ? reshape(w, kept) * invstd_k : invstd_k);
                             }
                             if (w.defined() && w.requires_grad()) grads[1] = sum(g * ((x - mean_k) * invstd_k), axes);
                             if (b.defined() && b.requires_grad()) grads[2] = sum(g, axes);
                             return grads;
                           });
}

template <class T>
void check_channels(const char* what, const Shape& shape, const Shape& x_shape) {
  if (shape != Shape{x_shape[1]}) {
    fail("batch_norm", "{} has shape {} but the input {} has {} channels (expected ({},))", what, format_shape(shape),
         format_shape(x_shape), x_shape[1], x_shape[1]);
  }
}

}  // namespace

template <class T>
Variable<T> batch_norm(const Variable<T>& x, Tensor<Scalar<T>>* running_mean, Tensor<Scalar<T>>* running_var,
                       const Variable<T>& weight, const Variable<T>& bias, bool training, Scalar<T> momentum,
                       Scalar<T> eps) {
  const Shape xs = x.shape();
  if (xs.size() < 2) fail("batch_norm", "expected an input (N, C, ...) of at least 2 dimensions, got {}", format_shape(xs));
  if ((running_mean == nullptr) != (running_var == nullptr)) {
    fail("batch_norm", "running_mean and running_var must both be given or both be null");
  }
  if (weight.defined()) check_channels<T>("weight", weight.shape(), xs);
  if (bias.defined()) check_channels<T>("bias", bias.shape(), xs);
  if (running_mean) {
    check_channels<T>("running_mean", shape_of(*running_mean), xs);
    check_channels<T>("running_var", shape_of(*running_var), xs);
  }
  GroupLayout layout;
  layout.outer = xs[0];
  layout.groups = xs[1];
  for (std::size_t d = 2; d < xs.size(); ++d) layout.inner *= xs[d];
  if (training && layout.group_size() <= 1) {
    fail("batch_norm", "expected more than 1 value per channel when training, got input shape {}", format_shape(xs));
  }
  Axes axes{0};
  Shape kept(xs.size(), 1);
  kept[1] = xs[1];
  for (std::size_t d = 2; d < xs.size(); ++d) axes.push_back(static_cast<int>(d));

  if (!training && running_mean) {
    return batch_norm_fixed_stats<T>(x, weight, bias, *running_mean, *running_var, eps, layout, axes, kept);
  }
  Tensor<T> variance;
  StatsPtr<T> s = group_stats<T>(x.value(), layout, axes, kept, eps, running_mean ? &variance : nullptr);
  if (training && running_mean) {
    const T m = momentum, count = static_cast<T>(layout.group_size());
    *running_mean = (T(1) - m) * *running_mean + m * s->mean;
    *running_var = (T(1) - m) * *running_var + m * variance * (count / (count - T(1)));
  }
  return batch_norm_batch_stats<T>(x, weight, bias, s);
}

template <class T>
Variable<T> layer_norm(const Variable<T>& x, const Shape& normalized_shape, const Variable<T>& weight,
                       const Variable<T>& bias, Scalar<T> eps) {
  const Shape xs = x.shape();
  const std::size_t k = normalized_shape.size();
  if (k == 0) fail("layer_norm", "normalized_shape must have at least one dimension, got ()");
  if (k > xs.size() || !std::equal(normalized_shape.begin(), normalized_shape.end(), xs.end() - static_cast<std::ptrdiff_t>(k))) {
    fail("layer_norm", "normalized_shape {} is not the trailing shape of the input {}", format_shape(normalized_shape),
         format_shape(xs));
  }
  for (const auto& [what, v] : {std::pair<const char*, const Variable<T>*>{"weight", &weight}, {"bias", &bias}}) {
    if (v->defined() && v->shape() != normalized_shape) {
      fail("layer_norm", "{} has shape {} but normalized_shape is {}", what, format_shape(v->shape()),
           format_shape(normalized_shape));
    }
  }
  GroupLayout layout;  // one group per sample: (1, leading elements, normalised elements)
  layout.inner = element_count(normalized_shape);
  layout.groups = element_count(Shape(xs.begin(), xs.end() - static_cast<std::ptrdiff_t>(k)));
  Axes axes, leading;
  Shape kept = xs;
  for (std::size_t d = 0; d < xs.size(); ++d) {
    if (d + k >= xs.size()) {
      axes.push_back(static_cast<int>(d));
      kept[d] = 1;
    } else {
      leading.push_back(static_cast<int>(d));
    }
  }
  const StatsPtr<T> s = group_stats<T>(x.value(), layout, axes, kept, eps);
  Tensor<T> y = Tensor<T>::from_shape(x.value().shape());
  detail::normalize_affine_inner(x.value().data(), layout, s->mean.data(), s->invstd.data(),
                                 weight.defined() ? weight.value().data() : nullptr,
                                 bias.defined() ? bias.value().data() : nullptr, y.data());
  // Sums over the leading axes (none when x is a single sample: sum(a, {}) would reduce everything).
  auto over_samples = [leading](const Variable<T>& a) { return leading.empty() ? a : sum(a, leading); };
  return detail::record<T>("layer_norm", std::move(y), {x, weight, bias}, detail::saves_inputs({0, 1}),
                           [x, weight, bias, s, over_samples](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(3);
                             if (weight.defined() && weight.requires_grad()) {
                               grads[1] = over_samples(g * normalized(x, s));
                             }
                             if (bias.defined() && bias.requires_grad()) grads[2] = over_samples(g);
                             if (x.requires_grad()) {
                               grads[0] = normalize_backward(weight.defined() ? g * weight : std::move(g), x,
                                                             Variable<T>(), s);
                             }
                             return grads;
                           });
}

#define TG_FUNCTIONS(T)                                                                                          \
  template Variable<T> batch_norm(const Variable<T>&, Tensor<T>*, Tensor<T>*, const Variable<T>&,               \
                                  const Variable<T>&, bool, Scalar<T>, Scalar<T>);                              \
  template Variable<T> layer_norm(const Variable<T>&, const Shape&, const Variable<T>&, const Variable<T>&, \
                                  Scalar<T>);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
