#include "rmsprop.hpp"

#include <cmath>

namespace tg::optim {

namespace {

RMSpropOptions checked(RMSpropOptions o) {
  require_non_negative("RMSprop", "learning rate", o.lr);
  require_non_negative("RMSprop", "alpha", o.alpha);
  require_non_negative("RMSprop", "eps", o.eps);
  require_non_negative("RMSprop", "weight_decay", o.weight_decay);
  require_non_negative("RMSprop", "momentum", o.momentum);
  return o;
}

}  // namespace

template <class T>
RMSprop<T>::RMSprop(std::vector<Variable<T>> params, RMSpropOptions options)
    : Optimizer<T>("RMSprop", std::move(params), checked(options).lr), options_(options) {}

template <class T>
RMSpropOptions RMSprop<T>::options() const {
  RMSpropOptions o = options_;
  o.lr = this->lr();
  return o;
}

template <class T>
void RMSprop<T>::step() {
  const T lr = static_cast<T>(this->lr());
  const T alpha = static_cast<T>(options_.alpha), one_minus_alpha = static_cast<T>(1.0 - options_.alpha);
  const T eps = static_cast<T>(options_.eps);
  const T wd = static_cast<T>(options_.weight_decay);
  const T momentum = static_cast<T>(options_.momentum);
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    const Tensor<T>* grad = this->grad_of(i);
    if (!grad) continue;
    ++this->states_[i].step;
    T* p = this->params_[i].value().data();
    const T* g = grad->data();
    T* s = this->buffer(i, "square_avg").data();
    T* a = options_.centered ? this->buffer(i, "grad_avg").data() : nullptr;
    T* buf = options_.momentum > 0.0 ? this->buffer(i, "momentum_buffer").data() : nullptr;
    const std::size_t n = grad->size();
    for (std::size_t k = 0; k < n; ++k) {
      const T gk = g[k] + wd * p[k];
      s[k] = alpha * s[k] + one_minus_alpha * gk * gk;
      T avg;
      if (a) {
        a[k] = alpha * a[k] + one_minus_alpha * gk;
        avg = std::sqrt(s[k] - a[k] * a[k]) + eps;
      } else {
        avg = std::sqrt(s[k]) + eps;
      }
      if (buf) {
        buf[k] = momentum * buf[k] + gk / avg;
        p[k] -= lr * buf[k];
      } else {
        p[k] -= lr * gk / avg;
      }
    }
  }
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace tg::optim
