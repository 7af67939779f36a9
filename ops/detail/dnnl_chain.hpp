// A chain of convolutions, each followed by batch normalisation with batch statistics and
// optionally a ReLU, computed in float through oneDNN with every value between the chain's input
// and its output in the blocked layout oneDNN computes in. Layer by layer (conv2d, batch_norm,
// relu as separate ops), each convolution reorders its input in and its output out, and its
// gradients likewise: in fashion_resnet those reorders took a sixth of a training step.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "conv_lowering.hpp"

namespace tg::detail {

struct ChainLayer {
  ConvPlan conv;      // for this layer's input; its output has plan.O channels
  bool relu = false;  // a ReLU after the batch normalisation
  bool affine = true; // the batch normalisation has a scale and a shift
  float eps = 1e-5f;
};

// The values the backward reads (blocked copies, batch statistics, ReLU masks).
class ChainTape;

// Whether oneDNN computes this chain in float with one layout throughout (false without oneDNN).
bool dnnl_chains(const std::vector<ChainLayer>& layers);

// One layer's parameters: bias may be null (none), and so may scale and shift without affine.
struct ChainParameters {
  const float* weight = nullptr;
  const float* bias = nullptr;
  const float* scale = nullptr;
  const float* shift = nullptr;
};

// x (N, C, H, W) in, y out (the last layer's output shape). Each layer's batch mean and biased
// variance are left in mean[i] and variance[i] (O floats each). Returns what the backward reads,
// or null without `keep`.
std::shared_ptr<const ChainTape> dnnl_chain_forward(const std::vector<ChainLayer>& layers,
                                                    const std::vector<ChainParameters>& parameters, const float* x,
                                                    float* y, const std::vector<float*>& mean,
                                                    const std::vector<float*>& variance, bool keep);

// Where one layer's gradients go; null where one is not wanted (overwritten, not accumulated).
struct ChainGradients {
  float* weight = nullptr;
  float* bias = nullptr;
  float* scale = nullptr;
  float* shift = nullptr;
};

// From the forward's input x and the output gradient dy: dx (null: not wanted) and each layer's
// parameter gradients.
void dnnl_chain_backward(const std::vector<ChainLayer>& layers, const std::vector<ChainParameters>& parameters,
                         const ChainTape& tape, const float* x, const float* dy, float* dx,
                         const std::vector<ChainGradients>& grads);

}  // namespace tg::detail
