// Gradient clipping by total norm: torch.nn.utils.clip_grad_norm_.
#pragma once

#include <limits>
#include <vector>

#include "../core/variable.hpp"

namespace tg::optim {

// Computes the norm of all gradients of `params` together, as if concatenated into one vector
// (norm_type = p > 0, or infinity for the largest absolute value); parameters without a
// gradient are skipped. With coef = max_norm / (total + 1e-6), every gradient is scaled by coef
// when coef < 1, exactly PyTorch's clamp(coef, max = 1) (a NaN total scales by NaN, as there).
// Returns the total norm before clipping (0 when no parameter has a gradient).
// With error_if_nonfinite, a NaN or infinite total throws std::runtime_error and changes nothing.
template <class T>
double clip_grad_norm(const std::vector<Variable<T>>& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

}  // namespace tg::optim
