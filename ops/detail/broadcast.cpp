#include "broadcast.hpp"

#include <xtensor/xreducer.hpp>

namespace tg {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {  // align from the trailing dimension
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail(op, "shapes {} and {} cannot be broadcast together (dimension {} is {} vs {})", format_shape(a),
           format_shape(b), i, da, db);
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

template <class T>
Tensor<T> unbroadcast(const Tensor<T>& grad, const Shape& shape) {
  if (std::equal(grad.shape().begin(), grad.shape().end(), shape.begin(), shape.end())) return grad;
  const std::size_t lead = grad.dimension() - shape.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < grad.dimension(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && grad.shape()[i] != 1)) axes.push_back(i);
  }
  Tensor<T> summed = xt::sum(grad, axes, xt::evaluation_strategy::immediate);
  summed.reshape(shape);
  return summed;
}

template Tensor<float> unbroadcast<float>(const Tensor<float>&, const Shape&);
template Tensor<double> unbroadcast<double>(const Tensor<double>&, const Shape&);

}  // namespace tg
