// Activations: elementwise nonlinearities and the (log-)softmax along an axis, with PyTorch's
// values and its gradients at the kinks.
#pragma once

#include "../core/variable.hpp"

namespace tg {

template <class T> Variable<T> sigmoid(const Variable<T>& a);
template <class T> Variable<T> tanh(const Variable<T>& a);

// max(a, 0); the gradient at exactly 0 is 0, like PyTorch.
template <class T> Variable<T> relu(const Variable<T>& a);

// a > 0 ? a : slope * a; the gradient at exactly 0 is `slope`, like PyTorch.
// The scalar converts to T, so `leaky_relu(x, 0.2)` works for float x.
template <class T> Variable<T> leaky_relu(const Variable<T>& a, Scalar<T> slope = T(0.01));

// a > 0 ? a : alpha * (exp(a) - 1); the gradient at exactly 0 is `alpha`, like PyTorch.
template <class T> Variable<T> elu(const Variable<T>& a, Scalar<T> alpha = T(1));

// Along `axis` (negative counts from the end), any number of dimensions. Numerically stable: the
// maximum along the axis is subtracted first, so logits of +-1000 give finite values and gradients.
// An out-of-range axis is a std::invalid_argument naming the function.
template <class T> Variable<T> softmax(const Variable<T>& a, int axis = -1);
template <class T> Variable<T> log_softmax(const Variable<T>& a, int axis = -1);

}  // namespace tg
