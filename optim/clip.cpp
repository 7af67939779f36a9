#include "clip.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "../core/errors.hpp"

namespace tg::optim {

namespace {

// The sum of f(g[k]) in double, kept in 8 independent partial sums so the loop vectorises.
template <class T, class F>
double sum_of(const T* g, std::size_t n, F f) {
  double part[8] = {};
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (std::size_t j = 0; j < 8; ++j) part[j] += f(static_cast<double>(g[k + j]));
  }
  for (; k < n; ++k) part[0] += f(static_cast<double>(g[k]));
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

}  // namespace

template <class T>
double clip_grad_norm(const std::vector<Variable<T>>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
  if (!(max_norm >= 0.0)) fail("clip_grad_norm", "invalid max_norm {} (must be >= 0)", max_norm);
  if (!(norm_type > 0.0)) fail("clip_grad_norm", "invalid norm_type {} (must be > 0, or infinity)", norm_type);
  const bool inf_norm = std::isinf(norm_type);
  double acc = 0.0;  // the largest |g| for the infinity norm, else the sum of |g|^p
  for (const auto& p : params) {
    if (!p.has_grad()) continue;
    const Tensor<T>& grad = p.grad();
    const T* g = grad.data();
    const std::size_t n = grad.size();
    if (inf_norm) {
      for (std::size_t k = 0; k < n; ++k) {
        const double a = std::abs(static_cast<double>(g[k]));
        if (a > acc || std::isnan(a)) acc = a;  // a NaN sticks, as in PyTorch's norm
      }
    } else if (norm_type == 2.0) {
      acc += sum_of(g, n, [](double x) { return x * x; });
    } else if (norm_type == 1.0) {
      acc += sum_of(g, n, [](double x) { return std::abs(x); });
    } else {
      acc += sum_of(g, n, [norm_type](double x) { return std::pow(std::abs(x), norm_type); });
    }
  }
  const double total = inf_norm || norm_type == 1.0 ? acc : norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total)) {
    throw std::runtime_error(fmt::format(
        "clip_grad_norm: the total norm of order {} of the gradients is {}, so they cannot be clipped", norm_type, total));
  }
  const double coef = max_norm / (total + 1e-6);
  if (!(coef >= 1.0)) {
    const T c = static_cast<T>(coef);
    for (const auto& p : params) {
      if (!p.has_grad()) continue;
      Variable<T> handle = p.grad_variable();
      Tensor<T>& grad = handle.value();  // scaled in place, as PyTorch's clip_grad_norm_
      T* g = grad.data();
      for (std::size_t k = 0, n = grad.size(); k < n; ++k) g[k] *= c;
    }
  }
  return total;
}

template double clip_grad_norm<float>(const std::vector<Variable<float>>&, double, double, bool);
template double clip_grad_norm<double>(const std::vector<Variable<double>>&, double, double, bool);

}  // namespace tg::optim
