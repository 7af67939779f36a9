#include "dropout.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <xtensor/xoperation.hpp>

#include "../core/errors.hpp"
#include "../core/detail/instantiate.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"

namespace tg {

template <class T>
Variable<T> dropout(const Variable<T>& a, Scalar<T> p, bool training, Generator& gen) {
  if (!(p >= T(0) && p <= T(1))) fail("dropout", "probability p must be in [0, 1], got {}", p);
  if (!training || p == T(0)) return a;
  const Tensor<T>& x = a.value();
  // mask[i] is 0 (dropped) or 1 / (1 - p) (kept): the output is x * mask, and so is the gradient.
  Tensor<T> mask = Tensor<T>::from_shape(x.shape());
  T* m = mask.data();
  const std::size_t n = mask.size();
  if (p == T(1)) {
    std::fill(m, m + n, T(0));
  } else {
    const T scale = T(1) / (T(1) - p);
    // Element i is dropped when u_i < p, u_i = (gen.next() >> 11) / 2^53 uniform in [0, 1): in integers,
    // (gen.next() >> 11) < ceil(p * 2^53). Draws go to a small buffer first and the comparison runs
    // as a separate branch-free loop: a data-dependent branch per element costs 5x more.
    const auto threshold = static_cast<std::uint64_t>(std::ceil(static_cast<double>(p) * 0x1.0p53));
    // One lock for the whole mask (the generator may be shared between threads).
    constexpr std::size_t chunk = 1024;
    std::uint64_t bits[chunk];
    auto draws = gen.draws();
    std::mt19937_64& engine = draws.engine();
    for (std::size_t start = 0; start < n; start += chunk) {
      const std::size_t len = std::min(chunk, n - start);
      for (std::size_t j = 0; j < len; ++j) bits[j] = engine() >> 11;
      T* mc = m + start;
      for (std::size_t j = 0; j < len; ++j) mc[j] = static_cast<T>(bits[j] >= threshold) * scale;
    }
  }
  Tensor<T> y = x * mask;
  // The mask is the op's own (drawn here, never seen outside), so it is kept as a constant.
  return detail::record<T>("dropout", std::move(y), {a}, detail::saves_nothing(),
                           [mask = detail::constant<T>(std::move(mask))](Variable<T> g, const Variable<T>&) {
                             return detail::single(g * mask);
                           });
}

#define TG_FUNCTIONS(T) template Variable<T> dropout(const Variable<T>&, Scalar<T>, bool, Generator&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
