#include "dropout.hpp"

#include <algorithm>

#include <xtensor/xoperation.hpp>

#include "../core/errors.hpp"
#include "../core/record_op.hpp"

namespace tg {

template <class T>
Variable<T> dropout(const Variable<T>& a, detail::identity_t<T> p, bool training, Generator& gen) {
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
    const double drop = static_cast<double>(p);
    for (std::size_t i = 0; i < n; ++i) {
      const double u = static_cast<double>(gen.next() >> 11) * 0x1.0p-53;  // uniform in [0, 1), 53 bits
      m[i] = u < drop ? T(0) : scale;
    }
  }
  Tensor<T> y = x * mask;
  return record_op<T>("dropout", std::move(y), {a}, [mask = std::move(mask)](const Tensor<T>& g) {
    return std::vector<Tensor<T>>{Tensor<T>(g * mask)};
  });
}

template Variable<float> dropout(const Variable<float>&, detail::identity_t<float>, bool, Generator&);
template Variable<double> dropout(const Variable<double>&, detail::identity_t<double>, bool, Generator&);

}  // namespace tg
