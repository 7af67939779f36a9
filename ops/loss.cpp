#include "loss.hpp"

#include <algorithm>
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

// The targets of a classification loss over (N, C) scores: N labels, each in [0, C) or equal to
// ignore_index (that row leaves the loss), smoothed into the distribution
// q = (1 - eps) onehot + eps / C over the rows kept. Shared by a loss and its backwards.
struct ClassTargets {
  Labels labels;
  std::size_t classes = 0;
  std::int64_t ignore_index = -100;
  double smoothing = 0;
  std::size_t kept = 0;  // rows not ignored: the mean's denominator

  bool ignored(std::size_t i) const { return labels[i] == ignore_index; }
  std::size_t label(std::size_t i) const { return static_cast<std::size_t>(labels[i]); }
  // 1 / kept, or 0 with no row kept: the gradient is then zero, as in PyTorch.
  double inverse_count() const { return kept > 0 ? 1.0 / static_cast<double>(kept) : 0.0; }
};

// The checks shared by cross_entropy and nll_loss: a 2-D (N, C) input, N labels in [0, C) or equal
// to ignore_index, and a smoothing in [0, 1].
template <class T>
std::shared_ptr<const ClassTargets> checked_targets(const char* function, const char* what, const Tensor<T>& x,
                                                    const Labels& labels, const CrossEntropyOptions& options) {
  if (x.dimension() != 2) {
    fail(function, "{} must be 2-D (N, C), got shape {}", what, format_shape(x.shape()));
  }
  const std::size_t n = x.shape()[0];
  const auto classes = static_cast<std::int64_t>(x.shape()[1]);
  if (labels.size() != n) {
    fail(function, "got {} labels for {} of shape {}: need one label per row (N = {})", labels.size(), what,
         format_shape(x.shape()), n);
  }
  if (!(options.label_smoothing >= 0 && options.label_smoothing <= 1)) {
    fail(function, "label_smoothing must be between 0 and 1, got {}", options.label_smoothing);
  }
  auto targets = std::make_shared<ClassTargets>();
  targets->classes = x.shape()[1];
  targets->ignore_index = options.ignore_index;
  targets->smoothing = options.label_smoothing;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] == options.ignore_index) continue;
    if (labels[i] < 0 || labels[i] >= classes) {
      fail(function, "label {} at index {} is out of range for {} classes (valid: 0 to {}, or ignore_index {})",
           labels[i], i, classes, classes - 1, options.ignore_index);
    }
    ++targets->kept;
  }
  targets->labels = labels;
  return targets;
}

// The target distribution q of every row, scaled by `scale`; zero rows where a label is ignored.
template <class T>
Tensor<T> target_distribution(const ClassTargets& targets, T scale) {
  const std::size_t n = targets.labels.size(), classes = targets.classes;
  const T uniform = static_cast<T>(targets.smoothing / static_cast<double>(classes)) * scale;
  const T on_label = static_cast<T>(1 - targets.smoothing) * scale;
  Tensor<T> out = xt::zeros<T>({n, classes});
  T* q = out.data();
  for (std::size_t i = 0; i < n; ++i) {
    if (targets.ignored(i)) continue;
    if (uniform != T(0)) std::fill(q + i * classes, q + (i + 1) * classes, uniform);
    q[i * classes + targets.label(i)] += on_label;
  }
  return out;
}

// A (N, 1) column of 1 for the rows kept and 0 for those ignored.
template <class T>
Variable<T> kept_rows(const ClassTargets& targets) {
  const std::size_t n = targets.labels.size();
  Tensor<T> mask = Tensor<T>::from_shape({n, std::size_t(1)});
  for (std::size_t i = 0; i < n; ++i) mask.data()[i] = targets.ignored(i) ? T(0) : T(1);
  return detail::constant(std::move(mask));
}

template <class T>
Variable<T> nll_with(const Variable<T>& log_probs, const std::shared_ptr<const ClassTargets>& targets);

// nll_loss's backward: -g / kept at each kept row's label, zeros elsewhere. Linear in g; its
// derivative with respect to g is nll_loss itself.
template <class T>
Variable<T> nll_backward(const Variable<T>& g, const std::shared_ptr<const ClassTargets>& targets) {
  const T scale = -g.value()() * static_cast<T>(targets->inverse_count());
  return detail::record<T>("nll_loss_backward", target_distribution<T>(*targets, scale), {g},
                           detail::saves_nothing(), [targets](Variable<T> u, const Variable<T>&) {
                             if (targets->kept == 0) return detail::single(detail::constant(Tensor<T>(T(0))));
                             return detail::single(nll_with(u, targets));
                           });
}

template <class T>
Variable<T> nll_with(const Variable<T>& log_probs, const std::shared_ptr<const ClassTargets>& targets) {
  const std::size_t classes = targets->classes;
  const T* xp = log_probs.value().data();
  const double total = detail::lane_sum(targets->labels.size(), [&](std::size_t i) {
    return targets->ignored(i) ? T(0) : -xp[i * classes + targets->label(i)];
  });
  return detail::record<T>("nll_loss", scalar_mean<T>(total, targets->kept), {log_probs}, detail::saves_nothing(),
                           [targets](Variable<T> g, const Variable<T>&) {
                             return detail::single(nll_backward(g, targets));
                           });
}

// cross_entropy's backward, (softmax(x) - q) * g / kept on the kept rows, from the softmax the
// forward kept. Its derivative is written with softmax itself, so it can be differentiated again.
template <class T>
Variable<T> cross_entropy_backward(const Variable<T>& g, const Variable<T>& logits, const Tensor<T>& p,
                                   const std::shared_ptr<const ClassTargets>& targets) {
  const std::size_t n = targets->labels.size(), classes = p.shape()[1];
  const T scale = g.value()() * static_cast<T>(targets->inverse_count());
  Tensor<T> gx = p * scale;
  T* gp = gx.data();
  if (targets->smoothing == 0 && targets->kept == n) {  // the training loop's case: one subtraction a row
    for (std::size_t i = 0; i < n; ++i) gp[i * classes + targets->label(i)] -= scale;
  } else {
    const Tensor<T> q = target_distribution<T>(*targets, scale);
    for (std::size_t i = 0; i < n; ++i) {
      T* row = gp + i * classes;
      if (targets->ignored(i)) std::fill(row, row + classes, T(0));
      else for (std::size_t c = 0; c < classes; ++c) row[c] -= q.data()[i * classes + c];
    }
  }
  return detail::record<T>(
      "cross_entropy_backward", std::move(gx), {g, logits}, detail::saves_inputs({0, 1}),
      [g, logits, targets, n](Variable<T> u, const Variable<T>&) {
        const T inv = static_cast<T>(targets->inverse_count());
        const Variable<T> p = softmax(logits, 1);
        const Variable<T> kept_u = targets->kept == n ? u : u * kept_rows<T>(*targets);  // ignored rows get nothing
        Gradients<T> grads(2);
        if (g.requires_grad()) {
          const Variable<T> q = detail::constant<T>(target_distribution<T>(*targets, T(1)));
          grads[0] = sum(kept_u * p - u * q) * inv;
        }
        if (logits.requires_grad()) grads[1] = p * (kept_u - sum(kept_u * p, {1}, true)) * (g * inv);
        return grads;
      });
}

}  // namespace

template <class T>
Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels) {
  return cross_entropy(logits, labels, CrossEntropyOptions{});
}

template <class T>
Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels, const CrossEntropyOptions& options) {
  const Tensor<T>& x = logits.value();
  auto targets = checked_targets("cross_entropy", "logits", x, labels, options);
  const std::size_t n = x.shape()[0], classes = x.shape()[1];
  const detail::AxisLayout layout{n, classes, 1};
  // p = exp(x - max) row by row; loss_i = log(sum_i) - sum_c q_ic (x_ic - max_i), finite at any
  // logits (q the target distribution, summing to 1).
  Tensor<T> p = Tensor<T>::from_shape(x.shape());
  std::vector<T> max(n), sum(n);
  detail::shifted_exp(x.data(), p.data(), layout, max.data(), sum.data());
  const T* xp = x.data();
  const ClassTargets& t = *targets;
  double total = 0;
  if (t.smoothing == 0 && t.kept == n) {  // the training loop's case: one logit a row
    total = detail::lane_sum(n, [&](std::size_t i) {
      return std::log(sum[i]) - (xp[i * classes + t.label(i)] - max[i]);
    });
  } else {
    const double on_label = 1 - t.smoothing, uniform = t.smoothing / static_cast<double>(classes);
    total = detail::lane_sum(n, [&](std::size_t i) {
      if (t.ignored(i)) return 0.0;
      const T* row = xp + i * classes;
      double row_sum = 0;
      if (uniform != 0) {
        for (std::size_t c = 0; c < classes; ++c) row_sum += static_cast<double>(row[c] - max[i]);
      }
      return std::log(static_cast<double>(sum[i])) - on_label * static_cast<double>(row[t.label(i)] - max[i]) -
             uniform * row_sum;
    });
  }
  Tensor<T> loss = scalar_mean<T>(total, t.kept);
  if (!will_record<T>({logits})) return detail::record<T>("cross_entropy", std::move(loss), {logits}, {}, nullptr);
  T* pp = p.data();  // normalise p into the softmax that backward needs
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < classes; ++c) pp[i * classes + c] /= sum[i];
  }
  return detail::record<T>("cross_entropy", std::move(loss), {logits}, detail::saves_inputs({0}),
                           [logits, p = std::move(p), targets](Variable<T> g, const Variable<T>&) {
                             return detail::single(cross_entropy_backward(g, logits, p, targets));
                           });
}

template <class T>
Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels) {
  return nll_loss(log_probs, labels, CrossEntropyOptions{});
}

template <class T>
Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels, const CrossEntropyOptions& options) {
  if (options.label_smoothing != 0) {
    fail("nll_loss", "label_smoothing {} is not supported (PyTorch's nll_loss has none): use cross_entropy",
         options.label_smoothing);
  }
  return nll_with(log_probs, checked_targets("nll_loss", "log_probs", log_probs.value(), labels, options));
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
  template Variable<T> cross_entropy(const Variable<T>&, const Labels&);          \
  template Variable<T> cross_entropy(const Variable<T>&, const Labels&, const CrossEntropyOptions&); \
  template Variable<T> nll_loss(const Variable<T>&, const Labels&);               \
  template Variable<T> nll_loss(const Variable<T>&, const Labels&, const CrossEntropyOptions&); \
  template Variable<T> binary_cross_entropy_with_logits(const Variable<T>&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
