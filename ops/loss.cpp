#include "loss.hpp"

#include <cmath>
#include <cstdint>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "detail/broadcast.hpp"
#include "detail/softmax_kernel.hpp"
#include "detail/grads.hpp"

namespace tg {
namespace {

template <class T>
using Grads = std::vector<Tensor<T>>;

// Sum of n values, accumulated in double over 8 independent lanes (accurate, and the lanes
// vectorise without reassociating anything).
template <class T, class F>
double sum_of(std::size_t n, F value) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t j = 0; j < 8; ++j) lanes[j] += static_cast<double>(value(i + j));
  }
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(value(i));
  for (double lane : lanes) total += lane;
  return total;
}

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

}  // namespace

template <class T>
Variable<T> mse_loss(const Variable<T>& pred, const Variable<T>& target) {
  broadcast_shapes("mse_loss", pred.shape(), target.shape());
  Tensor<T> diff = pred.value() - target.value();
  const std::size_t count = diff.size();
  const T* d = diff.data();
  Tensor<T> loss = scalar_mean<T>(sum_of<T>(count, [d](std::size_t i) { return d[i] * d[i]; }), count);
  return record_op<T>("mse_loss", std::move(loss), {pred, target},
                      [pred, target, diff = std::move(diff), count](const Tensor<T>& g) {
                        const T scale = T(2) * g.data()[0] / static_cast<T>(count);
                        Tensor<T> gd = diff * scale;
                        Grads<T> grads(2);
                        if (pred.requires_grad()) grads[0] = unbroadcast<T>(gd, pred.shape());
                        if (target.requires_grad()) grads[1] = unbroadcast<T>(Tensor<T>(-gd), target.shape());
                        return grads;
                      });
}

template <class T>
Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels) {
  const Tensor<T>& x = logits.value();
  check_classification("cross_entropy", "logits", x, labels);
  const std::size_t n = x.shape()[0], classes = x.shape()[1];
  const detail::AxisLayout layout{n, classes, 1};
  // p = exp(x - max) row by row; loss_i = log(sum_i) - (x_i[label] - max_i), finite at any logits.
  Tensor<T> p = Tensor<T>::from_shape(x.shape());
  std::vector<T> max(n), sum(n);
  detail::shifted_exp(x.data(), p.data(), layout, max.data(), sum.data());
  const T* xp = x.data();
  const double total = sum_of<T>(n, [&](std::size_t i) {
    return std::log(sum[i]) - (xp[i * classes + static_cast<std::size_t>(labels[i])] - max[i]);
  });
  Tensor<T> loss = scalar_mean<T>(total, n);
  if (will_record<T>({logits})) {  // normalise p into the softmax that backward needs
    T* pp = p.data();
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < classes; ++c) pp[i * classes + c] /= sum[i];
    }
  } else {
    p = Tensor<T>();
  }
  return record_op<T>("cross_entropy", std::move(loss), {logits},
                      [p = std::move(p), labels, n, classes](const Tensor<T>& g) {
                        const T scale = g.data()[0] / static_cast<T>(n);
                        Tensor<T> gx = p * scale;  // (softmax - onehot) * g / N
                        T* gp = gx.data();
                        for (std::size_t i = 0; i < n; ++i) gp[i * classes + static_cast<std::size_t>(labels[i])] -= scale;
                        return detail::single_grad<T>(std::move(gx));
                      });
}

template <class T>
Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels) {
  const Tensor<T>& x = log_probs.value();
  check_classification("nll_loss", "log_probs", x, labels);
  const std::size_t n = x.shape()[0], classes = x.shape()[1];
  const T* xp = x.data();
  const double total =
      sum_of<T>(n, [&](std::size_t i) { return -xp[i * classes + static_cast<std::size_t>(labels[i])]; });
  return record_op<T>("nll_loss", scalar_mean<T>(total, n), {log_probs},
                      [labels, n, classes](const Tensor<T>& g) {
                        const T scale = g.data()[0] / static_cast<T>(n);
                        Tensor<T> gx = xt::zeros<T>({n, classes});
                        T* gp = gx.data();
                        for (std::size_t i = 0; i < n; ++i) gp[i * classes + static_cast<std::size_t>(labels[i])] = -scale;
                        return detail::single_grad<T>(std::move(gx));
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
  Tensor<T> terms = xt::maximum(x, T(0)) - x * t + xt::log1p(xt::exp(-xt::abs(x)));
  const T* tp = terms.data();
  const std::size_t count = terms.size();
  Tensor<T> loss = scalar_mean<T>(sum_of<T>(count, [tp](std::size_t i) { return tp[i]; }), count);
  return record_op<T>("binary_cross_entropy_with_logits", std::move(loss), {logits, targets},
                      [logits, targets, count](const Tensor<T>& g) {
                        const T scale = g.data()[0] / static_cast<T>(count);
                        const Tensor<T>& x = logits.value();
                        Grads<T> grads(2);
                        if (logits.requires_grad()) {
                          // sigmoid(x) from e = exp(-|x|), which never overflows.
                          Tensor<T> e = xt::exp(-xt::abs(x));
                          Tensor<T> s = xt::where(x >= T(0), T(1), e) / (T(1) + e);
                          grads[0] = (s - targets.value()) * scale;
                        }
                        if (targets.requires_grad()) grads[1] = -x * scale;
                        return grads;
                      });
}

// Explicit instantiations: the library provides every op for float and double.
template Variable<float> mse_loss(const Variable<float>&, const Variable<float>&);
template Variable<float> cross_entropy(const Variable<float>&, const Labels&);
template Variable<float> nll_loss(const Variable<float>&, const Labels&);
template Variable<float> binary_cross_entropy_with_logits(const Variable<float>&, const Variable<float>&);
template Variable<double> mse_loss(const Variable<double>&, const Variable<double>&);
template Variable<double> cross_entropy(const Variable<double>&, const Labels&);
template Variable<double> nll_loss(const Variable<double>&, const Labels&);
template Variable<double> binary_cross_entropy_with_logits(const Variable<double>&, const Variable<double>&);

}  // namespace tg
