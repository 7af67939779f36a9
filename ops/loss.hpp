// Losses with PyTorch's default mean reduction; each returns a 0-d Variable.
#pragma once

#include <cstdint>

#include "../core/variable.hpp"

namespace tg {

// Options of cross_entropy and nll_loss, as PyTorch's keyword arguments: rows whose label is
// ignore_index leave the loss (the mean is over the other rows; with none left the loss is NaN and
// the gradient zero, as in PyTorch); label_smoothing eps in [0, 1] mixes the one-hot target with
// the uniform distribution, (1 - eps) onehot + eps / C (cross_entropy only).
struct CrossEntropyOptions {
  std::int64_t ignore_index = -100;
  double label_smoothing = 0;
};

// mean((pred - target)^2) over the broadcast shape of pred and target (PyTorch broadcasts too);
// gradients flow to both where they require grad.
template <class T> Variable<T> mse_loss(const Variable<T>& pred, const Variable<T>& target);

// Fused, numerically stable log_softmax + NLL over logits (N, C) and N labels in [0, C):
// mean_i(logsumexp(logits_i) - logits_i[label_i]). Its backward is (softmax - onehot) / N.
// Labels equal to -100 are ignored (PyTorch's default ignore_index); others out of range throw.
template <class T> Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels);
// The same with ignore_index and label smoothing; backward (softmax - target distribution) / N.
template <class T>
Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels, const CrossEntropyOptions& options);

// -mean_i(log_probs_i[label_i]) over log-probabilities (N, C) and N labels in [0, C).
// Labels equal to -100 are ignored, as in cross_entropy.
template <class T> Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels);
// The same with ignore_index; a nonzero label_smoothing is refused (PyTorch's nll_loss has none).
template <class T>
Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels, const CrossEntropyOptions& options);

// mean(max(x, 0) - x * t + log1p(exp(-|x|))) over logits x and targets t of the same shape
// (PyTorch refuses other shapes too). Finite for any finite logits; targets get -x / N where they
// require grad.
template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logits, const Variable<T>& targets);

// mean(|pred - target|) over the broadcast shape; the gradient at pred == target is 0, as PyTorch's.
template <class T> Variable<T> l1_loss(const Variable<T>& pred, const Variable<T>& target);

// mean over the broadcast shape of 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with
// d = pred - target and delta > 0 (PyTorch's huber_loss); gradient clamp(d, -delta, delta) / N.
template <class T>
Variable<T> huber_loss(const Variable<T>& pred, const Variable<T>& target, Scalar<T> delta = 1);

// mean(-(t log p + (1 - t) log(1 - p))) over probabilities p in [0, 1] and targets t of the same
// shape, each log clamped to >= -100 as PyTorch does (so p = 0 or 1 gives a finite loss). The
// gradients are PyTorch's: (p - t) / max(p (1 - p), 1e-12) / N for p, -logit(p) / N for t.
template <class T> Variable<T> binary_cross_entropy(const Variable<T>& probs, const Variable<T>& targets);

}  // namespace tg
