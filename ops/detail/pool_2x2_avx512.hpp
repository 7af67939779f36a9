// 2x2 max pooling with stride 2 and no padding, in float, written with AVX-512 intrinsics (the
// kernels of pool_kernels.cpp pick these when the compiler targets AVX-512; the portable loops
// stay for other machines and for double). Same results as the portable kernels, bit for bit.
#pragma once

#include "pool_kernels.hpp"

#if defined(__AVX512F__)
#define TG_POOL_2X2_AVX512 1
#else
#define TG_POOL_2X2_AVX512 0
#endif

namespace tg::detail {

#if TG_POOL_2X2_AVX512
// As max_pool_2x2_forward and max_pool_2x2_backward (pool_kernels.hpp), for float.
void max_pool_2x2_forward_avx512(const float* x, const PoolGeometry& g, float* y, std::uint8_t* choice);
void max_pool_2x2_backward_avx512(const std::uint8_t* choice, const float* gy, const PoolGeometry& g, float* gx);
#endif

}  // namespace tg::detail
