// The gradient list of a one-input op, built without a copy.
#pragma once

#include <utility>
#include <vector>

#include "../../core/tensor.hpp"

namespace tg::detail {

// `std::vector<Tensor<T>>{std::move(g)}` would copy g: an initializer_list's elements are const.
// This moves it, which matters when g is a whole batch of activations.
template <class T>
std::vector<Tensor<T>> single_grad(Tensor<T>&& g) {
  std::vector<Tensor<T>> grads;
  grads.reserve(1);
  grads.push_back(std::move(g));
  return grads;
}

}  // namespace tg::detail
