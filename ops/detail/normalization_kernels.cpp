#include "normalization_kernels.hpp"

#include <algorithm>
#include <cmath>

#include "../../core/detail/parallel.hpp"
#include "lane_sum.hpp"

namespace tg::detail {
namespace {

// Calls body(c, lo, hi) for every group c, on each contiguous run [lo, hi) of its elements; groups
// are spread over the threads (each group's work stays on one thread, so sums are reproducible).
template <class F>
void for_each_group(const GroupLayout& layout, F&& body) {
  parallel_blocks(layout.groups, layout.group_size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      for (std::size_t o = 0; o < layout.outer; ++o) {
        const std::size_t lo = (o * layout.groups + c) * layout.inner;
        body(c, lo, lo + layout.inner);
      }
    }
  });
}

// Applies y = f(c, i, value) elementwise, i the position inside the run.
template <class F>
void map_groups(const GroupLayout& layout, F&& f) {
  for_each_group(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) f(c, k, k - lo);
  });
}

}  // namespace

template <class T>
void group_moments(const T* x, const GroupLayout& layout, T eps, T* mean, T* invstd, T* variance) {
  const double count = static_cast<double>(layout.group_size());
  parallel_blocks(layout.groups, layout.group_size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      const double shift = layout.group_size() > 0 ? static_cast<double>(x[c * layout.inner]) : 0.0;
      double sum = 0, sum_sq = 0;
      for (std::size_t o = 0; o < layout.outer; ++o) {
        const T* run = x + (o * layout.groups + c) * layout.inner;
        const auto [s, s_sq] = lane_sums(
            layout.inner, [&](std::size_t i) { return static_cast<double>(run[i]) - shift; },
            [&](std::size_t i) {
              const double d = static_cast<double>(run[i]) - shift;
              return d * d;
            });
        sum += s;
        sum_sq += s_sq;
      }
      const double centred = count > 0 ? sum / count : 0.0;
      const double var = count > 0 ? std::max(0.0, sum_sq / count - centred * centred) : 0.0;
      mean[c] = static_cast<T>(shift + centred);
      invstd[c] = static_cast<T>(1.0 / std::sqrt(var + static_cast<double>(eps)));
      if (variance) variance[c] = static_cast<T>(var);
    }
  });
}

template <class T>
void scale_shift_groups(const T* x, const GroupLayout& layout, const T* scale, const T* shift, T* y) {
  for_each_group(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    const T a = scale[c], b = shift[c];
    for (std::size_t k = lo; k < hi; ++k) y[k] = x[k] * a + b;
  });
}

template <class T>
void normalize_affine_inner(const T* x, const GroupLayout& layout, const T* mean, const T* invstd, const T* weight,
                            const T* bias, T* y) {
  map_groups(layout, [&](std::size_t c, std::size_t k, std::size_t i) {
    T v = (x[k] - mean[c]) * invstd[c];
    if (weight) v *= weight[i];
    if (bias) v += bias[i];
    y[k] = v;
  });
}

template <class T>
void grad_sums(const T* g, const T* x, const GroupLayout& layout, const T* mean, const T* invstd, T* sum_g,
               T* sum_g_xhat) {
  parallel_blocks(layout.groups, layout.group_size(), [&](std::size_t first, std::size_t last) {
    for (std::size_t c = first; c < last; ++c) {
      double s = 0, s_centred = 0;  // sum g, sum g * (x - mean)
      const T m = mean[c];
      for (std::size_t o = 0; o < layout.outer; ++o) {
        const T* gr = g + (o * layout.groups + c) * layout.inner;
        const T* xr = x + (o * layout.groups + c) * layout.inner;
        const auto [run_s, run_centred] = lane_sums(
            layout.inner, [&](std::size_t i) { return gr[i]; },
            [&](std::size_t i) { return static_cast<double>(gr[i]) * static_cast<double>(xr[i] - m); });
        s += run_s;
        s_centred += run_centred;
      }
      sum_g[c] = static_cast<T>(s);
      sum_g_xhat[c] = static_cast<T>(s_centred * static_cast<double>(invstd[c]));
    }
  });
}

template <class T>
void normalize_input_grad(const T* g, const T* x, const GroupLayout& layout, const T* mean, const T* invstd,
                          const T* sum_g, const T* sum_g_xhat, const T* weight, T* gx) {
  const T count = static_cast<T>(layout.group_size());
  for_each_group(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    // gx = a_g * g + a_x * x + a_0: the per-group constants of w r (g - S1/M - (x - mean) r S2/M).
    const T wr = (weight ? weight[c] : T(1)) * invstd[c];
    const T a_x = -wr * invstd[c] * sum_g_xhat[c] / count;
    const T a_0 = -wr * sum_g[c] / count - a_x * mean[c];
    for (std::size_t k = lo; k < hi; ++k) gx[k] = wr * g[k] + a_x * x[k] + a_0;
  });
}

#define TG_KERNELS(T)                                                                                            \
  template void group_moments<T>(const T*, const GroupLayout&, T, T*, T*, T*);                                  \
  template void scale_shift_groups<T>(const T*, const GroupLayout&, const T*, const T*, T*);                    \
  template void normalize_affine_inner<T>(const T*, const GroupLayout&, const T*, const T*, const T*, const T*, \
                                          T*);                                                                  \
  template void grad_sums<T>(const T*, const T*, const GroupLayout&, const T*, const T*, T*, T*);               \
  template void normalize_input_grad<T>(const T*, const T*, const GroupLayout&, const T*, const T*, const T*,   \
                                        const T*, const T*, T*);
TG_KERNELS(float)
TG_KERNELS(double)

}  // namespace tg::detail
