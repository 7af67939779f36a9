#include "shape.hpp"

#include <algorithm>
#include <memory>

#include "../core/detail/checked.hpp"
#include "../core/detail/instantiate.hpp"
#include "../core/detail/parallel.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/broadcast.hpp"
#include "detail/reduce_kernels.hpp"
#include "detail/shape_kernels.hpp"

namespace tg {
namespace {

using detail::Gradients;

// `a`'s values under a new shape of the same size: its own buffer when it can be taken over (a
// gradient at its last use), else a copy, split over the threads when large (Flatten copies
// every inference batch). The gradient is the output's gradient under the input's shape.
template <class T>
Variable<T> reshape_to(const char* name, Variable<T> a, const Shape& shape) {
  const Shape in_shape = a.shape();
  Tensor<T> out;
  if (detail::reusable(a)) {
    out = detail::take_buffer(std::move(a));
    out.reshape(shape);
  } else {
    const Tensor<T>& t = std::as_const(a).value();
    out = Tensor<T>::from_shape(shape);
    const T* src = t.data();
    T* dst = out.data();
    detail::parallel_blocks(t.size(), 1, [&](std::size_t lo, std::size_t hi) { std::copy(src + lo, src + hi, dst + lo); });
  }
  return detail::record<T>(name, std::move(out), {a}, detail::saves_nothing(),
                           [in_shape](Variable<T> g, const Variable<T>&) {
                             return detail::single(reshape_to("reshape", std::move(g), in_shape));
                           });
}

template <class T>
Variable<T> record_permute(const char* name, const Variable<T>& a, const Shape& perm) {
  const Shape shape = a.shape();
  Shape out_shape(perm.size()), inverse(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) {
    out_shape[d] = shape[perm[d]];
    inverse[perm[d]] = d;
  }
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  detail::permute_copy(a.value().data(), shape, perm, out.data());
  return detail::record<T>(name, std::move(out), {a}, detail::saves_nothing(),
                           [inverse](Variable<T> g, const Variable<T>&) {
                             return detail::single(permute(g, inverse));
                           });
}

// Where a slice along an axis reads: the tensor seen as (outer, n, inner), `count` positions from
// `start`, `step` apart.
struct SliceSpec {
  Shape in_shape, out_shape;
  std::size_t outer, n, inner, start, count, step;
};

template <class T>
Variable<T> take(const Variable<T>& a, std::shared_ptr<const SliceSpec> s);

// The adjoint of take: `part` written back at its positions into zeros of the whole's shape.
template <class T>
Variable<T> put(const Variable<T>& part, std::shared_ptr<const SliceSpec> s) {
  Tensor<T> whole = xt::zeros<T>(s->in_shape);
  detail::put_middle(part.value().data(), whole.data(), s->outer, s->n, s->inner, s->start, s->count, s->step);
  return detail::record<T>("slice_backward", std::move(whole), {part}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(take(g, s)); });
}

template <class T>
Variable<T> take(const Variable<T>& a, std::shared_ptr<const SliceSpec> s) {
  Tensor<T> out = Tensor<T>::from_shape(s->out_shape);
  detail::take_middle(a.value().data(), out.data(), s->outer, s->n, s->inner, s->start, s->count, s->step);
  return detail::record<T>("slice", std::move(out), {a}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(put(g, s)); });
}

std::shared_ptr<SliceSpec> slice_spec(const Shape& shape, std::size_t axis, std::size_t start, std::size_t count,
                                      std::size_t step) {
  auto s = std::make_shared<SliceSpec>();
  s->in_shape = shape;
  s->out_shape = shape;
  s->out_shape[axis] = count;
  s->outer = 1;
  s->inner = 1;
  for (std::size_t d = 0; d < axis; ++d) s->outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) s->inner *= shape[d];
  s->n = shape[axis];
  s->start = start;
  s->count = count;
  s->step = step;
  return s;
}

// Python's bound for a slice: negative counts from the end, then clamped to [0, n].
std::size_t clamp_bound(std::int64_t bound, std::size_t n) {
  const auto size = static_cast<std::int64_t>(n);
  if (bound < 0) bound = bound < -size ? 0 : bound + size;
  return static_cast<std::size_t>(std::min(bound, size));
}

}  // namespace

template <class T>
Variable<T> reshape(const Variable<T>& a, const Shape& shape) {
  const std::size_t count = detail::checked_count("reshape", shape);
  if (count != a.size()) {
    fail("reshape", "cannot reshape a tensor of shape {} ({} elements) into shape {} ({} elements)",
         format_shape(a.shape()), a.size(), format_shape(shape), count);
  }
  return reshape_to("reshape", a, shape);
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
    return reshape_to("flatten", a, Shape{1});
  }
  const std::size_t start = detail::checked_axis("flatten", start_dim, shape);
  Shape out(shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(start));
  out.push_back(detail::checked_product("flatten", shape, start, shape.size()));
  return reshape_to("flatten", a, out);
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
    out_shape[axis] = detail::checked_add("concat", out_shape[axis], s[axis]);
    parts[k] = inputs[k].value().data();
  }
  detail::checked_count("concat", out_shape);
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= first[d];
  for (std::size_t d = axis + 1; d < first.size(); ++d) inner *= first[d];
  Tensor<T> out = Tensor<T>::from_shape(out_shape);
  detail::concat_middle(parts, n, out.data(), outer, inner);

  return detail::record<T>("concat", std::move(out), inputs, detail::saves_nothing(),
                           [inputs, n, axis](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(inputs.size());
                             std::size_t start = 0;
                             for (std::size_t k = 0; k < inputs.size(); ++k) {
                               if (inputs[k].requires_grad()) {
                                 grads[k] = take(g, slice_spec(g.shape(), axis, start, n[k], 1));
                               }
                               start += n[k];
                             }
                             return grads;
                           });
}

template <class T>
Variable<T> stack(const std::vector<Variable<T>>& inputs, int axis) {
  if (inputs.empty()) fail("stack", "needs at least one tensor, got an empty list");
  const Shape first = inputs[0].defined() ? inputs[0].shape() : Shape{};
  const int rank = static_cast<int>(first.size());
  if (axis < -rank - 1 || axis > rank) {
    fail("stack", "axis {} is out of range for stacking tensors of shape {} (valid: {} to {})", axis,
         format_shape(first), -rank - 1, rank);
  }
  std::vector<Variable<T>> expanded;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) fail("stack", "input {} is an undefined Variable", k);
    if (inputs[k].shape() != first) {
      fail("stack", "input {} has shape {} but input 0 has shape {}; stack needs equal shapes", k,
           format_shape(inputs[k].shape()), format_shape(first));
    }
    expanded.push_back(unsqueeze(inputs[k], axis));
  }
  return concat(expanded, axis);
}

template <class T>
Variable<T> unsqueeze(const Variable<T>& a, int dim) {
  Shape shape = a.shape();
  const int rank = static_cast<int>(shape.size());
  if (dim < -rank - 1 || dim > rank) {
    fail("unsqueeze", "dim {} is out of range for a tensor of shape {} (valid: {} to {})", dim, format_shape(shape),
         -rank - 1, rank);
  }
  const auto at = static_cast<std::size_t>(dim < 0 ? dim + rank + 1 : dim);
  shape.insert(shape.begin() + static_cast<std::ptrdiff_t>(at), 1);
  return reshape_to("unsqueeze", a, shape);
}

template <class T>
Variable<T> squeeze(const Variable<T>& a, int dim) {
  Shape shape = a.shape();
  const std::size_t at = detail::checked_axis("squeeze", dim, shape);
  if (shape.empty() || shape[at] != 1) return reshape_to("squeeze", a, shape);
  shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(at));
  return reshape_to("squeeze", a, shape);
}

template <class T>
Variable<T> slice(const Variable<T>& a, int axis_in, std::int64_t start, std::int64_t stop, std::int64_t step) {
  const Shape shape = a.shape();
  if (shape.empty()) fail("slice", "cannot slice a 0-d tensor");
  const std::size_t axis = detail::checked_axis("slice", axis_in, shape);
  if (step <= 0) fail("slice", "step must be positive, got {} (tensor of shape {})", step, format_shape(shape));
  const std::size_t n = shape[axis], lo = clamp_bound(start, n), hi = clamp_bound(stop, n);
  const auto s = static_cast<std::size_t>(step);
  const std::size_t count = hi > lo ? (hi - lo + s - 1) / s : 0;
  return take(a, slice_spec(shape, axis, lo, count, s));
}

template <class T>
Variable<T> expand(const Variable<T>& a, const Shape& shape) {
  const Shape from = a.shape();
  if (shape.size() < from.size()) {
    fail("expand", "cannot expand shape {} to {}: the target has fewer dimensions", format_shape(from),
         format_shape(shape));
  }
  const std::size_t lead = shape.size() - from.size();
  Shape padded(lead, 1);
  padded.insert(padded.end(), from.begin(), from.end());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (padded[d] != 1 && padded[d] != shape[d]) {
      fail("expand", "cannot expand shape {} to {}: dimension {} has extent {}, which is neither 1 nor {}",
           format_shape(from), format_shape(shape), d, padded[d], shape[d]);
    }
  }
  if (from == shape) return a;
  detail::checked_count("expand", shape);
  Tensor<T> out = Tensor<T>::from_shape(shape);
  detail::expand_scaled(a.value().data(), padded, out.data(), shape, T(1));
  return detail::record<T>("expand", std::move(out), {a}, detail::saves_nothing(),
                           [from](Variable<T> g, const Variable<T>&) {
                             return detail::single(detail::sum_to(g, from));
                           });
}

#define TG_FUNCTIONS(T)                                                                              \
  template Variable<T> reshape(const Variable<T>&, const Shape&);                                    \
  template Variable<T> transpose(const Variable<T>&);                                                \
  template Variable<T> permute(const Variable<T>&, const Shape&);                                    \
  template Variable<T> flatten(const Variable<T>&, int);                                             \
  template Variable<T> concat(const std::vector<Variable<T>>&, int);                                 \
  template Variable<T> stack(const std::vector<Variable<T>>&, int);                                  \
  template Variable<T> unsqueeze(const Variable<T>&, int);                                           \
  template Variable<T> squeeze(const Variable<T>&, int);                                             \
  template Variable<T> slice(const Variable<T>&, int, std::int64_t, std::int64_t, std::int64_t);     \
  template Variable<T> expand(const Variable<T>&, const Shape&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
