#include "conv_chain.hpp"

#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "../core/detail/instantiate.hpp"
#include "../core/grad.hpp"
#include "activation.hpp"
#include "conv.hpp"
#include "detail/autograd.hpp"
#include "detail/dnnl_chain.hpp"
#include "normalization.hpp"

namespace tg {
namespace {

template <class T>
using Layers = std::vector<ConvBatchNormLayer<T>>;

// The layers as separate ops; with update_running, the running statistics are updated.
template <class T>
Variable<T> layer_by_layer(const Variable<T>& x, const Layers<T>& layers, bool update_running) {
  Variable<T> y = x;
  for (const ConvBatchNormLayer<T>& l : layers) {
    y = conv2d(y, l.weight, l.bias, l.stride, l.padding, l.dilation, l.groups);
    y = batch_norm(y, update_running ? l.running_mean : nullptr, update_running ? l.running_var : nullptr, l.scale,
                   l.shift, /*training=*/true, l.momentum, l.eps);
    if (l.relu) y = relu(y);
  }
  return y;
}

// The oneDNN plan of the chain on x, or nothing where it cannot take it (the layers one by one then
// compute it, or report what is wrong).
std::optional<std::vector<detail::ChainLayer>> chain_plan(const Variable<float>& x, const Layers<float>& layers) {
  if (layers.empty() || x.value().dimension() != 4) return std::nullopt;
  std::vector<detail::ChainLayer> plan;
  Shape in = shape_of(x.value());
  for (const ConvBatchNormLayer<float>& l : layers) {
    if (!l.weight.defined() || l.scale.defined() != l.shift.defined() ||
        (l.running_mean == nullptr) != (l.running_var == nullptr)) {
      return std::nullopt;
    }
    detail::ChainLayer layer;
    try {
      Shape bias_storage;
      const Shape* bias = l.bias.defined() ? &(bias_storage = shape_of(l.bias.value())) : nullptr;
      layer.conv = detail::plan_conv2d("conv2d", in, shape_of(l.weight.value()), bias, l.stride, l.padding,
                                       l.dilation, l.groups);
    } catch (const std::invalid_argument&) {
      return std::nullopt;
    }
    const std::size_t O = layer.conv.O;
    const Shape channels{O};
    const auto per_channel = [&](const Variable<float>& v) { return !v.defined() || shape_of(v.value()) == channels; };
    if (!per_channel(l.scale) || !per_channel(l.shift)) return std::nullopt;
    if (l.running_mean && (shape_of(*l.running_mean) != channels || shape_of(*l.running_var) != channels)) {
      return std::nullopt;
    }
    if (layer.conv.N * layer.conv.positions() < 2) return std::nullopt;  // batch_norm refuses one value per channel
    layer.relu = l.relu;
    layer.affine = l.scale.defined();
    layer.eps = l.eps;
    plan.push_back(layer);
    in = layer.conv.output_shape();
  }
  if (!detail::dnnl_chains(plan)) return std::nullopt;
  return plan;
}

// r = (1 - momentum)·r + momentum·batch, with the unbiased variance, as batch_norm updates them.
void update_running(const ConvBatchNormLayer<float>& l, const detail::ChainLayer& plan, const std::vector<float>& mean,
                    const std::vector<float>& variance) {
  if (!l.running_mean) return;
  const double count = static_cast<double>(plan.conv.N * plan.conv.positions());
  const float m = l.momentum;
  float* rm = l.running_mean->data();
  float* rv = l.running_var->data();
  for (std::size_t c = 0; c < mean.size(); ++c) {
    rm[c] = (1 - m) * rm[c] + m * mean[c];
    rv[c] = (1 - m) * rv[c] + m * static_cast<float>(variance[c] * count / (count - 1));
  }
}

// The chain's inputs as recorded: x, then per layer weight, bias, scale, shift (undefined ones too).
std::vector<Variable<float>> inputs_of(const Variable<float>& x, const Layers<float>& layers) {
  std::vector<Variable<float>> inputs{x};
  for (const auto& l : layers) inputs.insert(inputs.end(), {l.weight, l.bias, l.scale, l.shift});
  return inputs;
}

const float* data_or_null(const Variable<float>& v) { return v.defined() ? v.value().data() : nullptr; }

detail::Gradients<float> fused_backward(const std::vector<detail::ChainLayer>& plan, const detail::ChainTape& tape,
                                        const std::vector<Variable<float>>& inputs, const Variable<float>& gy) {
  const auto wanted = [](const Variable<float>& v) { return v.defined() && v.requires_grad(); };
  detail::Gradients<float> grads(inputs.size());
  const auto gradient_of = [&](std::size_t i) -> float* {
    if (!wanted(inputs[i])) return nullptr;
    grads[i] = Variable<float>(Tensor<float>::from_shape(shape_of(inputs[i].value())));
    return grads[i].impl()->value.data();
  };
  float* dx = gradient_of(0);
  std::vector<detail::ChainParameters> parameters;
  std::vector<detail::ChainGradients> layer_grads;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const std::size_t at = 1 + 4 * i;
    parameters.push_back({data_or_null(inputs[at]), data_or_null(inputs[at + 1]), data_or_null(inputs[at + 2]),
                          data_or_null(inputs[at + 3])});
    layer_grads.push_back({gradient_of(at), gradient_of(at + 1), gradient_of(at + 2), gradient_of(at + 3)});
  }
  detail::dnnl_chain_backward(plan, parameters, tape, inputs[0].value().data(), gy.value().data(), dx, layer_grads);
  return grads;
}

// Under create_graph: the layers one by one on the saved inputs (batch statistics, no running
// update), differentiated with the graph recorded.
detail::Gradients<float> recorded_backward(const Layers<float>& layers, const std::vector<Variable<float>>& inputs,
                                           const Variable<float>& gy) {
  const Variable<float> y = layer_by_layer(inputs[0], layers, /*update_running=*/false);
  std::vector<Variable<float>> targets;
  std::vector<std::size_t> at;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && inputs[i].requires_grad()) {
      targets.push_back(inputs[i]);
      at.push_back(i);
    }
  }
  const std::vector<Variable<float>> found = grad<float>({y}, targets, {gy}, true, /*create_graph=*/true, true);
  detail::Gradients<float> grads(inputs.size());
  for (std::size_t k = 0; k < at.size(); ++k) grads[at[k]] = found[k];
  return grads;
}

Variable<float> fused(const Variable<float>& x, const Layers<float>& layers, const std::vector<detail::ChainLayer>& plan) {
  std::vector<detail::ChainParameters> parameters;
  std::vector<std::vector<float>> mean(plan.size()), variance(plan.size());
  std::vector<float*> mean_at, variance_at;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const auto& l = layers[i];
    parameters.push_back({l.weight.value().data(), data_or_null(l.bias), data_or_null(l.scale), data_or_null(l.shift)});
    mean[i].resize(plan[i].conv.O);
    variance[i].resize(plan[i].conv.O);
    mean_at.push_back(mean[i].data());
    variance_at.push_back(variance[i].data());
  }
  std::vector<Variable<float>> inputs = inputs_of(x, layers);
  const bool keep = will_record<float>(inputs);
  Tensor<float> y = Tensor<float>::from_shape(plan.back().conv.output_shape());
  std::shared_ptr<const detail::ChainTape> tape =
      detail::dnnl_chain_forward(plan, parameters, x.value().data(), y.data(), mean_at, variance_at, keep);
  for (std::size_t i = 0; i < plan.size(); ++i) update_running(layers[i], plan[i], mean[i], variance[i]);
  if (!keep) return detail::record<float>("conv_batch_norm_chain", std::move(y), inputs, detail::saves_nothing(), nullptr);

  // The backward reads x and the parameters.
  const detail::Saves saves = detail::saves_all_inputs(inputs);
  std::vector<Variable<float>> captured = inputs;
  Layers<float> recompute = layers;
  return detail::record<float>(
      "conv_batch_norm_chain", std::move(y), std::move(inputs), saves,
      [plan, tape, captured, recompute](Variable<float> gy, const Variable<float>&) {
        std::vector<Variable<float>> all = captured;
        all.push_back(gy);
        if (!will_record<float>(all)) return fused_backward(plan, *tape, captured, gy);
        return recorded_backward(recompute, captured, gy);
      });
}

}  // namespace

template <class T>
Variable<T> conv_batch_norm_chain(const Variable<T>& x, const Layers<T>& layers) {
  if constexpr (std::is_same_v<T, float>) {
    if (const auto plan = chain_plan(x, layers)) return fused(x, layers, *plan);
  }
  return layer_by_layer(x, layers, /*update_running=*/true);
}

#define TG_FUNCTIONS(T) \
  template Variable<T> conv_batch_norm_chain(const Variable<T>&, const std::vector<ConvBatchNormLayer<T>>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
