#include "shape_kernels.hpp"

#include <algorithm>

#include "../../core/detail/instantiate.hpp"
#include "../../core/detail/parallel.hpp"

namespace tg::detail {
namespace {

// Copies a 2-D strided block (rows x cols, source strides rs and cs) into contiguous `out`,
// in square tiles so that both the reads and the writes stay in cache.
template <class T>
void copy_2d(const T* in, std::size_t rows, std::size_t cols, std::size_t rs, std::size_t cs, T* out) {
  if (cs == 1) {  // whole rows (attention heads' split and merge)
    for (std::size_t r = 0; r < rows; ++r) std::copy(in + r * rs, in + r * rs + cols, out + r * cols);
    return;
  }
  constexpr std::size_t tile = 32;
  for (std::size_t r0 = 0; r0 < rows; r0 += tile) {
    const std::size_t r1 = std::min(rows, r0 + tile);
    for (std::size_t c0 = 0; c0 < cols; c0 += tile) {
      const std::size_t c1 = std::min(cols, c0 + tile);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t c = c0; c < c1; ++c) out[r * cols + c] = in[r * rs + c * cs];
      }
    }
  }
}

}  // namespace

template <class T>
void permute_copy(const T* in, const Shape& shape, const Shape& perm, T* out) {
  const std::size_t total = element_count(shape);
  if (total == 0) return;
  Shape in_stride(shape.size());
  std::size_t s = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    in_stride[d] = s;
    s *= shape[d];
  }
  // Output dimensions with their source strides; drop extents of 1 and merge neighbours that
  // are also neighbours (in the same order) in the source.
  std::vector<std::size_t> extent, stride;
  for (std::size_t d = 0; d < perm.size(); ++d) {
    const std::size_t e = shape[perm[d]], st = in_stride[perm[d]];
    if (e == 1) continue;
    if (!extent.empty() && stride.back() == st * e) {
      extent.back() *= e;
      stride.back() = st;
    } else {
      extent.push_back(e);
      stride.push_back(st);
    }
  }
  if (extent.empty() || (extent.size() == 1 && stride[0] == 1)) {  // the order is unchanged
    parallel_blocks(total, 1, [&](std::size_t lo, std::size_t hi) { std::copy(in + lo, in + hi, out + lo); });
    return;
  }
  if (extent.size() == 1) {
    parallel_blocks(total, 1, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) out[i] = in[i * stride[0]];
    });
    return;
  }
  // Tiled copies of the last two dimensions, an odometer over the others; the tiles are shared out,
  // each thread starting its odometer at its first tile.
  const std::size_t nd = extent.size();
  const std::size_t rows = extent[nd - 2], cols = extent[nd - 1];
  const std::size_t block = rows * cols;
  parallel_blocks(total / block, block, [&](std::size_t first, std::size_t last) {
    std::vector<std::size_t> counter(nd - 2, 0);
    std::size_t src = 0;
    for (std::size_t d = nd - 2, rest = first; d-- > 0; rest /= extent[d]) {
      counter[d] = rest % extent[d];
      src += counter[d] * stride[d];
    }
    for (std::size_t tile = first; tile < last; ++tile) {
      copy_2d(in + src, rows, cols, stride[nd - 2], stride[nd - 1], out + tile * block);
      for (std::size_t d = nd - 2; d-- > 0;) {
        src += stride[d];
        if (++counter[d] < extent[d]) break;
        src -= stride[d] * extent[d];
        counter[d] = 0;
      }
    }
  });
}

template <class T>
void concat_middle(const std::vector<const T*>& parts, const std::vector<std::size_t>& n, T* out,
                   std::size_t outer, std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const std::size_t len = n[k] * inner;
      const T* src = parts[k] + o * len;
      out = std::copy(src, src + len, out);
    }
  }
}

template <class T>
void split_middle(const T* in, const std::vector<T*>& parts, const std::vector<std::size_t>& n, std::size_t outer,
                  std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const std::size_t len = n[k] * inner;
      if (parts[k]) std::copy(in, in + len, parts[k] + o * len);
      in += len;
    }
  }
}

template <class T>
void take_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner, std::size_t start,
                 std::size_t count, std::size_t step) {
  if (step == 1) {  // each outer index's positions are one run: one copy, not `count` (a last-axis slice has inner = 1)
    for (std::size_t o = 0; o < outer; ++o) {
      const T* src = in + (o * n + start) * inner;
      std::copy(src, src + count * inner, out + o * count * inner);
    }
    return;
  }
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < count; ++k) {
      const T* src = in + (o * n + start + k * step) * inner;
      std::copy(src, src + inner, out + (o * count + k) * inner);
    }
  }
}

template <class T>
void put_middle(const T* part, T* whole, std::size_t outer, std::size_t n, std::size_t inner, std::size_t start,
                std::size_t count, std::size_t step) {
  if (step == 1) {  // as in take_middle: one copy per outer index
    for (std::size_t o = 0; o < outer; ++o) {
      const T* src = part + o * count * inner;
      std::copy(src, src + count * inner, whole + (o * n + start) * inner);
    }
    return;
  }
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < count; ++k) {
      const T* src = part + (o * count + k) * inner;
      std::copy(src, src + inner, whole + (o * n + start + k * step) * inner);
    }
  }
}

#define TG_FUNCTIONS(T)                                                                                          \
  template void permute_copy<T>(const T*, const Shape&, const Shape&, T*);                                        \
  template void concat_middle<T>(const std::vector<const T*>&, const std::vector<std::size_t>&, T*, std::size_t,  \
                                 std::size_t);                                                                    \
  template void split_middle<T>(const T*, const std::vector<T*>&, const std::vector<std::size_t>&, std::size_t,   \
                                std::size_t);                                                                     \
  template void take_middle<T>(const T*, T*, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,     \
                               std::size_t);                                                                      \
  template void put_middle<T>(const T*, T*, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t,      \
                              std::size_t);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg::detail
