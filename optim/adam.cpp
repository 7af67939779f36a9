#include "adam.hpp"

#include <algorithm>
#include <cmath>

#include "adamw.hpp"
#include "../core/detail/cpu.hpp"

namespace tg::optim {

AdamOptions adamw_defaults() {
  AdamOptions o;
  o.weight_decay = 0.01;
  return o;
}

namespace {

AdamOptions checked(const char* name, AdamOptions o) {
  detail::require_non_negative(name, "learning rate", o.lr);
  detail::require_unit_interval(name, "beta1", o.beta1);
  detail::require_unit_interval(name, "beta2", o.beta2);
  detail::require_non_negative(name, "eps", o.eps);
  detail::require_non_negative(name, "weight_decay", o.weight_decay);
  return o;
}

// One parameter's update; the per-step constants in T, as the per-element arithmetic is.
template <class T>
struct AdamStep {
  T beta1, beta2, one_minus_beta1, one_minus_beta2, eps, l2, shrink, step_size, bias_correction2_sqrt;
};

// The constants are copied out of `s` first: the stores to m, v and p could otherwise alias them,
// and GCC would not vectorise the loop.
template <class T>
TG_KERNEL_INLINE void update_kernel(const AdamStep<T>& s, const T* g, std::size_t n, T* m, T* v, T* v_max, T* p) {
  const T beta1 = s.beta1, beta2 = s.beta2, a1 = s.one_minus_beta1, a2 = s.one_minus_beta2, eps = s.eps;
  const T l2 = s.l2, shrink = s.shrink, step_size = s.step_size, bc2 = s.bias_correction2_sqrt;
  for (std::size_t k = 0; k < n; ++k) {
    const T gk = g[k] + l2 * p[k];
    m[k] = beta1 * m[k] + a1 * gk;
    v[k] = beta2 * v[k] + a2 * gk * gk;
    T second = v[k];
    if (v_max) second = v_max[k] = std::max(v_max[k], second);
    p[k] = p[k] * shrink - step_size * m[k] / (std::sqrt(second) / bc2 + eps);
  }
}
TG_AVX512_CLONES void update(const AdamStep<float>& s, const float* g, std::size_t n, float* m, float* v, float* v_max,
                             float* p) {
  update_kernel(s, g, n, m, v, v_max, p);
}
TG_AVX512_CLONES void update(const AdamStep<double>& s, const double* g, std::size_t n, double* m, double* v,
                             double* v_max, double* p) {
  update_kernel(s, g, n, m, v, v_max, p);
}

}  // namespace

template <class T>
Adam<T>::Adam(std::vector<Variable<T>> params, AdamOptions options) : Adam("Adam", false, std::move(params), options) {}

template <class T>
Adam<T>::Adam(const char* name, bool decoupled, std::vector<Variable<T>> params, AdamOptions options)
    : detail::ConfiguredOptimizer<T, AdamOptions>(name, std::move(params), checked(name, options)),
      decoupled_(decoupled) {}

template <class T>
void Adam<T>::step() {
  const double lr = this->lr();
  AdamStep<T> s;
  s.beta1 = static_cast<T>(options_.beta1);
  s.beta2 = static_cast<T>(options_.beta2);
  s.one_minus_beta1 = static_cast<T>(1.0 - options_.beta1);
  s.one_minus_beta2 = static_cast<T>(1.0 - options_.beta2);
  s.eps = static_cast<T>(options_.eps);
  s.l2 = decoupled_ ? T(0) : static_cast<T>(options_.weight_decay);
  s.shrink = static_cast<T>(decoupled_ ? 1.0 - lr * options_.weight_decay : 1.0);
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    const Tensor<T>* grad = this->grad_of(i);
    if (!grad) continue;
    const double t = static_cast<double>(++this->states_[i].step);
    s.step_size = static_cast<T>(lr / (1.0 - std::pow(options_.beta1, t)));
    s.bias_correction2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(options_.beta2, t)));
    T* m = this->buffer(i, "exp_avg").data();
    T* v = this->buffer(i, "exp_avg_sq").data();
    T* v_max = options_.amsgrad ? this->buffer(i, "max_exp_avg_sq").data() : nullptr;
    update(s, grad->data(), grad->size(), m, v, v_max, this->params_[i].value().data());
  }
}

template class Adam<float>;
template class Adam<double>;

}  // namespace tg::optim
