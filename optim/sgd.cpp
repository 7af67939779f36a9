#include "sgd.hpp"

#include "../core/errors.hpp"

namespace tg::optim {

namespace {

SGDOptions checked(SGDOptions o) {
  detail::require_non_negative("SGD", "learning rate", o.lr);
  detail::require_non_negative("SGD", "momentum", o.momentum);
  detail::require_non_negative("SGD", "weight_decay", o.weight_decay);
  detail::require_non_negative("SGD", "dampening", o.dampening);
  if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0)) {
    fail("SGD", "nesterov momentum requires momentum > 0 and dampening = 0 (got momentum {}, dampening {})",
         o.momentum, o.dampening);
  }
  return o;
}

}  // namespace

template <class T>
SGD<T>::SGD(std::vector<Variable<T>> params, SGDOptions options)
    : Optimizer<T>("SGD", std::move(params), checked(options).lr), options_(options) {}

template <class T>
SGDOptions SGD<T>::options() const {
  SGDOptions o = options_;
  o.lr = this->lr();
  return o;
}

template <class T>
void SGD<T>::step() {
  const T lr = static_cast<T>(this->lr());
  const T wd = static_cast<T>(options_.weight_decay);
  const T momentum = static_cast<T>(options_.momentum);
  const T keep = static_cast<T>(1.0 - options_.dampening);
  const bool nesterov = options_.nesterov;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    const Tensor<T>* grad = this->grad_of(i);
    if (!grad) continue;
    T* p = this->params_[i].value().data();
    const T* g = grad->data();
    const std::size_t n = grad->size();
    if (options_.momentum == 0.0) {
      for (std::size_t k = 0; k < n; ++k) p[k] -= lr * (g[k] + wd * p[k]);
      continue;
    }
    Tensor<T>* existing = this->find_buffer(i, "momentum_buffer");
    const bool first = existing == nullptr;
    T* buf = (first ? &this->buffer(i, "momentum_buffer") : existing)->data();
    for (std::size_t k = 0; k < n; ++k) {
      const T d = g[k] + wd * p[k];
      const T b = first ? d : momentum * buf[k] + keep * d;
      buf[k] = b;
      p[k] -= lr * (nesterov ? d + momentum * b : b);
    }
  }
}

template class SGD<float>;
template class SGD<double>;

}  // namespace tg::optim
