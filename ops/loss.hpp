// Losses with PyTorch's default mean reduction; each returns a 0-d Variable.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// mean((pred - target)^2) over the broadcast shape of pred and target (PyTorch broadcasts too);
// gradients flow to both where they require grad.
template <class T> Variable<T> mse_loss(const Variable<T>& pred, const Variable<T>& target);

// Fused, numerically stable log_softmax + NLL over logits (N, C) and N labels in [0, C):
// mean_i(logsumexp(logits_i) - logits_i[label_i]). Its backward is (softmax - onehot) / N.
template <class T> Variable<T> cross_entropy(const Variable<T>& logits, const Labels& labels);

// -mean_i(log_probs_i[label_i]) over log-probabilities (N, C) and N labels in [0, C).
template <class T> Variable<T> nll_loss(const Variable<T>& log_probs, const Labels& labels);

// mean(max(x, 0) - x * t + log1p(exp(-|x|))) over logits x and targets t of the same shape
// (PyTorch refuses other shapes too). Finite for any finite logits; targets get -x / N where they
// require grad.
template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logits, const Variable<T>& targets);

}  // namespace tg
