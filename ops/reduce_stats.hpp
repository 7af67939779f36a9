// Statistical reductions: variance and log-sum-exp, like PyTorch's.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// Variance over `axes` (negative counts from the end; empty = every axis): the mean squared
// deviation, divided by N - 1 when unbiased (Bessel's correction), by N otherwise, like torch.var.
// N - 1 = 0 gives NaN, as in PyTorch.
template <class T>
Variable<T> var(const Variable<T>& a, const Axes& axes, bool unbiased = true, bool keepdim = false);

// log(sum(exp(a))) along `axis`, computed stably (finite for logits of +-1000; all -inf gives -inf),
// like torch.logsumexp. Its gradient is softmax(a) along the axis.
template <class T> Variable<T> logsumexp(const Variable<T>& a, int axis, bool keepdim = false);

}  // namespace tg
