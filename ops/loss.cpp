#include "loss.hpp"

#include <cmath>
#include <cstdint>
#include <memory>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "activation.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/broadcast.hpp"
#include "detail/lane_sum.hpp"
#include "detail/softmax_kernel.hpp"
#include "reduce.hpp"

namespace tg {
namespace {

using detail::Gradients;

// A 0-d tensor holding the mean `total / count` (NaN for count 0, like PyTorch's mean of nothing).
template <class T>
Tensor<T> scalar_mean(double total, std::size_t count) {
  return Tensor<T>(static_cast<T>(total / static_cast<double>(count)));
}

// The checks shared by cross_entropy and nll_loss: a 2-D (N, C) input and N labels in [0, C).
template <class T>
void check_classification(const char* function, const char* what, const Tensor<T>& x, const Labels& labels) {
  if (x.dimension() != 2) {
    fail(function, "{} must be 2-D (N, C), got shape {}", what, format_shape(x.shape()));
  }
  const std::size_t n = x.shape()[0];
  const auto classes = static_cast<std::int64_t>(x.shape()[1]);
  if (labels.size() != n) {
    fail(function, "got {} labels for {} of shape {}: need one label per row (N = {})", labels.size(), what,
         format_shape(x.shape()), n);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      fail(function, "label {} at index {} is out of range for {} classes (valid: 0 to {})", labels[i], i, classes,
           classes - 1);
    }
  }
}

// The labels of a classification loss as a one-hot (N, C) matrix scaled by `scale`.
template <class T>
Tensor<T> one_hot(const Labels& labels, std::size_t classes, T scale) {
  Tensor<T> out = xt::zeros<T>({labels.size(), classes});
  for (std::size_t i = 0; i < labels.size(); ++i) out(i, static_cast<std::size_t>(labels[i])) = scale;
  return out;
}

// nll_loss's backward: -g / N at each row's label, zeros elsewhere. Linear in g; its derivative
// with respect to g is nll_loss itself.
template <class T>
Variable<T> nll_backward(const Variable<T>& g, const std::shared_ptr<const Labels>& labels, std::size_t classes) {
  const std::size_t n = labels->size();
  Tensor<T> gx = one_hot<T>(*labels, classes, -g.value()() / static_cast<T>(n));
  return detail::record<T>("nll_loss_backward", std::move(gx), {g}, detail::saves_nothing(),
                           [labels](Variable<T> u, const Variable<T>&) { return detail::single(nll_loss(u, *labels)); });
}

// cross_entropy's backward, (softmax(x) - onehot) * g / N, from the softmax the forward kept.
// Its derivative is written with softmax itself, so it can be differentiated again.
template <class T>
Variable<T> cross_entropy_backward(const Variable<T>& g, const Variable<T>& logits, const Tensor<T>& p,
                                   const std::shared_ptr<const Labels>& labels) {
  const std::size_t n = labels->size(), classes = p.shape()[1];
  const T scale = g.value()() / static_cast<T>(n);
  Tensor<T> gx = p * scale;
  T* gp = gx.data();
  for (std::size_t i = 0; i < n; ++i) gp[i * classes + static_cast<std::size_t>((*labels)[i])] -= scale;
  return detail::record<T>(
      "cross_entropy_backward", std::move(gx), {g, logits}, detail::saves_inputs({0, 1}),
      [g, logits, labels, classes](Variable<T> u, const Variable<T>&) {
        const T inv_n = T(1) / static_cast<T>(labels->size());
        const Variable<T> p = softmax(logits, 1);
        Gradients<T> grads(2);
        if (g.requires_grad()) {
          const Variable<T> onehot = detail::constant<T>(one_hot<T>(*labels, classes, T(1)));
          grads[0] = sum(u * (p - onehot)) * inv_n;
        }
        if (logits.requires_grad()) grads[1] = p * (u - sum(u * p, {1}, true)) * (g * inv_n);
        return grads;
      });
}

}  // namespace

template <class T>
Variable<T> mse_loss(const Variable<T>& pred, const Variable<T>& target) {
  detail::broadcast_shapes("mse_loss", pred.shape(), target.shape());
  const Tensor<T> diff = pred.value() - target.value();
  const std::size_t count = diff.size();
  const T* d = diff.data();
  Tensor<T> loss = scalar_mean<T>(detail::lane_sum(count, [d](std::size_t i) { return d[i] * d[i]; }), count);
  return detail::record<T>("mse_loss", std::move(loss), {pred, target}, detail::saves_inputs({0, 1}),
                           [pred, target, count](Variable<T> g, const Variable<T>&) {
                             const Variable<T> gd = (pred - target) * (g * (T(2) / static_cast<T>(count)));
                             return Gradients<T>{pred.requires_grad() ? detail::sum_to(gd, pred.shape()) : Variable<T>(),
                                                 target.requires_grad() ? detail::sum_to(-gd, target.shape()) : Variable<T>()};
                           });
}

template <class T>
Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels_in) {
  const Tensor<T>& x = logits.value();
  check_classification("cross_entropy", "logits", x, labels_in);
  const std::size_t n = x.shape()[0], classes = x.shape()[1];
  const detail::AxisLayout layout{n, classes, 1};
  // p = exp(x - max) row by row; loss_i = log(sum_i) - (x_i[label] - max_i), finite at any logits.
  Tensor<T> p = Tensor<T>::from_shape(x.shape());
  std::vector<T> max(n), sum(n);
  detail::shifted_exp(x.data(), p.data(), layout, max.data(), sum.data());
  const T* xp = x.data();
  const double total = detail::lane_sum(n, [&](std::size_t i) {
    return std::log(sum[i]) - (xp[i * classes + static_cast<std::size_t>(labels_in[i])] - max[i]);
  });
  Tensor<T> loss = scalar_mean<T>(total, n);
  if (!will_record<T>({logits})) return detail::record<T>("cross_entropy", std::move(loss), {logits}, {}, nullptr);
  T* pp = p.data();  // normalise p into the softmax that backward needs
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < classes; ++c) pp[i * classes + c] /= sum[i];
  }
  auto labels = std::make_shared<const Labels>(labels_in);
  return detail::record<T>("cross_entropy", std::move(loss), {logits}, detail::saves_inputs({0}),
                           [logits, p = std::move(p), labels](Variable<T> g, const Variable<T>&) {
                             return detail::single(cross_entropy_backward(g, logits, p, labels));
                           });
}

template <class T>
Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels_in) {
  const Tensor<T>& x = log_probs.value();
  check_classification("nll_loss", "log_probs", x, labels_in);
  const std::size_t n = x.shape()[0], classes = x.shape()[1];
  const T* xp = x.data();
  const double total =
      detail::lane_sum(n, [&](std::size_t i) { return -xp[i * classes + static_cast<std::size_t>(labels_in[i])]; });
  auto labels = std::make_shared<const Labels>(labels_in);
  return detail::record<T>("nll_loss", scalar_mean<T>(total, n), {log_probs}, detail::saves_nothing(),
                           [labels, classes](Variable<T> g, const Variable<T>&) {
                             return detail::single(nll_backward(g, labels, classes));
                           });
}

template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logits, const Variable<T>& targets) {
  const Tensor<T>& x = logits.value();
  const Tensor<T>& t = targets.value();
  if (x.shape() != t.shape()) {
    fail("binary_cross_entropy_with_logits", "logits {} and targets {} must have the same shape",
         format_shape(x.shape()), format_shape(t.shape()));
  }
  const Tensor<T> terms = xt::maximum(x, T(0)) - x * t + xt::log1p(xt::exp(-xt::abs(x)));
  const T* tp = terms.data();
  const std::size_t count = terms.size();
  Tensor<T> loss = scalar_mean<T>(detail::lane_sum(count, [tp](std::size_t i) { return tp[i]; }), count);
  return detail::record<T>("binary_cross_entropy_with_logits", std::move(loss), {logits, targets},
                           detail::saves_inputs({0, 1}), [logits, targets, count](Variable<T> g, const Variable<T>&) {
                             const Variable<T> scale = g * (T(1) / static_cast<T>(count));
                             return Gradients<T>{
                                 logits.requires_grad() ? (sigmoid(logits) - targets) * scale : Variable<T>(),
                                 targets.requires_grad() ? -(logits * scale) : Variable<T>()};
                           });
}

#define TG_FUNCTIONS(T)                                                           \
  template Variable<T> mse_loss(const Variable<T>&, const Variable<T>&);          \
  template Variable<T> cross_entropy(const Variable<T>&, const Labels&);          \
  template Variable<T> nll_loss(const Variable<T>&, const Labels&);               \
  template Variable<T> binary_cross_entropy_with_logits(const Variable<T>&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
