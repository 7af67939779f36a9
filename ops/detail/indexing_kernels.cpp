#include "indexing_kernels.hpp"

#include <algorithm>
#include <vector>

#include "../../core/detail/instantiate.hpp"
#include "../../core/detail/parallel.hpp"

namespace tg::detail {
namespace {

// Where gather's positions sit in its input. The index is seen as (outer, count, inner) around
// `axis`; since its extents may be smaller than the input's, the input offset of an outer or an
// inner position goes through the input's strides.
struct GatherLayout {
  std::size_t outer = 1, count = 1, inner = 1, axis_stride = 1;
  std::vector<std::size_t> outer_extent, outer_stride;  // the index's dimensions before `axis`
  std::vector<std::size_t> inner_offset;                // input offset of each inner position

  GatherLayout(const Shape& in_shape, const Shape& index_shape, std::size_t axis) {
    const std::size_t rank = in_shape.size();
    std::vector<std::size_t> stride(rank, 1);
    for (std::size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * in_shape[d];
    count = index_shape[axis];
    axis_stride = stride[axis];
    for (std::size_t d = 0; d < axis; ++d) {
      outer *= index_shape[d];
      outer_extent.push_back(index_shape[d]);
      outer_stride.push_back(stride[d]);
    }
    for (std::size_t d = axis + 1; d < rank; ++d) inner *= index_shape[d];
    inner_offset.assign(inner, 0);
    for (std::size_t j = 0; j < inner; ++j) {  // unravel j over the index's trailing dimensions
      std::size_t rest = j, offset = 0;
      for (std::size_t d = rank; d-- > axis + 1;) {
        offset += rest % index_shape[d] * stride[d];
        rest /= index_shape[d];
      }
      inner_offset[j] = offset;
    }
  }

  std::size_t outer_offset(std::size_t o) const {
    std::size_t offset = 0;
    for (std::size_t d = outer_extent.size(); d-- > 0;) {
      offset += o % outer_extent[d] * outer_stride[d];
      o /= outer_extent[d];
    }
    return offset;
  }
};

// A 0-d tensor gathers as one of shape (1,).
Shape at_least_1d(const Shape& shape) { return shape.empty() ? Shape{1} : shape; }

}  // namespace

template <class T>
void index_take(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner, const std::int64_t* index,
                std::size_t count) {
  parallel_blocks(outer * count, inner, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t row = lo; row < hi; ++row) {
      const std::size_t o = row / count, k = row % count;
      const T* src = in + (o * n + static_cast<std::size_t>(index[k])) * inner;
      std::copy(src, src + inner, out + row * inner);
    }
  });
}

template <class T>
void index_add(const T* part, T* whole, std::size_t outer, std::size_t n, std::size_t inner, const std::int64_t* index,
               std::size_t count) {
  // Two slices may add into one row, so threads split what no two of them share: the outer
  // blocks, or with a single one (embedding, axis 0) the columns.
  const auto add_rows = [&](std::size_t o, std::size_t col_lo, std::size_t col_hi) {
    for (std::size_t k = 0; k < count; ++k) {
      const T* src = part + (o * count + k) * inner;
      T* dst = whole + (o * n + static_cast<std::size_t>(index[k])) * inner;
      for (std::size_t i = col_lo; i < col_hi; ++i) dst[i] += src[i];
    }
  };
  if (outer > 1) {
    parallel_blocks(outer, count * inner, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t o = lo; o < hi; ++o) add_rows(o, 0, inner);
    });
  } else if (outer == 1) {
    parallel_blocks(inner, count, [&](std::size_t lo, std::size_t hi) { add_rows(0, lo, hi); });
  }
}

template <class T>
void gather_along(const T* in, const Shape& in_shape, const std::int64_t* index, const Shape& index_shape,
                  std::size_t axis, T* out) {
  const GatherLayout g(at_least_1d(in_shape), at_least_1d(index_shape), axis);
  parallel_blocks(g.outer * g.count, g.inner, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t row = lo; row < hi; ++row) {
      const T* base = in + g.outer_offset(row / g.count);
      const std::int64_t* idx = index + row * g.inner;
      T* dst = out + row * g.inner;
      for (std::size_t j = 0; j < g.inner; ++j) {
        dst[j] = base[static_cast<std::size_t>(idx[j]) * g.axis_stride + g.inner_offset[j]];
      }
    }
  });
}

template <class T>
void scatter_add_along(const T* part, const Shape& index_shape, const std::int64_t* index, std::size_t axis, T* whole,
                       const Shape& in_shape) {
  const GatherLayout g(at_least_1d(in_shape), at_least_1d(index_shape), axis);
  // Distinct outer positions write disjoint parts of `whole`; within one, any two may collide.
  parallel_blocks(g.outer, g.count * g.inner, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t o = lo; o < hi; ++o) {
      T* base = whole + g.outer_offset(o);
      for (std::size_t k = 0; k < g.count; ++k) {
        const std::size_t row = o * g.count + k;
        const std::int64_t* idx = index + row * g.inner;
        const T* src = part + row * g.inner;
        for (std::size_t j = 0; j < g.inner; ++j) {
          base[static_cast<std::size_t>(idx[j]) * g.axis_stride + g.inner_offset[j]] += src[j];
        }
      }
    }
  });
}

#define TG_FUNCTIONS(T)                                                                                               \
  template void index_take(const T*, T*, std::size_t, std::size_t, std::size_t, const std::int64_t*, std::size_t);   \
  template void index_add(const T*, T*, std::size_t, std::size_t, std::size_t, const std::int64_t*, std::size_t);    \
  template void gather_along(const T*, const Shape&, const std::int64_t*, const Shape&, std::size_t, T*);             \
  template void scatter_add_along(const T*, const Shape&, const std::int64_t*, std::size_t, T*, const Shape&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg::detail
