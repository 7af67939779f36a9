#include "shape.hpp"

#include <algorithm>

#include "../core/record_op.hpp"
#include "detail/axis_check.hpp"
#include "detail/shape_kernels.hpp"
#include "detail/grads.hpp"
#include "../core/detail/parallel.hpp"

namespace tg {
namespace {

template <class T>
using Grads = std::vector<Tensor<T>>;

// A copy of `t` with a new shape of the same size, split over the threads when large (Flatten
// copies every inference batch).
template <class T>
Tensor<T> reshaped(const Tensor<T>& t, const Shape& shape) {
  Tensor<T> out = Tensor<T>::from_shape(shape);
  const T* src = t.data();
  T* dst = out.data();
  detail::parallel_blocks(t.size(), 1, [&](std::size_t lo, std::size_t hi) { std::copy(src + lo, src + hi, dst + lo); });
  return out;
}

// The gradient of a reshape: g itself, which the engine hands over, under the input's shape.
template <class T>
Tensor<T> reshaped(Tensor<T>&& g, const Shape& shape) {
  g.reshape(shape);
  return std::move(g);
}

// Records a reshape-like op: the gradient is the output's gradient with the input's shape.
template <class T>
Variable<T> record_reshape(const char* name, const Variable<T>& a, const Shape& shape) {
  Shape in_shape = a.shape();
  return detail::record_consuming_op<T>(name, reshaped(a.value(), shape), {a}, [in_shape](Tensor<T>&& g) {
    return detail::single_grad<T>(reshaped(std::move(g), in_shape));
  });
}

template <class T>
Tensor<T> permuted(const Tensor<T>& t, const Shape& perm) {
  const Shape shape = shape_of(t);
  Shape out_shape(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) out_shape[d] = shape[perm[d]];
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  detail::permute_copy(t.data(), shape, perm, out.data());
  return out;
}

template <class T>
Variable<T> record_permute(const char* name, const Variable<T>& a, const Shape& perm) {
  Shape inverse(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) inverse[perm[d]] = d;
  return record_op<T>(name, permuted(a.value(), perm), {a},
                      [inverse](const Tensor<T>& g) { return detail::single_grad<T>(permuted(g, inverse)); });
}

}  // namespace

template <class T>
Variable<T> reshape(const Variable<T>& a, const Shape& shape) {
  const Shape in_shape = a.shape();
  if (element_count(shape) != a.size()) {
    fail("reshape", "cannot reshape a tensor of shape {} ({} elements) into shape {} ({} elements)",
         format_shape(in_shape), a.size(), format_shape(shape), element_count(shape));
  }
  return record_reshape("reshape", a, shape);
}

template <class T>
Variable<T> transpose(const Variable<T>& a) {
  if (a.ndim() != 2) {
    fail("transpose", "expects a 2-D tensor, got shape {} ({} dimensions); use permute for other ranks",
         format_shape(a.shape()), a.ndim());
  }
  return record_permute("transpose", a, Shape{1, 0});
}

template <class T>
Variable<T> permute(const Variable<T>& a, const Shape& perm) {
  const Shape shape = a.shape();
  if (perm.size() != shape.size()) {
    fail("permute", "perm {} has {} entries but the tensor of shape {} has {} dimensions", format_shape(perm),
         perm.size(), format_shape(shape), shape.size());
  }
  std::vector<bool> seen(perm.size(), false);
  for (std::size_t d : perm) {
    if (d >= perm.size()) {
      fail("permute", "perm {} is not a permutation of 0..{}: {} is out of range for a tensor of shape {}",
           format_shape(perm), perm.size() - 1, d, format_shape(shape));
    }
    if (seen[d]) {
      fail("permute", "perm {} is not a permutation of 0..{}: dimension {} appears twice (tensor of shape {})",
           format_shape(perm), perm.size() - 1, d, format_shape(shape));
    }
    seen[d] = true;
  }
  return record_permute("permute", a, perm);
}

template <class T>
Variable<T> flatten(const Variable<T>& a, int start_dim) {
  const Shape shape = a.shape();
  if (shape.empty()) {
    // A 0-d tensor becomes (1,). PyTorch wraps dims of a 0-d tensor as if it had one dimension
    // (start_dim -1 or 0); 1, the default here, is accepted too so that flatten(scalar) works.
    if (start_dim < -1 || start_dim > 1) {
      fail("flatten", "start_dim {} is out of range for a tensor of shape () (valid: -1 to 1)", start_dim);
    }
    return record_reshape("flatten", a, Shape{1});
  }
  const std::size_t start = detail::checked_axis("flatten", start_dim, shape);
  Shape out(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(start));
  std::size_t rest = 1;
  for (std::size_t d = start; d < shape.size(); ++d) rest *= shape[d];
  out.push_back(rest);
  return record_reshape("flatten", a, out);
}

template <class T>
Variable<T> concat(const std::vector<Variable<T>>& inputs, int axis_in) {
  if (inputs.empty()) fail("concat", "needs at least one tensor, got an empty list");
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) fail("concat", "input {} is an undefined Variable", k);
  }
  const Shape first = inputs[0].shape();
  if (first.empty()) {
    fail("concat", "input 0 has shape () (0-d) and cannot be concatenated; reshape it to (1,) first");
  }
  const std::size_t axis = detail::checked_axis("concat", axis_in, first);
  Shape out_shape = first;
  out_shape[axis] = 0;
  std::vector<std::size_t> n(inputs.size());
  std::vector<const T*> parts(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Shape s = inputs[k].shape();
    if (s.size() != first.size()) {
      fail("concat", "input {} has shape {} ({} dimensions) but input 0 has shape {} ({} dimensions)", k,
           format_shape(s), s.size(), format_shape(first), first.size());
    }
    for (std::size_t d = 0; d < s.size(); ++d) {
      if (d != axis && s[d] != first[d]) {
        fail("concat",
             "input {} has shape {} but input 0 has shape {}: they differ in dimension {} ({} vs {}), "
             "and only dimension {} (the concat axis) may differ",
             k, format_shape(s), format_shape(first), d, s[d], first[d], axis);
      }
    }
    n[k] = s[axis];
    out_shape[axis] += s[axis];
    parts[k] = inputs[k].value().data();
  }
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= first[d];
  for (std::size_t d = axis + 1; d < first.size(); ++d) inner *= first[d];
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  detail::concat_middle(parts, n, out.data(), outer, inner);

  return record_op<T>("concat", std::move(out), inputs, [inputs, n, outer, inner](const Tensor<T>& g) {
    Grads<T> grads(inputs.size());
    std::vector<T*> dst(inputs.size(), nullptr);
    for (std::size_t k = 0; k < inputs.size(); ++k) {
      if (!inputs[k].requires_grad()) continue;
      grads[k] = Tensor<T>::from_shape(inputs[k].value().shape());
      dst[k] = grads[k].data();
    }
    detail::split_middle(g.data(), dst, n, outer, inner);
    return grads;
  });
}

// Explicit instantiations: the library provides every op for float and double.
template Variable<float> reshape(const Variable<float>&, const Shape&);
template Variable<float> transpose(const Variable<float>&);
template Variable<float> permute(const Variable<float>&, const Shape&);
template Variable<float> flatten(const Variable<float>&, int);
template Variable<float> concat(const std::vector<Variable<float>>&, int);
template Variable<double> reshape(const Variable<double>&, const Shape&);
template Variable<double> transpose(const Variable<double>&);
template Variable<double> permute(const Variable<double>&, const Shape&);
template Variable<double> flatten(const Variable<double>&, int);
template Variable<double> concat(const std::vector<Variable<double>>&, int);

}  // namespace tg
