#include "indexing.hpp"

#include <memory>
#include <string>

#include <xtensor/xbuilder.hpp>

#include "../core/detail/instantiate.hpp"
#include "../core/errors.hpp"
#include "detail/autograd.hpp"
#include "detail/axis_check.hpp"
#include "detail/indexing_kernels.hpp"

namespace tg {
namespace {

// Where index_select and embedding read: the input seen as (outer, n, inner), the output as
// (outer, index.size(), inner) under out_shape.
struct SelectSpec {
  std::string name;  // the op's name: "index_select" or "embedding"
  Shape in_shape, out_shape;
  std::size_t outer = 1, n = 1, inner = 1;
  Indices index;
};

// Where gather reads: `index` (of the output's shape) along `axis` of an input of in_shape.
struct GatherSpec {
  Shape in_shape;
  std::size_t axis;
  Indices index;
};

template <class T>
Variable<T> select(const Variable<T>& a, std::shared_ptr<const SelectSpec> s);

// select's adjoint (index_add into zeros). Linear in `part`, so its derivative is select again.
template <class T>
Variable<T> select_backward(const Variable<T>& part, std::shared_ptr<const SelectSpec> s) {
  Tensor<T> whole = xt::zeros<T>(s->in_shape);
  detail::index_add(part.value().data(), whole.data(), s->outer, s->n, s->inner, s->index.data(), s->index.size());
  return detail::record<T>(s->name + "_backward", std::move(whole), {part}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(select(g, s)); });
}

template <class T>
Variable<T> select(const Variable<T>& a, std::shared_ptr<const SelectSpec> s) {
  Tensor<T> out = Tensor<T>::from_shape(s->out_shape);
  detail::index_take(a.value().data(), out.data(), s->outer, s->n, s->inner, s->index.data(), s->index.size());
  return detail::record<T>(s->name, std::move(out), {a}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(select_backward(g, s)); });
}

template <class T>
Variable<T> gather_with(const Variable<T>& a, std::shared_ptr<const GatherSpec> s);

// gather's adjoint (scatter_add into zeros); its derivative is gather again.
template <class T>
Variable<T> gather_backward(const Variable<T>& part, std::shared_ptr<const GatherSpec> s) {
  Tensor<T> whole = xt::zeros<T>(s->in_shape);
  detail::scatter_add_along(part.value().data(), shape_of(s->index), s->index.data(), s->axis, whole.data(),
                            s->in_shape);
  return detail::record<T>("gather_backward", std::move(whole), {part}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(gather_with(g, s)); });
}

template <class T>
Variable<T> gather_with(const Variable<T>& a, std::shared_ptr<const GatherSpec> s) {
  Tensor<T> out = Tensor<T>::from_shape(s->index.shape());
  detail::gather_along(a.value().data(), s->in_shape, s->index.data(), shape_of(s->index), s->axis, out.data());
  return detail::record<T>("gather", std::move(out), {a}, detail::saves_nothing(),
                           [s](Variable<T> g, const Variable<T>&) { return detail::single(gather_backward(g, s)); });
}

// "2" for a position in an index of at most one dimension, "(1, 0)" for one of more.
std::string format_position(std::size_t flat, const Shape& shape) {
  if (shape.size() <= 1) return std::to_string(flat);
  Shape position(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    position[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("({})", fmt::join(position, ", "));
}

// Every value of `index` in [0, extent); `what` names a value ("index", "id") and `range` the
// extent it indexes ("axis 0 of extent 3 of a tensor of shape (3, 4)").
void check_in_range(const char* function, const char* what, const Indices& index, std::size_t extent,
                    const std::string& range) {
  const auto limit = static_cast<std::int64_t>(extent);
  const std::int64_t* values = index.data();
  for (std::size_t i = 0; i < index.size(); ++i) {
    if (values[i] >= 0 && values[i] < limit) continue;
    const std::string position = format_position(i, shape_of(index));
    if (extent == 0) fail(function, "{} {} at position {} is out of range: {} is empty, no index is valid", what, values[i], position, range);
    fail(function, "{} {} at position {} is out of range for {} (valid: 0 to {})", what, values[i], position, range,
         limit - 1);
  }
}

}  // namespace

template <class T>
Variable<T> index_select(const Variable<T>& a, int axis_in, const Indices& index) {
  const Shape shape = a.shape();
  if (shape.empty()) fail("index_select", "a 0-d tensor has no axis to select along");
  const std::size_t axis = detail::checked_axis("index_select", axis_in, shape);
  if (index.dimension() > 1) {
    fail("index_select", "index must be 1-D (or 0-D), got shape {}", format_shape(index.shape()));
  }
  check_in_range("index_select", "index", index, shape[axis],
                 fmt::format("axis {} of extent {} of a tensor of shape {}", axis_in, shape[axis], format_shape(shape)));
  auto s = std::make_shared<SelectSpec>();
  s->name = "index_select";
  s->in_shape = shape;
  s->out_shape = shape;
  s->out_shape[axis] = index.size();
  for (std::size_t d = 0; d < axis; ++d) s->outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) s->inner *= shape[d];
  s->n = shape[axis];
  s->index = index;
  return select(a, std::shared_ptr<const SelectSpec>(std::move(s)));
}

template <class T>
Variable<T> gather(const Variable<T>& a, int axis_in, const Indices& index) {
  const Shape shape = a.shape(), index_shape = shape_of(index);
  const std::size_t axis = detail::checked_axis("gather", axis_in, shape);
  if (index_shape.size() != shape.size()) {
    fail("gather", "index of shape {} must have as many dimensions as the input of shape {}", format_shape(index_shape),
         format_shape(shape));
  }
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d != axis && index_shape[d] > shape[d]) {
      fail("gather", "index of shape {} is larger than the input of shape {} at dimension {} (only axis {} may be larger)",
           format_shape(index_shape), format_shape(shape), d, axis_in);
    }
  }
  const std::size_t extent = shape.empty() ? 1 : shape[axis];
  check_in_range("gather", "index", index, extent,
                 fmt::format("axis {} of extent {} of a tensor of shape {}", axis_in, extent, format_shape(shape)));
  auto s = std::make_shared<GatherSpec>();
  s->in_shape = shape;
  s->axis = axis;
  s->index = index;
  return gather_with(a, std::shared_ptr<const GatherSpec>(std::move(s)));
}

template <class T>
Variable<T> embedding(const Indices& ids, const Variable<T>& weight) {
  const Shape shape = weight.shape();
  if (shape.size() != 2) {
    fail("embedding", "weight must be 2-D (num_embeddings, embedding_dim), got shape {}", format_shape(shape));
  }
  check_in_range("embedding", "id", ids, shape[0],
                 fmt::format("{} embeddings (weight of shape {})", shape[0], format_shape(shape)));
  auto s = std::make_shared<SelectSpec>();
  s->name = "embedding";
  s->in_shape = shape;
  s->out_shape = shape_of(ids);
  s->out_shape.push_back(shape[1]);
  s->n = shape[0];
  s->inner = shape[1];
  s->index = ids;
  return select(weight, std::shared_ptr<const SelectSpec>(std::move(s)));
}

#define TG_FUNCTIONS(T)                                                           \
  template Variable<T> index_select(const Variable<T>&, int, const Indices&);     \
  template Variable<T> gather(const Variable<T>&, int, const Indices&);           \
  template Variable<T> embedding(const Indices&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
