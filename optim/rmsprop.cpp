#include "rmsprop.hpp"

#include <cmath>

namespace tg::optim {

namespace {

RMSpropOptions checked(RMSpropOptions o) {
  detail::require_non_negative("RMSprop", "learning rate", o.lr);
  detail::require_non_negative("RMSprop", "alpha", o.alpha);
  detail::require_non_negative("RMSprop", "eps", o.eps);
  detail::require_non_negative("RMSprop", "weight_decay", o.weight_decay);
  detail::require_non_negative("RMSprop", "momentum", o.momentum);
  return o;
}

}  // namespace

template <class T>
RMSprop<T>::RMSprop(std::vector<Variable<T>> params, RMSpropOptions options)
    : detail::ConfiguredOptimizer<T, RMSpropOptions>("RMSprop", std::move(params), checked(options)) {}

namespace {

// One parameter's update; the variants are separate loops so that each one vectorises.
template <bool Centered, bool Momentum, class T>
void rmsprop_kernel(T* p, const T* g, T* s, T* a, T* buf, std::size_t n, T lr, T alpha, T eps, T wd, T momentum) {
  const T one_minus_alpha = T(1) - alpha;
  for (std::size_t k = 0; k < n; ++k) {
    const T gk = g[k] + wd * p[k];
    s[k] = alpha * s[k] + one_minus_alpha * gk * gk;
    T avg;
    if constexpr (Centered) {
      a[k] = alpha * a[k] + one_minus_alpha * gk;
      avg = std::sqrt(s[k] - a[k] * a[k]) + eps;
    } else {
      avg = std::sqrt(s[k]) + eps;
    }
    if constexpr (Momentum) {
      buf[k] = momentum * buf[k] + gk / avg;
      p[k] -= lr * buf[k];
    } else {
      p[k] -= lr * gk / avg;
    }
  }
}

}  // namespace

template <class T>
void RMSprop<T>::step() {
  const T lr = static_cast<T>(this->lr());
  const T alpha = static_cast<T>(options_.alpha), eps = static_cast<T>(options_.eps);
  const T wd = static_cast<T>(options_.weight_decay), momentum = static_cast<T>(options_.momentum);
  const bool centered = options_.centered, with_momentum = options_.momentum > 0.0;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    const Tensor<T>* grad = this->grad_of(i);
    if (!grad) continue;
    ++this->states_[i].step;
    T* p = this->params_[i].value().data();
    const T* g = grad->data();
    T* s = this->buffer(i, "square_avg").data();
    T* a = centered ? this->buffer(i, "grad_avg").data() : nullptr;
    T* buf = with_momentum ? this->buffer(i, "momentum_buffer").data() : nullptr;
    const std::size_t n = grad->size();
    if (centered && with_momentum) rmsprop_kernel<true, true>(p, g, s, a, buf, n, lr, alpha, eps, wd, momentum);
    else if (centered) rmsprop_kernel<true, false>(p, g, s, a, buf, n, lr, alpha, eps, wd, momentum);
    else if (with_momentum) rmsprop_kernel<false, true>(p, g, s, a, buf, n, lr, alpha, eps, wd, momentum);
    else rmsprop_kernel<false, false>(p, g, s, a, buf, n, lr, alpha, eps, wd, momentum);
  }
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace tg::optim
