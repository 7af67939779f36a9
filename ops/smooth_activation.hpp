// Smooth activations: GELU, SiLU and softplus, with PyTorch's values and gradients.
#pragma once

#include "../core/variable.hpp"

namespace tg {

// a * Phi(a) = a / 2 * (1 + erf(a / sqrt(2))), the exact (erf) form of torch.nn.functional.gelu.
template <class T> Variable<T> gelu(const Variable<T>& a);

// a * sigmoid(a) (torch.nn.functional.silu, also called swish).
template <class T> Variable<T> silu(const Variable<T>& a);

// log(1 + exp(beta * a)) / beta, and a itself where beta * a > threshold (linear there, as
// torch.nn.functional.softplus, whose gradient there is 1).
template <class T> Variable<T> softplus(const Variable<T>& a, Scalar<T> beta = T(1), Scalar<T> threshold = T(20));

}  // namespace tg
