#include "sgd.hpp"

#include "../core/detail/cpu.hpp"
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

// One parameter's update. The constants are T, as the per-element arithmetic is.
template <class T>
struct SGDStep {
  T lr, wd, momentum, keep;
  bool nesterov;
};

// p -= lr (g + wd p), without momentum.
template <class T>
TG_KERNEL_INLINE void plain_update_kernel(const SGDStep<T>& s, const T* g, std::size_t n, T* p) {
  const T lr = s.lr, wd = s.wd;  // locals: the stores to p could otherwise alias s
  for (std::size_t k = 0; k < n; ++k) p[k] -= lr * (g[k] + wd * p[k]);
}
TG_AVX512_CLONES void plain_update(const SGDStep<float>& s, const float* g, std::size_t n, float* p) {
  plain_update_kernel(s, g, n, p);
}
TG_AVX512_CLONES void plain_update(const SGDStep<double>& s, const double* g, std::size_t n, double* p) {
  plain_update_kernel(s, g, n, p);
}

// With momentum: the buffer starts as the first step's d = g + wd p (`first`), then follows
// buf = momentum buf + keep d.
template <class T>
TG_KERNEL_INLINE void momentum_update_kernel(const SGDStep<T>& s, bool first, const T* g, std::size_t n, T* buf,
                                             T* p) {
  const T lr = s.lr, wd = s.wd, momentum = s.momentum, keep = s.keep;
  const bool nesterov = s.nesterov;
  for (std::size_t k = 0; k < n; ++k) {
    const T d = g[k] + wd * p[k];
    const T b = first ? d : momentum * buf[k] + keep * d;
    buf[k] = b;
    p[k] -= lr * (nesterov ? d + momentum * b : b);
  }
}
TG_AVX512_CLONES void momentum_update(const SGDStep<float>& s, bool first, const float* g, std::size_t n, float* buf,
                                      float* p) {
  momentum_update_kernel(s, first, g, n, buf, p);
}
TG_AVX512_CLONES void momentum_update(const SGDStep<double>& s, bool first, const double* g, std::size_t n,
                                      double* buf, double* p) {
  momentum_update_kernel(s, first, g, n, buf, p);
}

}  // namespace

template <class T>
SGD<T>::SGD(std::vector<Variable<T>> params, SGDOptions options)
    : detail::ConfiguredOptimizer<T, SGDOptions>("SGD", std::move(params), checked(options)) {}

template <class T>
void SGD<T>::step() {
  const SGDStep<T> s{static_cast<T>(this->lr()), static_cast<T>(options_.weight_decay),
                     static_cast<T>(options_.momentum), static_cast<T>(1.0 - options_.dampening), options_.nesterov};
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    const Tensor<T>* grad = this->grad_of(i);
    if (!grad) continue;
    T* p = this->params_[i].value().data();
    const T* g = grad->data();
    const std::size_t n = grad->size();
    if (options_.momentum == 0.0) {
      plain_update(s, g, n, p);
      continue;
    }
    Tensor<T>* existing = this->find_buffer(i, "momentum_buffer");
    const bool first = existing == nullptr;
    momentum_update(s, first, g, n, (first ? &this->buffer(i, "momentum_buffer") : existing)->data(), p);
  }
}

template class SGD<float>;
template class SGD<double>;

}  // namespace tg::optim
