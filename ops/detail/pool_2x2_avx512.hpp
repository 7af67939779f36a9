// 2x2 max pooling with stride 2 and no padding, in float, written with AVX-512 intrinsics. The
// kernels of pool_kernels.cpp call these when has_avx512() (core/detail/cpu.hpp) is true: in a
// native build for an AVX-512 CPU always, in a portable build (TG_DISPATCH_AVX512, where this file's
// .cpp alone is compiled with AVX-512 flags) when the CPU has it. The portable loops stay for
// other machines and for double. Same results as the portable kernels, bit for bit.
#pragma once

#include "pool_kernels.hpp"

#if defined(__AVX512F__) || defined(TG_DISPATCH_AVX512)
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
