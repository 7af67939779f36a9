// Float convolutions through oneDNN's convolution primitives (when the library was built with
// libdnnl-dev, TG_HAVE_DNNL). They keep tapegrad's NCHW tensors at their edges: each call
// reorders its inputs into the blocked layouts oneDNN computes in and its results back. On
// fashion_resnet's 3x3 layers (batch 128) forward + backward took 0.33-0.80x the time of im2col +
// GEMM, reorders included; with a single input channel or a 1x1 kernel they were no faster, so
// those plans stay on im2col (dnnl_convolves). 3x3 stride-1 layers of 32 or more channels use
// oneDNN's Winograd kernels where the CPU has them (AVX-512), the rest its direct kernels. double
// always stays on im2col.
#pragma once

#include "conv_lowering.hpp"

namespace tg::detail {

// Whether plan p runs through oneDNN in float (false without oneDNN).
bool dnnl_convolves(const ConvPlan& p);

// y (N, O, OH, OW) = conv(x, w) + bias for the whole batch; bias (O values) may be null.
void dnnl_convolution_forward(const ConvPlan& p, const float* x, const float* w, const float* bias, float* y);

// From the output gradient dy (N, O, OH, OW): dx (N, C, H, W), dw (w's shape) and db (O), each
// computed only when not null, and overwritten. x is read only for dw, w only for dx.
void dnnl_convolution_backward(const ConvPlan& p, const float* x, const float* w, const float* dy, float* dx,
                               float* dw, float* db);

}  // namespace tg::detail
