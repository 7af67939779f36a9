#include "normalization_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "../../core/detail/parallel.hpp"
#include "lane_sum.hpp"

namespace tg::detail {
namespace {

// Calls body(c, lo, hi) for every run [lo, hi) of `inner` elements, c its group, in memory order
// (o, then c), the runs spread over the threads in contiguous blocks: each thread streams through one
// stretch of memory, where walking a group's runs (a channel's, C * H * W elements apart) would
// restart the prefetcher on every run.
template <class F>
void for_each_run(const GroupLayout& layout, F&& body) {
  parallel_blocks(layout.outer * layout.groups, layout.inner, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) body(r % layout.groups, r * layout.inner, (r + 1) * layout.inner);
  });
}

// Applies y = f(c, i, value) elementwise, i the position inside the run.
template <class F>
void map_groups(const GroupLayout& layout, F&& f) {
  for_each_run(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) f(c, k, k - lo);
  });
}

// About this many elements per chunk of sum_groups: enough work to share out, few partial sums.
constexpr std::size_t kChunkElements = std::size_t(1) << 16;

// Per group c, the sums sum_a[c] and sum_b[c] of the pairs run_sums(c, lo, hi) gives for its runs.
// The outer index is cut into chunks whose bounds depend on the shape alone; each chunk walks its
// runs in memory order and the chunks' partial sums are added in order, so the result is the same on
// any number of threads. With one chunk (layer_norm: one run per group) the groups are shared out.
template <class RunSums>
void sum_groups(const GroupLayout& layout, RunSums&& run_sums, std::vector<double>& sum_a,
                std::vector<double>& sum_b) {
  const std::size_t per_outer = layout.groups * layout.inner;
  const std::size_t chunk = std::max<std::size_t>(1, kChunkElements / std::max<std::size_t>(1, per_outer));
  const std::size_t chunks = (layout.outer + chunk - 1) / chunk;
  sum_a.assign(layout.groups, 0.0);
  sum_b.assign(layout.groups, 0.0);
  auto add_runs = [&](std::size_t o_first, std::size_t o_last, std::size_t c_first, std::size_t c_last, double* a,
                      double* b) {
    for (std::size_t o = o_first; o < o_last; ++o) {
      for (std::size_t c = c_first; c < c_last; ++c) {
        const std::size_t lo = (o * layout.groups + c) * layout.inner;
        const auto [run_a, run_b] = run_sums(c, lo, lo + layout.inner);
        a[c] += run_a;
        b[c] += run_b;
      }
    }
  };
  if (chunks <= 1) {
    parallel_blocks(layout.groups, layout.group_size(), [&](std::size_t first, std::size_t last) {
      add_runs(0, layout.outer, first, last, sum_a.data(), sum_b.data());
    });
    return;
  }
  std::vector<double> partial(chunks * layout.groups * 2, 0.0);
  parallel_blocks(chunks, chunk * per_outer, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first; k < last; ++k) {
      double* a = partial.data() + 2 * k * layout.groups;
      add_runs(k * chunk, std::min(layout.outer, (k + 1) * chunk), 0, layout.groups, a, a + layout.groups);
    }
  });
  for (std::size_t k = 0; k < chunks; ++k) {
    const double* a = partial.data() + 2 * k * layout.groups;
    for (std::size_t c = 0; c < layout.groups; ++c) {
      sum_a[c] += a[c];
      sum_b[c] += a[layout.groups + c];
    }
  }
}

}  // namespace

template <class T>
void group_moments(const T* x, const GroupLayout& layout, T eps, T* mean, T* invstd, T* variance) {
  const double count = static_cast<double>(layout.group_size());
  // Sums of x - shift, shift the group's first element.
  auto shift = [&](std::size_t c) { return layout.group_size() > 0 ? static_cast<double>(x[c * layout.inner]) : 0.0; };
  std::vector<double> sum, sum_sq;
  sum_groups(
      layout,
      [&](std::size_t c, std::size_t lo, std::size_t hi) {
        const T* run = x + lo;
        if constexpr (std::is_same_v<T, float>) {
          if (hi - lo <= kShortRun) {
            const float s = static_cast<float>(shift(c));
            return lane_sums<float>(
                hi - lo, [&](std::size_t i) { return run[i] - s; },
                [&](std::size_t i) {
                  const float d = run[i] - s;
                  return d * d;
                });
          }
        }
        const double s = shift(c);
        return lane_sums(
            hi - lo, [&](std::size_t i) { return static_cast<double>(run[i]) - s; },
            [&](std::size_t i) {
              const double d = static_cast<double>(run[i]) - s;
              return d * d;
            });
      },
      sum, sum_sq);
  for (std::size_t c = 0; c < layout.groups; ++c) {
    const double centred = count > 0 ? sum[c] / count : 0.0;
    const double var = count > 0 ? std::max(0.0, sum_sq[c] / count - centred * centred) : 0.0;
    mean[c] = static_cast<T>(shift(c) + centred);
    invstd[c] = static_cast<T>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    if (variance) variance[c] = static_cast<T>(var);
  }
}

template <class T>
void scale_shift_groups(const T* x, const GroupLayout& layout, const T* scale, const T* shift, T* y) {
  for_each_run(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
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
  std::vector<double> s, s_centred;  // sum g, sum g * (x - mean)
  sum_groups(
      layout,
      [&](std::size_t c, std::size_t lo, std::size_t hi) {
        const T m = mean[c];
        const T *gr = g + lo, *xr = x + lo;
        if constexpr (std::is_same_v<T, float>) {
          if (hi - lo <= kShortRun) {
            return lane_sums<float>(
                hi - lo, [&](std::size_t i) { return gr[i]; }, [&](std::size_t i) { return gr[i] * (xr[i] - m); });
          }
        }
        return lane_sums(
            hi - lo, [&](std::size_t i) { return gr[i]; },
            [&](std::size_t i) { return static_cast<double>(gr[i]) * static_cast<double>(xr[i] - m); });
      },
      s, s_centred);
  for (std::size_t c = 0; c < layout.groups; ++c) {
    sum_g[c] = static_cast<T>(s[c]);
    sum_g_xhat[c] = static_cast<T>(s_centred[c] * static_cast<double>(invstd[c]));
  }
}

template <class T>
void normalize_input_grad(const T* g, const T* x, const GroupLayout& layout, const T* mean, const T* invstd,
                          const T* sum_g, const T* sum_g_xhat, const T* weight, T* gx) {
  const T count = static_cast<T>(layout.group_size());
  for_each_run(layout, [&](std::size_t c, std::size_t lo, std::size_t hi) {
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
