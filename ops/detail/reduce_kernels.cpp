#include "reduce_kernels.hpp"

#include "../../core/detail/instantiate.hpp"
#include "../../core/detail/parallel.hpp"
#include "lane_sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tg::detail {

namespace {

constexpr std::size_t kRowBlock = 128;

// sum_middle for few outputs over many rows (a bias gradient): each block of kRowBlock rows, a split
// fixed by the shape, is summed in double by one thread, then the blocks' sums are added in order,
// so the result does not depend on the thread count.
template <class T>
void sum_columns_in_row_blocks(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner) {
  const std::size_t blocks = (n + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(outer * blocks * inner, 0.0);
  parallel_blocks(outer * blocks, kRowBlock * inner, [&](std::size_t first, std::size_t last) {
    for (std::size_t job = first; job < last; ++job) {
      const std::size_t o = job / blocks, k0 = (job % blocks) * kRowBlock, k1 = std::min(n, k0 + kRowBlock);
      double* acc = partial.data() + job * inner;
      for (std::size_t k = k0; k < k1; ++k) {
        const T* row = in + (o * n + k) * inner;
        for (std::size_t i = 0; i < inner; ++i) acc[i] += static_cast<double>(row[i]);
      }
    }
  });
  for (std::size_t o = 0; o < outer; ++o) {
    double* total = partial.data() + o * blocks * inner;  // block 0's sums become the totals
    for (std::size_t b = 1; b < blocks; ++b) {
      const double* block = total + b * inner;
      for (std::size_t i = 0; i < inner; ++i) total[i] += block[i];
    }
    for (std::size_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<T>(total[i]);
  }
}

}  // namespace

template <class T>
void sum_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner) {
  // Each output is summed by one thread in the same order, whatever the split.
  if (inner == 1) {  // contiguous rows
    parallel_blocks(outer, n, [&](std::size_t first, std::size_t last) {
      for (std::size_t o = first; o < last; ++o) {
        const T* row = in + o * n;
        out[o] = static_cast<T>(lane_sum(n, [row](std::size_t k) { return row[k]; }));
      }
    });
    return;
  }
  // Columns in chunks whose double sums stay on the stack (a bias gradient is one chunk or two).
  constexpr std::size_t chunk = 256;
  const std::size_t chunks = (inner + chunk - 1) / chunk;
  if (outer * chunks < 4 && n >= 4 * kRowBlock) {  // few outputs over many rows: a bias gradient
    sum_columns_in_row_blocks(in, out, outer, n, inner);
    return;
  }
  parallel_blocks(outer * chunks, n * std::min(chunk, inner), [&](std::size_t first, std::size_t last) {
    double acc[chunk];
    for (std::size_t job = first; job < last; ++job) {
      const std::size_t o = job / chunks, begin = (job % chunks) * chunk;
      const std::size_t width = std::min(chunk, inner - begin);
      std::fill(acc, acc + width, 0.0);
      for (std::size_t k = 0; k < n; ++k) {
        const T* row = in + (o * n + k) * inner + begin;
        for (std::size_t i = 0; i < width; ++i) acc[i] += static_cast<double>(row[i]);
      }
      T* dst = out + o * inner + begin;
      for (std::size_t i = 0; i < width; ++i) dst[i] = static_cast<T>(acc[i]);
    }
  });
}

namespace {

// The first extremum along the middle dimension: the largest (Largest) or the smallest. The first
// NaN counts as the extremum and then stays, as in PyTorch.
template <bool Largest, class T>
void extremum_middle(const T* in, T* out, std::size_t* index, std::size_t outer, std::size_t n, std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o) {
    const T* base = in + o * n * inner;
    T* best = out + o * inner;
    std::size_t* at = index + o * inner;
    std::copy(base, base + inner, best);
    std::fill(at, at + inner, std::size_t{0});
    for (std::size_t k = 1; k < n; ++k) {
      const T* row = base + k * inner;
      for (std::size_t i = 0; i < inner; ++i) {
        const T v = row[i];
        // Strictly better keeps the first extremum.
        const bool better = Largest ? v > best[i] : v < best[i];
        if (better || (std::isnan(v) && !std::isnan(best[i]))) {
          best[i] = v;
          at[i] = k;
        }
      }
    }
  }
}

}  // namespace

template <class T>
void max_middle(const T* in, T* out, std::size_t* index, std::size_t outer, std::size_t n, std::size_t inner) {
  extremum_middle<true>(in, out, index, outer, n, inner);
}

template <class T>
void min_middle(const T* in, T* out, std::size_t* index, std::size_t outer, std::size_t n, std::size_t inner) {
  extremum_middle<false>(in, out, index, outer, n, inner);
}

template <class T>
void logsumexp_middle(const T* in, T* out, std::size_t outer, std::size_t n, std::size_t inner) {
  std::vector<T> shift(inner);
  std::vector<double> acc(inner);
  for (std::size_t o = 0; o < outer; ++o) {
    const T* base = in + o * n * inner;
    // The maximum is subtracted before exp so nothing overflows; an infinite one (all -inf, or
    // some +inf) is replaced by 0, which gives -inf and +inf as PyTorch does. NaN stays NaN.
    std::fill(shift.begin(), shift.end(), -std::numeric_limits<T>::infinity());
    for (std::size_t k = 0; k < n; ++k) {
      const T* row = base + k * inner;
      for (std::size_t i = 0; i < inner; ++i) {
        if (row[i] > shift[i] || std::isnan(row[i])) shift[i] = row[i];
      }
    }
    for (T& m : shift) {
      if (std::isinf(m)) m = T(0);
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t k = 0; k < n; ++k) {
      const T* row = base + k * inner;
      for (std::size_t i = 0; i < inner; ++i) acc[i] += static_cast<double>(std::exp(row[i] - shift[i]));
    }
    T* dst = out + o * inner;
    for (std::size_t i = 0; i < inner; ++i) dst[i] = static_cast<T>(std::log(acc[i])) + shift[i];
  }
}

template <class T>
void max_middle_backward(const T* grad, const std::size_t* index, T* out, std::size_t outer, std::size_t n,
                         std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t i = 0; i < inner; ++i) {
      const std::size_t j = o * inner + i;
      out[(o * n + index[j]) * inner + i] = grad[j];
    }
  }
}

template <class T>
void gather_middle(const T* in, const std::size_t* index, T* out, std::size_t outer, std::size_t n, std::size_t inner) {
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t i = 0; i < inner; ++i) {
      const std::size_t j = o * inner + i;
      out[j] = in[(o * n + index[j]) * inner + i];
    }
  }
}

template <class T>
void expand_scaled(const T* in, const Shape& in_shape, T* out, const Shape& out_shape, T scale) {
  const std::size_t total = element_count(out_shape);
  if (total == 0) return;
  // Merge neighbouring dimensions that are both broadcast or both kept; drop extents of 1.
  // Each merged dimension has an extent and a stride into `in` (0 where broadcast).
  std::vector<std::size_t> extent, stride;
  std::size_t in_stride = 1;
  for (std::size_t d = out_shape.size(); d-- > 0;) {
    if (out_shape[d] == 1) continue;
    const bool kept = in_shape[d] != 1;
    const bool merge = !extent.empty() && ((stride.back() != 0) == kept);
    if (merge) {
      extent.back() *= out_shape[d];
    } else {
      extent.push_back(out_shape[d]);
      stride.push_back(kept ? in_stride : 0);
    }
    if (kept) in_stride *= in_shape[d];
  }
  if (extent.empty()) {  // a single element
    out[0] = in[0] * scale;
    return;
  }
  std::reverse(extent.begin(), extent.end());
  std::reverse(stride.begin(), stride.end());
  const std::size_t nd = extent.size();
  const std::size_t len = extent[nd - 1];
  const bool copy_row = stride[nd - 1] != 0;
  std::vector<std::size_t> counter(nd, 0);
  std::size_t src = 0;
  for (std::size_t done = 0; done < total; done += len) {
    if (copy_row) {
      for (std::size_t i = 0; i < len; ++i) out[done + i] = in[src + i] * scale;
    } else {
      std::fill(out + done, out + done + len, in[src] * scale);
    }
    // Advance the odometer over the outer dimensions.
    for (std::size_t d = nd - 1; d-- > 0;) {
      src += stride[d];
      if (++counter[d] < extent[d]) break;
      src -= stride[d] * extent[d];
      counter[d] = 0;
    }
  }
}

#define TG_FUNCTIONS(T)                                                                                    \
  template void sum_middle<T>(const T*, T*, std::size_t, std::size_t, std::size_t);                         \
  template void max_middle<T>(const T*, T*, std::size_t*, std::size_t, std::size_t, std::size_t);           \
  template void min_middle<T>(const T*, T*, std::size_t*, std::size_t, std::size_t, std::size_t);           \
  template void logsumexp_middle<T>(const T*, T*, std::size_t, std::size_t, std::size_t);                    \
  template void max_middle_backward<T>(const T*, const std::size_t*, T*, std::size_t, std::size_t, std::size_t); \
  template void gather_middle<T>(const T*, const std::size_t*, T*, std::size_t, std::size_t, std::size_t);  \
  template void expand_scaled<T>(const T*, const Shape&, T*, const Shape&, T);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg::detail
