#include "softmax_kernel.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include "../../core/detail/cpu.hpp"
#include "../../core/detail/parallel.hpp"
#include "../../core/errors.hpp"

namespace tg::detail {

AxisLayout axis_layout(const char* function, const Shape& shape, int axis) {
  AxisLayout layout;
  if (shape.empty()) {  // a 0-d tensor: one element along a single axis
    normalize_axis(function, axis, 1);
    return layout;
  }
  const auto ax = static_cast<std::size_t>(normalize_axis(function, axis, shape.size()));
  for (std::size_t d = 0; d < ax; ++d) layout.outer *= shape[d];
  layout.n = shape[ax];
  for (std::size_t d = ax + 1; d < shape.size(); ++d) layout.inner *= shape[d];
  return layout;
}

template <class T>
void exp_in_place(T* p, std::size_t count) {
  if (count == 0) return;
  auto v = xt::adapt(p, count, xt::no_ownership(), std::array<std::size_t, 1>{count});
  xt::noalias(v) = xt::exp(v);
}

template <class T>
void shifted_exp(const T* x, T* e, const AxisLayout& L, T* max, T* sum) {
  const std::size_t n = L.n, inner = L.inner, P = L.positions();
  if (n == 0) {  // an empty axis: nothing to exponentiate, the sums are empty
    std::fill(max, max + P, -std::numeric_limits<T>::infinity());
    std::fill(sum, sum + P, T(0));
    return;
  }
  if (inner == 1) {  // the common case (last axis): contiguous rows
    for (std::size_t o = 0; o < L.outer; ++o) {
      const T* xr = x + o * n;
      T* er = e + o * n;
      T m = xr[0];
      for (std::size_t k = 1; k < n; ++k) m = xr[k] > m ? xr[k] : m;
      for (std::size_t k = 0; k < n; ++k) er[k] = xr[k] - m;
      max[o] = m;
    }
    exp_in_place(e, L.total());
    for (std::size_t o = 0; o < L.outer; ++o) {
      const T* er = e + o * n;
      T s = 0;
      for (std::size_t k = 0; k < n; ++k) s += er[k];
      sum[o] = s;
    }
    return;
  }
  // General case: for each outer block, run along k with the `inner` positions as contiguous lanes.
  for (std::size_t o = 0; o < L.outer; ++o) {
    const T* xo = x + o * n * inner;
    T* eo = e + o * n * inner;
    T* mo = max + o * inner;
    std::copy(xo, xo + inner, mo);
    for (std::size_t k = 1; k < n; ++k) {
      const T* row = xo + k * inner;
      for (std::size_t i = 0; i < inner; ++i) mo[i] = row[i] > mo[i] ? row[i] : mo[i];
    }
    for (std::size_t k = 0; k < n; ++k) {
      const T* row = xo + k * inner;
      T* out = eo + k * inner;
      for (std::size_t i = 0; i < inner; ++i) out[i] = row[i] - mo[i];
    }
  }
  exp_in_place(e, L.total());
  for (std::size_t o = 0; o < L.outer; ++o) {
    const T* eo = e + o * n * inner;
    T* so = sum + o * inner;
    std::fill(so, so + inner, T(0));
    for (std::size_t k = 0; k < n; ++k) {
      const T* row = eo + k * inner;
      for (std::size_t i = 0; i < inner; ++i) so[i] += row[i];
    }
  }
}

namespace {

// Calls kernel(offset, part) for blocks of the outer dimension spread over the threads, part the
// layout of the block that starts `offset` elements in. The softmaxes of different outer indices
// are independent, so the results do not depend on the split.
template <class F>
void over_outer_blocks(const AxisLayout& L, F&& kernel) {
  parallel_blocks(L.outer, L.n * L.inner, [&](std::size_t first, std::size_t last) {
    AxisLayout part = L;
    part.outer = last - first;
    kernel(first * L.n * L.inner, part);
  });
}

template <class T>
void softmax_forward_serial(const T* x, T* y, const AxisLayout& L) {
  if (L.total() == 0) return;
  std::vector<T> max(L.positions()), sum(L.positions());
  shifted_exp(x, y, L, max.data(), sum.data());
  const std::size_t n = L.n, inner = L.inner;
  for (std::size_t o = 0; o < L.outer; ++o) {
    const T* so = sum.data() + o * inner;
    for (std::size_t k = 0; k < n; ++k) {
      T* row = y + (o * n + k) * inner;
      for (std::size_t i = 0; i < inner; ++i) row[i] /= so[i];
    }
  }
}

template <class T>
void log_softmax_forward_serial(const T* x, T* y, const AxisLayout& L) {
  if (L.total() == 0) return;
  std::vector<T> max(L.positions()), log_sum(L.positions());
  shifted_exp(x, y, L, max.data(), log_sum.data());  // y is scratch for the exponentials here
  for (T& s : log_sum) s = std::log(s);
  const std::size_t n = L.n, inner = L.inner;
  for (std::size_t o = 0; o < L.outer; ++o) {
    const T* mo = max.data() + o * inner;
    const T* lo = log_sum.data() + o * inner;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t base = (o * n + k) * inner;
      for (std::size_t i = 0; i < inner; ++i) y[base + i] = (x[base + i] - mo[i]) - lo[i];
    }
  }
}

// The two passes of the backward loops over each (n, inner) block: acc[i] = the sum along the axis
// of term(e), e being the flat index of element (o, k, i), then update(e, acc[i]) for every
// element of the block.
template <class T, class Term, class Update>
TG_KERNEL_INLINE void sum_then_update_along_axis(const AxisLayout& L, Term term, Update update) {
  const std::size_t n = L.n, inner = L.inner;
  std::vector<T> acc(inner);
  for (std::size_t o = 0; o < L.outer; ++o) {
    std::fill(acc.begin(), acc.end(), T(0));
    const std::size_t block = o * n * inner;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t base = block + k * inner;
      for (std::size_t i = 0; i < inner; ++i) acc[i] += term(base + i);
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t base = block + k * inner;
      for (std::size_t i = 0; i < inner; ++i) update(base + i, acc[i]);
    }
  }
}

template <class T>
void softmax_backward_serial(const T* y, const T* gy, T* gx, const AxisLayout& L) {
  if (L.inner == 1) {  // the common case (last axis): contiguous rows
    for (std::size_t o = 0; o < L.outer; ++o) {
      const std::size_t base = o * L.n;
      T dot = 0;
      for (std::size_t k = 0; k < L.n; ++k) dot += gy[base + k] * y[base + k];
      for (std::size_t k = 0; k < L.n; ++k) gx[base + k] = y[base + k] * (gy[base + k] - dot);
    }
    return;
  }
  sum_then_update_along_axis<T>(
      L, [y, gy](std::size_t e) { return gy[e] * y[e]; },
      [y, gy, gx](std::size_t e, T dot) { gx[e] = y[e] * (gy[e] - dot); });
}

template <class T>
void log_softmax_backward_serial(const T* y, const T* gy, T* gx, const AxisLayout& L) {
  std::copy(y, y + L.total(), gx);
  exp_in_place(gx, L.total());  // gx holds softmax = exp(log_softmax) for now
  sum_then_update_along_axis<T>(
      L, [gy](std::size_t e) { return gy[e]; },
      [gy, gx](std::size_t e, T gsum) { gx[e] = gy[e] - gx[e] * gsum; });
}

}  // namespace

template <class T>
void softmax_forward(const T* x, T* y, const AxisLayout& L) {
  over_outer_blocks(L, [&](std::size_t at, const AxisLayout& part) { softmax_forward_serial(x + at, y + at, part); });
}

template <class T>
void log_softmax_forward(const T* x, T* y, const AxisLayout& L) {
  over_outer_blocks(L,
                    [&](std::size_t at, const AxisLayout& part) { log_softmax_forward_serial(x + at, y + at, part); });
}

template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, const AxisLayout& L) {
  over_outer_blocks(
      L, [&](std::size_t at, const AxisLayout& part) { softmax_backward_serial(y + at, gy + at, gx + at, part); });
}

template <class T>
void log_softmax_backward(const T* y, const T* gy, T* gx, const AxisLayout& L) {
  over_outer_blocks(
      L, [&](std::size_t at, const AxisLayout& part) { log_softmax_backward_serial(y + at, gy + at, gx + at, part); });
}

template void exp_in_place<float>(float*, std::size_t);
template void exp_in_place<double>(double*, std::size_t);
template void shifted_exp<float>(const float*, float*, const AxisLayout&, float*, float*);
template void shifted_exp<double>(const double*, double*, const AxisLayout&, double*, double*);
template void softmax_forward<float>(const float*, float*, const AxisLayout&);
template void softmax_forward<double>(const double*, double*, const AxisLayout&);
template void log_softmax_forward<float>(const float*, float*, const AxisLayout&);
template void log_softmax_forward<double>(const double*, double*, const AxisLayout&);
template void softmax_backward<float>(const float*, const float*, float*, const AxisLayout&);
template void softmax_backward<double>(const double*, const double*, double*, const AxisLayout&);
template void log_softmax_backward<float>(const float*, const float*, float*, const AxisLayout&);
template void log_softmax_backward<double>(const double*, const double*, double*, const AxisLayout&);

}  // namespace tg::detail
