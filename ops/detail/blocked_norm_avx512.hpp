// Batch normalisation between oneDNN's 16-channel blocked layout (N, C/16, HW, 16) and tapegrad's
// plain (N, C, HW), in float with AVX-512 intrinsics: the last layer of a conv_batch_norm_chain
// normalises its convolution's blocked output straight into the op's plain output, and its backward
// turns the plain output gradient straight into the blocked one the convolution takes. oneDNN's
// normalisation plus a reorder each way cost three more passes over the data (a 16x16 transpose in
// registers does the reorder's work inside the passes the normalisation makes anyway).
#pragma once

#include <cstddef>

#if defined(__AVX512F__) || defined(TG_DISPATCH_AVX512)
#define TG_BLOCKED_NORM_AVX512 1
#else
#define TG_BLOCKED_NORM_AVX512 0
#endif

namespace tg::detail {

// N images of C channels (a multiple of 16) of HW positions each.
struct BlockedPlanes {
  std::size_t N = 0, C = 0, HW = 0;
};

#if TG_BLOCKED_NORM_AVX512
// Per channel, the mean and biased variance of blocked y. `partial` holds 2·N·C doubles.
void blocked_moments_avx512(const float* y, const BlockedPlanes& p, double* partial, float* mean, float* variance);

// Plain z = y·scale + shift per channel (then max(0, .) with relu) from blocked y.
void blocked_normalize_avx512(const float* y, const BlockedPlanes& p, const float* scale, const float* shift,
                              bool relu, float* z);

// The backward of z = relu?(x̂·gamma + beta), x̂ = (y - mean)·inv_std with batch statistics, from the
// plain gradient gz: the blocked gradient gy, and dgamma = Σ g·x̂, dbeta = Σ g (g: gz past the ReLU).
// gamma and beta null: 1 and 0. `partial` holds 2·N·C doubles.
void blocked_normalize_backward_avx512(const float* y, const float* gz, const BlockedPlanes& p, const float* mean,
                                       const float* inv_std, const float* gamma, const float* beta, bool relu,
                                       double* partial, float* gy, float* dgamma, float* dbeta);
#endif

}  // namespace tg::detail
