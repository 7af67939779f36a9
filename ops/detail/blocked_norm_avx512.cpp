#include "blocked_norm_avx512.hpp"

#if TG_BLOCKED_NORM_AVX512

// As in pool_2x2_avx512.cpp: in a portable build this file alone is compiled for AVX-512, so it may
// instantiate no inline function that other files use nor run code before has_avx512() is asked.
// Only intrinsics and parallel_blocks with this file's own lambdas.
#include <immintrin.h>

#include "../../core/detail/parallel.hpp"

namespace tg::detail {
namespace {

constexpr std::size_t lanes = 16;

// r[i] holds row i of a 16x16 tile; afterwards r[j] holds its column j.
inline void transpose(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: rows 2i, 2i+1 interleaved by pairs of columns
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // u[4i + j], 128-bit lane L: column 4L + j of rows 4i..4i+3
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {  // gather the four row groups of columns j, 4 + j, 8 + j, 12 + j
    const __m512 even = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88), odd = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
    const __m512 even2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88),
                 odd2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
    r[j] = _mm512_shuffle_f32x4(even, even2, 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(even, even2, 0xDD);
    r[4 + j] = _mm512_shuffle_f32x4(odd, odd2, 0x88);
    r[12 + j] = _mm512_shuffle_f32x4(odd, odd2, 0xDD);
  }
}

// The first k of 16 lanes.
inline __mmask16 first(std::size_t k) { return static_cast<__mmask16>(k >= lanes ? 0xFFFFu : (1u << k) - 1u); }

// Block b = (n, c / 16): its blocked values start at y + b·HW·16, its 16 plain rows at plain +
// (n·C + 16·(b % (C/16)))·HW, which is b·16·HW as well.
inline std::size_t block_offset(std::size_t b, const BlockedPlanes& p) { return b * p.HW * lanes; }

// The 16 channels' gradient rows of positions [at, at + k) of block b, as one vector per position.
inline void load_plain_tile(const float* plain, std::size_t HW, std::size_t at, std::size_t k, __m512 r[16]) {
  const __mmask16 m = first(k);
  for (std::size_t c = 0; c < lanes; ++c) r[c] = _mm512_maskz_loadu_ps(m, plain + c * HW + at);
  transpose(r);
}

// Block b's 16 channel sums into the two halves of `partial` (N·C doubles each).
inline void store_partials(std::size_t b, const BlockedPlanes& p, __m512 first, __m512 second, double* partial) {
  const std::size_t groups = p.C / lanes, at = (b / groups) * p.C + (b % groups) * lanes;
  alignas(64) float a[lanes], c[lanes];
  _mm512_store_ps(a, first);
  _mm512_store_ps(c, second);
  for (std::size_t i = 0; i < lanes; ++i) {
    partial[at + i] = a[i];
    partial[p.N * p.C + at + i] = c[i];
  }
}

// Channel c's two sums over the images, added in image order (the same on any thread count).
inline void add_partials(const double* partial, const BlockedPlanes& p, std::size_t c, double& first, double& second) {
  first = second = 0;
  for (std::size_t n = 0; n < p.N; ++n) {
    first += partial[n * p.C + c];
    second += partial[p.N * p.C + n * p.C + c];
  }
}

// The backward's walk over block b: fn(i, x̂, g) for each position i, g being gz past the ReLU
// (z > 0 where z = x̂·gamma + beta). gamma and beta null: 1 and 0.
template <class F>
inline void walk_gradients(std::size_t b, const float* y, const float* gz, const BlockedPlanes& p, const float* mean,
                           const float* inv_std, const float* gamma, const float* beta, bool relu, F&& fn) {
  const std::size_t g = (b % (p.C / lanes)) * lanes;
  const float* yb = y + block_offset(b, p);
  const float* gb = gz + block_offset(b, p);
  const __m512 mu = _mm512_loadu_ps(mean + g), is = _mm512_loadu_ps(inv_std + g);
  const __m512 ga = gamma ? _mm512_loadu_ps(gamma + g) : _mm512_set1_ps(1.0f);
  const __m512 be = beta ? _mm512_loadu_ps(beta + g) : _mm512_setzero_ps();
  for (std::size_t at = 0; at < p.HW; at += lanes) {
    const std::size_t k = p.HW - at < lanes ? p.HW - at : lanes;
    __m512 r[16];
    load_plain_tile(gb, p.HW, at, k, r);
    for (std::size_t i = 0; i < k; ++i) {
      const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(yb + (at + i) * lanes), mu), is);
      __m512 gi = r[i];
      if (relu) {
        gi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_fmadd_ps(xhat, ga, be), _mm512_setzero_ps(), _CMP_GT_OQ), gi);
      }
      fn(at + i, xhat, gi);
    }
  }
}

}  // namespace

void blocked_moments_avx512(const float* y, const BlockedPlanes& p, double* partial, float* mean, float* variance) {
  const std::size_t blocks = p.N * (p.C / lanes);
  // Sums of values shifted by each channel's first value, so that the variance does not cancel for
  // values far from 0; per block, then added in block order (the same on any thread count).
  parallel_blocks(blocks, p.HW * lanes, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t b = lo; b < hi; ++b) {
      const float* yb = y + block_offset(b, p);
      const __m512 s = _mm512_loadu_ps(y + (b % (p.C / lanes)) * p.HW * lanes);
      __m512 sum[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, squares[2] = {sum[0], sum[0]};
      for (std::size_t i = 0; i < p.HW; ++i) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(yb + i * lanes), s);
        sum[i & 1] = _mm512_add_ps(sum[i & 1], d);
        squares[i & 1] = _mm512_fmadd_ps(d, d, squares[i & 1]);
      }
      store_partials(b, p, _mm512_add_ps(sum[0], sum[1]), _mm512_add_ps(squares[0], squares[1]), partial);
    }
  });
  const double count = static_cast<double>(p.N * p.HW);
  for (std::size_t c = 0; c < p.C; ++c) {
    double a = 0, q = 0;
    add_partials(partial, p, c, a, q);
    const double first_value = y[(c / lanes) * p.HW * lanes + c % lanes];
    const double m = a / count;
    mean[c] = static_cast<float>(first_value + m);
    const double v = q / count - m * m;
    variance[c] = static_cast<float>(v > 0 ? v : 0);
  }
}

void blocked_normalize_avx512(const float* y, const BlockedPlanes& p, const float* scale, const float* shift,
                              bool relu, float* z) {
  const std::size_t groups = p.C / lanes, blocks = p.N * groups;
  parallel_blocks(blocks, p.HW * lanes, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t b = lo; b < hi; ++b) {
      const float* yb = y + block_offset(b, p);
      float* zb = z + block_offset(b, p);
      const __m512 a = _mm512_loadu_ps(scale + (b % groups) * lanes), c = _mm512_loadu_ps(shift + (b % groups) * lanes);
      for (std::size_t at = 0; at < p.HW; at += lanes) {
        const std::size_t k = p.HW - at < lanes ? p.HW - at : lanes;
        __m512 r[16];
        for (std::size_t i = 0; i < lanes; ++i) {
          r[i] = i < k ? _mm512_fmadd_ps(_mm512_loadu_ps(yb + (at + i) * lanes), a, c) : _mm512_setzero_ps();
          if (relu) r[i] = _mm512_max_ps(_mm512_setzero_ps(), r[i]);  // NaN passes, as relu lets it
        }
        transpose(r);
        const __mmask16 m = first(k);
        for (std::size_t ch = 0; ch < lanes; ++ch) _mm512_mask_storeu_ps(zb + ch * p.HW + at, m, r[ch]);
      }
    }
  });
}

void blocked_normalize_backward_avx512(const float* y, const float* gz, const BlockedPlanes& p, const float* mean,
                                       const float* inv_std, const float* gamma, const float* beta, bool relu,
                                       double* partial, float* gy, float* dgamma, float* dbeta) {
  const std::size_t groups = p.C / lanes, blocks = p.N * groups;
  // First sweep: Σ g and Σ g·x̂ per block.
  parallel_blocks(blocks, 2 * p.HW * lanes, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t b = lo; b < hi; ++b) {
      __m512 sum = _mm512_setzero_ps(), dot = _mm512_setzero_ps();
      walk_gradients(b, y, gz, p, mean, inv_std, gamma, beta, relu, [&](std::size_t, __m512 xhat, __m512 g) {
        sum = _mm512_add_ps(sum, g);
        dot = _mm512_fmadd_ps(g, xhat, dot);
      });
      store_partials(b, p, sum, dot, partial);
    }
  });
  for (std::size_t c = 0; c < p.C; ++c) {
    double s = 0, d = 0;
    add_partials(partial, p, c, s, d);
    dbeta[c] = static_cast<float>(s);
    dgamma[c] = static_cast<float>(d);
  }
  // Second sweep: gy = gamma·inv_std·(g - Σg/m - x̂·Σg·x̂/m), written blocked.
  const __m512 inv_count = _mm512_set1_ps(1.0f / static_cast<float>(p.N * p.HW));
  parallel_blocks(blocks, 3 * p.HW * lanes, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t b = lo; b < hi; ++b) {
      const std::size_t g = (b % groups) * lanes;
      float* out = gy + block_offset(b, p);
      const __m512 ga = gamma ? _mm512_loadu_ps(gamma + g) : _mm512_set1_ps(1.0f);
      const __m512 scale = _mm512_mul_ps(ga, _mm512_loadu_ps(inv_std + g));
      const __m512 mean_g = _mm512_mul_ps(_mm512_loadu_ps(dbeta + g), inv_count);
      const __m512 mean_gx = _mm512_mul_ps(_mm512_loadu_ps(dgamma + g), inv_count);
      walk_gradients(b, y, gz, p, mean, inv_std, gamma, beta, relu, [&](std::size_t i, __m512 xhat, __m512 gi) {
        const __m512 centred = _mm512_sub_ps(_mm512_sub_ps(gi, mean_g), _mm512_mul_ps(xhat, mean_gx));
        _mm512_storeu_ps(out + i * lanes, _mm512_mul_ps(scale, centred));
      });
    }
  });
}

}  // namespace tg::detail

#endif
