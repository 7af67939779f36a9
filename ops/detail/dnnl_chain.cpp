#include "dnnl_chain.hpp"

#include <stdexcept>

#ifdef TG_HAVE_DNNL
#include <cmath>
#include <cstring>

#include "../../core/detail/cpu.hpp"
#include "blocked_norm_avx512.hpp"
#include "dnnl_primitives.hpp"
#endif

namespace tg::detail {

#ifdef TG_HAVE_DNNL
namespace {

using namespace dnnl_support;

// One layer's batch normalisation, on the layout of its convolution's output; the ReLU, when the
// layer has one, is oneDNN's fused one (its mask is the forward's workspace).
struct Normalization {
  memory::desc data, channels;
  dnnl::batch_normalization_forward forward;
  memory::desc forward_scratchpad, mask;
  dnnl::batch_normalization_backward backward;
  memory::desc backward_scratchpad;

  // Throws dnnl::error where oneDNN has no such primitive, std::runtime_error where it would
  // compute in another layout.
  Normalization(const memory::desc& layout, const ChainLayer& layer) : data(layout) {
    using flag = dnnl::normalization_flags;
    flag flags = flag::none;
    if (layer.affine) flags = flags | flag::use_scale | flag::use_shift;
    if (layer.relu) flags = flags | flag::fuse_norm_relu;
    const dnnl::primitive_attr attr = user_scratchpad();
    const dnnl::batch_normalization_forward::primitive_desc fwd(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, data, layer.eps, flags), attr,
        cpu_engine());
    const dnnl::batch_normalization_backward::primitive_desc bwd(
        dnnl::batch_normalization_backward::desc(
            layer.affine ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data, data, data, layer.eps, flags),
        attr, cpu_engine(), fwd);
    if (fwd.dst_desc() != data || bwd.diff_src_desc() != data || bwd.diff_dst_desc() != data) {
      throw std::runtime_error("batch normalisation in another layout");
    }
    forward = dnnl::batch_normalization_forward(fwd);
    forward_scratchpad = fwd.scratchpad_desc();
    mask = fwd.workspace_desc();
    backward = dnnl::batch_normalization_backward(bwd);
    backward_scratchpad = bwd.scratchpad_desc();
    channels = memory::desc({dim(layer.conv.O)}, memory::data_type::f32, memory::format_tag::x);
  }
};

struct Layer {
  std::shared_ptr<const Convolution> conv;
  Normalization norm;
};

// A chain's primitives. Each convolution's output layout is the one its normalisation, its own
// gradient passes and the next convolution (its input, and its input gradient) compute in, so no
// value is reordered between the chain's ends.
struct Chain {
  std::vector<Layer> layers;
  // The last normalisation runs on tapegrad's AVX-512 kernels (blocked_norm_avx512.hpp), straight
  // between the blocked convolution output and the plain op output, instead of oneDNN's plus reorders.
  bool plain_end = false;
};

// Whether the chain's end can be normalised by blocked_norm_avx512: its layout is 16-channel blocks
// with no padding channels.
bool ends_in_plain(const ChainLayer& last, const memory::desc& layout) {
#if TG_BLOCKED_NORM_AVX512
  if (!has_avx512() || last.conv.O % 16 != 0) return false;
  const ConvPlan& p = last.conv;
  return layout == memory::desc({dim(p.N), dim(p.O), dim(p.g.out_h), dim(p.g.out_w)}, memory::data_type::f32,
                                memory::format_tag::aBcd16b);
#else
  (void)last;
  (void)layout;
  return false;
#endif
}

// The chain's input and its gradient are reordered from and to the plain layout, whatever layouts
// the first convolution takes them in; past it, each layout must be its predecessor's output's.
bool lines_up(const std::vector<std::shared_ptr<const Convolution>>& convs) {
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const Convolution& c = *convs[i];
    const memory::desc& out = c.forward_y.computed();
    if (c.data_dy.computed() != out || c.weights_dy.computed() != out) return false;
    if (i == 0) continue;
    const memory::desc& in = convs[i - 1]->forward_y.computed();
    if (c.forward_x.computed() != in || c.weights_x.computed() != in || c.data_dx.computed() != in) return false;
  }
  return true;
}

std::shared_ptr<const Chain> build(const std::vector<ChainLayer>& layers) {
  std::vector<std::shared_ptr<const Convolution>> convs;
  for (const ChainLayer& l : layers) {
    convs.push_back(convolution(l.conv, /*any_width=*/true));
    if (!convs.back()) return nullptr;
  }
  if (!lines_up(convs)) return nullptr;
  auto chain = std::make_shared<Chain>();
  try {
    for (std::size_t i = 0; i < layers.size(); ++i) {
      chain->layers.push_back(Layer{convs[i], Normalization(convs[i]->forward_y.computed(), layers[i])});
    }
  } catch (const dnnl::error&) {
    return nullptr;
  } catch (const std::runtime_error&) {
    return nullptr;
  }
  chain->plain_end = ends_in_plain(layers.back(), convs.back()->forward_y.computed());
  return chain;
}

using Key = std::vector<std::size_t>;

Key key_of(const std::vector<ChainLayer>& layers, int threads) {
  Key key{static_cast<std::size_t>(threads)};
  for (const ChainLayer& l : layers) {
    const ConvPlan& p = l.conv;
    const ConvGeometry& g = p.g;
    std::uint32_t eps_bits = 0;
    std::memcpy(&eps_bits, &l.eps, sizeof eps_bits);
    key.insert(key.end(), {p.N, p.C, p.O, p.groups, g.height, g.width, g.kernel_h, g.kernel_w, g.stride, g.padding,
                           g.dilation, g.out_h, g.out_w, std::size_t(l.relu), std::size_t(l.affine), eps_bits});
  }
  return key;
}

// Built chains (null where oneDNN cannot chain one), kept as the convolutions are.
std::shared_ptr<const Chain> find(const std::vector<ChainLayer>& layers) {
  if (layers.empty()) return nullptr;
  static BuildCache<Key, Chain> cache;
  const int threads = caller_threads();
  return cache.find(key_of(layers, threads), threads, [&layers] { return build(layers); });
}

std::shared_ptr<const Chain> built(const std::vector<ChainLayer>& layers, const char* what) {
  std::shared_ptr<const Chain> chain = find(layers);
  if (!chain) throw std::logic_error(std::string(what) + ": called for a chain dnnl_chains rejects");
  return chain;
}

memory owned(const memory::desc& desc) { return memory(desc, cpu_engine()); }
memory over(const memory::desc& desc, const float* data) { return memory(desc, cpu_engine(), const_cast<float*>(data)); }
memory in_slot(const memory::desc& desc, Workspace::Slot slot) {
  return memory(desc, cpu_engine(), workspace().get(slot, desc.get_size()));
}

}  // namespace

// Per layer: the convolution's input and output (blocked), the batch statistics and the ReLU's mask.
class ChainTape {
 public:
  std::shared_ptr<const Chain> chain;
  std::vector<memory> input, output, mask;
  std::vector<std::vector<float>> mean, variance;
};

namespace {

// oneDNN's batch normalisation (with its fused ReLU) of the blocked convolution output.
void normalize(const ChainLayer& layer, const Normalization& n, const ChainParameters& p, const memory& out,
               const memory& normalized, const memory& mask, float* mean, float* variance, dnnl::stream& stream) {
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, out},
                                       {DNNL_ARG_DST, normalized},
                                       {DNNL_ARG_MEAN, over(n.channels, mean)},
                                       {DNNL_ARG_VARIANCE, over(n.channels, variance)}};
  if (layer.affine) {
    args.emplace(DNNL_ARG_SCALE, over(n.channels, p.scale));
    args.emplace(DNNL_ARG_SHIFT, over(n.channels, p.shift));
  }
  if (layer.relu) args.emplace(DNNL_ARG_WORKSPACE, mask);
  run(n.forward, n.forward_scratchpad, std::move(args), stream);
}

void normalize_backward(const ChainLayer& layer, const Normalization& n, const ChainParameters& p,
                        const ChainTape& tape, std::size_t i, const memory& g, const memory& dconv, float* dscale,
                        float* dshift, dnnl::stream& stream) {
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, tape.output[i]},
                                       {DNNL_ARG_MEAN, over(n.channels, tape.mean[i].data())},
                                       {DNNL_ARG_VARIANCE, over(n.channels, tape.variance[i].data())},
                                       {DNNL_ARG_DIFF_DST, g},
                                       {DNNL_ARG_DIFF_SRC, dconv}};
  if (layer.affine) {
    args.emplace(DNNL_ARG_SCALE, over(n.channels, p.scale));
    args.emplace(DNNL_ARG_SHIFT, over(n.channels, p.shift));  // unread, but oneDNN 2.6 asks for it
    args.emplace(DNNL_ARG_DIFF_SCALE, over(n.channels, dscale));
    args.emplace(DNNL_ARG_DIFF_SHIFT, over(n.channels, dshift));
  }
  if (layer.relu) args.emplace(DNNL_ARG_WORKSPACE, tape.mask[i]);
  run(n.backward, n.backward_scratchpad, std::move(args), stream);
}

#if TG_BLOCKED_NORM_AVX512
BlockedPlanes planes_of(const ChainLayer& layer) {
  return {layer.conv.N, layer.conv.O, layer.conv.positions()};
}

std::vector<float> inverse_std(const float* variance, std::size_t channels, float eps) {
  std::vector<float> inv(channels);
  for (std::size_t c = 0; c < channels; ++c) inv[c] = static_cast<float>(1.0 / std::sqrt(double(variance[c]) + eps));
  return inv;
}

// The last layer: statistics of the blocked output, then y = x·a + b (a = gamma/std, b = beta - mean·a),
// as batch_norm folds them, written plain.
void normalize_into_plain(const ChainLayer& layer, const ChainParameters& p, const memory& out, float* y, float* mean,
                          float* variance) {
  const BlockedPlanes planes = planes_of(layer);
  const auto* blocked = static_cast<const float*>(out.get_data_handle());
  std::vector<double> partial(2 * planes.N * planes.C);
  blocked_moments_avx512(blocked, planes, partial.data(), mean, variance);
  const std::vector<float> inv = inverse_std(variance, planes.C, layer.eps);
  std::vector<float> a(planes.C), b(planes.C);
  for (std::size_t c = 0; c < planes.C; ++c) {
    a[c] = (p.scale ? p.scale[c] : 1.0f) * inv[c];
    b[c] = (p.shift ? p.shift[c] : 0.0f) - mean[c] * a[c];
  }
  blocked_normalize_avx512(blocked, planes, a.data(), b.data(), layer.relu, y);
}

void normalize_backward_from_plain(const ChainLayer& layer, const ChainParameters& p, const ChainTape& tape,
                                   std::size_t i, const float* dy, const memory& dconv, float* dscale, float* dshift) {
  const BlockedPlanes planes = planes_of(layer);
  std::vector<double> partial(2 * planes.N * planes.C);
  const std::vector<float> inv = inverse_std(tape.variance[i].data(), planes.C, layer.eps);
  blocked_normalize_backward_avx512(static_cast<const float*>(tape.output[i].get_data_handle()), dy, planes,
                                    tape.mean[i].data(), inv.data(), p.scale, p.shift, layer.relu, partial.data(),
                                    static_cast<float*>(dconv.get_data_handle()), dscale, dshift);
}
#else
void normalize_into_plain(const ChainLayer&, const ChainParameters&, const memory&, float*, float*, float*) {
  throw std::logic_error("normalize_into_plain: built without the AVX-512 kernels");
}
void normalize_backward_from_plain(const ChainLayer&, const ChainParameters&, const ChainTape&, std::size_t,
                                   const float*, const memory&, float*, float*) {
  throw std::logic_error("normalize_backward_from_plain: built without the AVX-512 kernels");
}
#endif

}  // namespace

bool dnnl_chains(const std::vector<ChainLayer>& layers) { return find(layers) != nullptr; }

std::shared_ptr<const ChainTape> dnnl_chain_forward(const std::vector<ChainLayer>& layers,
                                                    const std::vector<ChainParameters>& parameters, const float* x,
                                                    float* y, const std::vector<float*>& mean,
                                                    const std::vector<float*>& variance, bool keep) {
  const auto chain = built(layers, "dnnl_chain_forward");
  auto tape = std::make_shared<ChainTape>();
  tape->chain = chain;
  dnnl::stream stream(cpu_engine());
  const std::size_t last = layers.size() - 1;
  memory in = chain->layers[0].conv->forward_x.bring_in(x, Workspace::kInput, stream);
  for (std::size_t i = 0; i <= last; ++i) {
    const Convolution& c = *chain->layers[i].conv;
    const Normalization& n = chain->layers[i].norm;
    const ChainParameters& p = parameters[i];
    std::vector<float> zeros;
    if (!p.bias) zeros.assign(layers[i].conv.O, 0.0f);
    const memory out = owned(c.forward_y.computed());
    run(c.forward, c.forward_scratchpad,
        {{DNNL_ARG_SRC, in},
         {DNNL_ARG_WEIGHTS, c.forward_w.bring_in(p.weight, Workspace::kWeights, stream)},
         {DNNL_ARG_BIAS, over(c.bias, p.bias ? p.bias : zeros.data())},
         {DNNL_ARG_DST, out}},
        stream);
    memory normalized, mask;
    if (i == last && chain->plain_end) {
      stream.wait();
      normalize_into_plain(layers[i], p, out, y, mean[i], variance[i]);
    } else {
      normalized = i == last ? c.forward_y.target(y, Workspace::kOutput) : owned(n.data);
      if (layers[i].relu) mask = owned(n.mask);
      normalize(layers[i], n, p, out, normalized, mask, mean[i], variance[i], stream);
      if (i == last) c.forward_y.send_out(normalized, y, stream);
    }
    if (keep) {
      tape->input.push_back(i == 0 ? memory() : in);  // the chain's input is brought in again
      tape->output.push_back(out);
      tape->mask.push_back(mask);
    }
    in = normalized;
  }
  stream.wait();
  if (!keep) return nullptr;
  for (std::size_t i = 0; i <= last; ++i) {
    tape->mean.emplace_back(mean[i], mean[i] + layers[i].conv.O);
    tape->variance.emplace_back(variance[i], variance[i] + layers[i].conv.O);
  }
  return tape;
}

void dnnl_chain_backward(const std::vector<ChainLayer>& layers, const std::vector<ChainParameters>& parameters,
                         const ChainTape& tape, const float* x, const float* dy, float* dx,
                         const std::vector<ChainGradients>& grads) {
  const Chain& chain = *tape.chain;
  dnnl::stream stream(cpu_engine());
  const std::size_t last = layers.size() - 1;
  // The gradient of the current layer's output lives in one slot, that of its convolution's
  // output in the other.
  const Convolution& final_conv = *chain.layers[last].conv;
  memory g;
  if (!chain.plain_end) {
    g = in_slot(final_conv.forward_y.computed(), Workspace::kGradient);
    final_conv.forward_y.bring_in_to(dy, g, stream);
  }
  for (std::size_t i = last + 1; i-- > 0;) {
    const Convolution& c = *chain.layers[i].conv;
    const Normalization& n = chain.layers[i].norm;
    const std::size_t O = layers[i].conv.O;
    const ChainGradients& d = grads[i];
    const memory dconv = in_slot(n.data, Workspace::kOtherGradient);
    std::vector<float> unwanted(d.scale && d.shift ? 0 : 2 * O);  // apart: the plain end reads both back
    float* dscale = d.scale ? d.scale : unwanted.data();
    float* dshift = d.shift ? d.shift : unwanted.data() + O;
    if (i == last && chain.plain_end) {
      normalize_backward_from_plain(layers[i], parameters[i], tape, i, dy, dconv, dscale, dshift);
    } else {
      normalize_backward(layers[i], n, parameters[i], tape, i, g, dconv, dscale, dshift, stream);
    }

    // The data gradient first: it reads the weights from the slot the weight gradient then uses.
    if (i > 0 || dx) {
      const memory dsrc =
          i > 0 ? in_slot(c.data_dx.computed(), Workspace::kGradient) : c.data_dx.target(dx, Workspace::kInput);
      run(c.backward_data, c.data_scratchpad,
          {{DNNL_ARG_DIFF_DST, dconv},
           {DNNL_ARG_WEIGHTS, c.data_w.bring_in(parameters[i].weight, Workspace::kWeights, stream)},
           {DNNL_ARG_DIFF_SRC, dsrc}},
          stream);
      if (i == 0) c.data_dx.send_out(dsrc, dx, stream);
      g = dsrc;
    }
    if (d.weight || d.bias) {
      std::vector<float> unwanted_dw(d.weight ? 0 : O * layers[i].conv.taps()), unwanted_db(d.bias ? 0 : O);
      float* dw = d.weight ? d.weight : unwanted_dw.data();
      const memory dwm = c.weights_dw.target(dw, Workspace::kWeights);
      run(c.backward_weights, c.weights_scratchpad,
          {{DNNL_ARG_DIFF_DST, dconv},
           {DNNL_ARG_SRC, i > 0 ? tape.input[i] : c.weights_x.bring_in(x, Workspace::kInput, stream)},
           {DNNL_ARG_DIFF_WEIGHTS, dwm},
           {DNNL_ARG_DIFF_BIAS, over(c.bias, d.bias ? d.bias : unwanted_db.data())}},
          stream);
      c.weights_dw.send_out(dwm, dw, stream);
    }
  }
  stream.wait();
}

#else  // without oneDNN no chain is computed this way

class ChainTape {};

bool dnnl_chains(const std::vector<ChainLayer>&) { return false; }

std::shared_ptr<const ChainTape> dnnl_chain_forward(const std::vector<ChainLayer>&,
                                                    const std::vector<ChainParameters>&, const float*, float*,
                                                    const std::vector<float*>&, const std::vector<float*>&, bool) {
  throw std::logic_error("dnnl_chain_forward: tapegrad was built without oneDNN");
}

void dnnl_chain_backward(const std::vector<ChainLayer>&, const std::vector<ChainParameters>&, const ChainTape&,
                         const float*, const float*, float*, const std::vector<ChainGradients>&) {
  throw std::logic_error("dnnl_chain_backward: tapegrad was built without oneDNN");
}

#endif

}  // namespace tg::detail
