#include "pool_2x2_avx512.hpp"

#if TG_POOL_2X2_AVX512

// In a portable build this file alone is compiled for AVX-512, and the linker keeps one copy of
// each inline function that several files define, whichever file it comes from: so nothing here
// may instantiate such a function (std::min, std::fill, ...) that other files use, nor run any code
// before has_avx512() is asked (no dynamically initialised globals). Only the intrinsics, which
// are always inlined, and parallel_blocks and the row walks of pool_2x2_rows.hpp, whose instances
// here take this file's own lambdas.
#include <immintrin.h>

#include <cstring>

#include "../../core/detail/parallel.hpp"
#include "pool_2x2_rows.hpp"

namespace tg::detail {
namespace {

// Sixteen windows at a time: the two input rows of a window row hold 32 floats per 16 windows, and
// one permute splits each row into its even (left tap) and odd (right tap) columns. Plain loops
// over such interleaved rows compile to scalar code at these widths (13 and 5 windows per row in
// the MNIST CNN), which made pooling a tenth of a CNN step.
constexpr int lanes = 16;

__m512i even_columns() { return _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0); }
__m512i odd_columns() { return _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1); }
__m512i interleave_low() { return _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0); }
__m512i interleave_high() { return _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8); }

// The smaller of a and b (std::min would be an inline function shared with other files).
std::size_t least(std::size_t a, std::size_t b) { return a < b ? a : b; }

// The mask of the first n lanes (none for n <= 0).
__mmask16 first(int n) { return static_cast<__mmask16>(n <= 0 ? 0u : n >= lanes ? 0xFFFFu : (1u << n) - 1u); }

// The four taps (top-left, top-right, bottom-left, bottom-right) of n <= 16 neighbouring windows.
struct Taps {
  __m512 a0, a1, a2, a3;
};

Taps load_taps(const float* r0, const float* r1, int n) {
  const __mmask16 lo = first(2 * n), hi = first(2 * n - lanes);
  const __m512 t0 = _mm512_maskz_loadu_ps(lo, r0), t1 = _mm512_maskz_loadu_ps(hi, r0 + lanes);
  const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1), b1 = _mm512_maskz_loadu_ps(hi, r1 + lanes);
  return {_mm512_permutex2var_ps(t0, even_columns(), t1), _mm512_permutex2var_ps(t0, odd_columns(), t1),
          _mm512_permutex2var_ps(b0, even_columns(), b1), _mm512_permutex2var_ps(b0, odd_columns(), b1)};
}

// PyTorch's rule in taps' row-major order, as in pool_kernels.cpp's select_2x2: a later tap wins
// when it is larger or a NaN. won1..won3 say whether tap k beat the taps before it.
struct Choice {
  __m512 max;
  __mmask16 won1, won2, won3;
};

__mmask16 beats(__m512 v, __m512 best) {
  return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
}

Choice choose(const Taps& t) {
  Choice c;
  c.won1 = beats(t.a1, t.a0);
  const __m512 b1 = _mm512_mask_blend_ps(c.won1, t.a0, t.a1);
  c.won2 = beats(t.a2, b1);
  const __m512 b2 = _mm512_mask_blend_ps(c.won2, b1, t.a2);
  c.won3 = beats(t.a3, b2);
  c.max = _mm512_mask_blend_ps(c.won3, b2, t.a3);
  return c;
}

// Writes the 2n values of the interleaved row (left[0], right[0], left[1], ...).
void store_interleaved(float* row, __m512 left, __m512 right, int n) {
  _mm512_mask_storeu_ps(row, first(2 * n), _mm512_permutex2var_ps(left, interleave_low(), right));
  _mm512_mask_storeu_ps(row + lanes, first(2 * n - lanes), _mm512_permutex2var_ps(left, interleave_high(), right));
}

}  // namespace

void max_pool_2x2_forward_avx512(const float* x, const PoolGeometry& g, float* y, std::uint8_t* choice) {
  const std::size_t W = g.width, OW = g.out_w;
  parallel_for_each_2x2_row(g, g.height * W, [x, y, choice, W, OW](std::size_t in, std::size_t o) {
    const float* r0 = x + in;
    for (std::size_t ow = 0; ow < OW; ow += lanes) {
      const int n = static_cast<int>(least(lanes, OW - ow));
      const Choice c = choose(load_taps(r0 + 2 * ow, r0 + W + 2 * ow, n));
      _mm512_mask_storeu_ps(y + o + ow, first(n), c.max);
      if (choice) {  // the last tap that won: later masks overwrite earlier ones
        __m512i tap = _mm512_setzero_si512();
        tap = _mm512_mask_mov_epi32(tap, c.won1, _mm512_set1_epi32(1));
        tap = _mm512_mask_mov_epi32(tap, c.won2, _mm512_set1_epi32(2));
        tap = _mm512_mask_mov_epi32(tap, c.won3, _mm512_set1_epi32(3));
        _mm512_mask_cvtepi32_storeu_epi8(choice + o + ow, first(n), tap);
      }
    }
  });
}

void max_pool_2x2_backward_avx512(const std::uint8_t* choice, const float* gy, const PoolGeometry& g, float* gx) {
  const std::size_t W = g.width, OW = g.out_w;
  parallel_for_each_2x2_gradient_row(g, gx, [choice, gy, gx, W, OW](std::size_t in, std::size_t o) {
    float* d0 = gx + in;
    for (std::size_t ow = 0; ow < OW; ow += lanes) {
      const int n = static_cast<int>(least(lanes, OW - ow));
      alignas(16) std::uint8_t bytes[lanes] = {};
      std::memcpy(bytes, choice + o + ow, static_cast<std::size_t>(n));
      const __m512i tap = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(bytes)));
      const __m512 g_in = _mm512_maskz_loadu_ps(first(n), gy + o + ow);
      auto to = [&](int k) { return _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(tap, _mm512_set1_epi32(k)), g_in); };
      store_interleaved(d0 + 2 * ow, to(0), to(1), n);
      store_interleaved(d0 + W + 2 * ow, to(2), to(3), n);
    }
  });
}

}  // namespace tg::detail

#endif  // TG_POOL_2X2_AVX512
