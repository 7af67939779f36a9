#include "dnnl_primitives.hpp"

#ifdef TG_HAVE_DNNL
#include <omp.h>
#include <sys/mman.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace tg::detail::dnnl_support {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void run(const dnnl::primitive& primitive, const memory::desc& scratchpad, std::unordered_map<int, memory> args,
         dnnl::stream& stream) {
  if (scratchpad.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, memory(scratchpad, cpu_engine()));
  primitive.execute(stream, args);
}

Workspace::~Workspace() {
  for (Buffer& b : buffers_) release(b);
}

void* Workspace::get(Slot s, std::size_t bytes) {
  if (bytes > kMaxKept) return DNNL_MEMORY_ALLOCATE;
  Buffer& b = buffers_[s];
  if (b.bytes < bytes) {
    release(b);
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    b.data = p;
    b.bytes = bytes;
  }
  return b.data;
}

void Workspace::release(Buffer& b) {
  if (b.data) munmap(b.data, b.bytes);
  b = Buffer{};
}

Workspace& workspace() {
  thread_local Workspace w;
  return w;
}

Layout::Layout(const memory::desc& plain, const memory::desc& computed) : plain_(plain), computed_(computed) {
  if (plain == computed) return;
  const dnnl::primitive_attr attr = user_scratchpad();
  dnnl::reorder::primitive_desc in(cpu_engine(), plain, cpu_engine(), computed, attr);
  dnnl::reorder::primitive_desc out(cpu_engine(), computed, cpu_engine(), plain, attr);
  in_ = dnnl::reorder(in);
  out_ = dnnl::reorder(out);
  in_scratchpad_ = in.scratchpad_desc();
  out_scratchpad_ = out.scratchpad_desc();
}

memory Layout::bring_in(const float* data, Workspace::Slot slot, dnnl::stream& stream) const {
  memory plain(plain_, cpu_engine(), const_cast<float*>(data));
  if (same()) return plain;
  memory computed(computed_, cpu_engine(), workspace().get(slot, computed_.get_size()));
  run(in_, in_scratchpad_, {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, computed}}, stream);
  return computed;
}

void Layout::bring_in_to(const float* data, const memory& to, dnnl::stream& stream) const {
  memory plain(plain_, cpu_engine(), const_cast<float*>(data));
  if (same()) {
    std::memcpy(to.get_data_handle(), data, plain_.get_size());
    return;
  }
  run(in_, in_scratchpad_, {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, to}}, stream);
}

memory Layout::target(float* data, Workspace::Slot slot) const {
  return same() ? memory(plain_, cpu_engine(), data)
                : memory(computed_, cpu_engine(), workspace().get(slot, computed_.get_size()));
}

void Layout::send_out(const memory& result, float* data, dnnl::stream& stream) const {
  if (same()) return;
  memory plain(plain_, cpu_engine(), data);
  run(out_, out_scratchpad_, {{DNNL_ARG_FROM, result}, {DNNL_ARG_TO, plain}}, stream);
}

memory::dim far_padding(std::size_t in, std::size_t out, std::size_t kernel, const ConvGeometry& g) {
  return dim((out - 1) * g.stride + (kernel - 1) * g.dilation + 1) - dim(in) - dim(g.padding);
}

int caller_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

namespace {

// oneDNN's Winograd F(4x4, 3x3) (on AVX-512 only, in oneDNN 2.6) beat its direct kernels on each
// pass of fashion_resnet's 3x3 stride-1 layers of 32 and 64 channels (64 at 7x7: forward 1.10 against
// 1.39 ms, data gradient 1.19 against 1.46, weight gradient 1.26 against 1.75, batch 128, 2 threads),
// and lost badly at 16 (data gradient 8.4 against 1.7 ms). Its float results differ from direct ones
// by rounding only (tests/ops/test_conv_wide.cpp).
bool prefers_winograd(const ConvPlan& p) {
  const ConvGeometry& g = p.g;
  return p.groups == 1 && g.kernel_h == 3 && g.kernel_w == 3 && g.stride == 1 && g.dilation == 1 && g.channels >= 32 &&
         p.O >= 32;
}

using Key = std::array<std::size_t, 14>;

Key key_of(const ConvPlan& p, int threads) {
  const ConvGeometry& g = p.g;
  return {p.N,        p.C,      p.O,       p.groups,   g.height, g.width, g.kernel_h,
          g.kernel_w, g.stride, g.padding, g.dilation, g.out_h,  g.out_w, static_cast<std::size_t>(threads)};
}

// Winograd where it is preferred and oneDNN has it, else the direct kernels; null where neither is.
std::shared_ptr<const Convolution> build(const ConvPlan& p) {
  for (const auto algorithm : {dnnl::algorithm::convolution_winograd, dnnl::algorithm::convolution_direct}) {
    if (algorithm == dnnl::algorithm::convolution_winograd && !prefers_winograd(p)) continue;
    try {
      return std::make_shared<const Convolution>(p, algorithm);
    } catch (const dnnl::error&) {
      // unimplemented: the direct kernels, or else im2col, take it
    }
  }
  return nullptr;
}

BuildCache<Key, Convolution>& cache() {
  static BuildCache<Key, Convolution> instance;
  return instance;
}

}  // namespace

Convolution::Convolution(const ConvPlan& p, dnnl::algorithm algorithm) {
  using tag = memory::format_tag;
  const ConvGeometry& g = p.g;
  const auto f32 = memory::data_type::f32;
  const Dims x_dims{dim(p.N), dim(p.C), dim(g.height), dim(g.width)};
  const Dims y_dims{dim(p.N), dim(p.O), dim(g.out_h), dim(g.out_w)};
  // tapegrad's (O, C/groups, kH, kW) weight is oneDNN's goihw with O split as (groups, O/groups).
  const Dims w_dims =
      p.groups == 1 ? Dims{dim(p.O), dim(g.channels), dim(g.kernel_h), dim(g.kernel_w)}
                    : Dims{dim(p.groups), dim(p.out_per_group()), dim(g.channels), dim(g.kernel_h), dim(g.kernel_w)};
  const memory::desc x_plain(x_dims, f32, tag::nchw), y_plain(y_dims, f32, tag::nchw),
      w_plain(w_dims, f32, p.groups == 1 ? tag::oihw : tag::goihw);
  bias = memory::desc({dim(p.O)}, f32, tag::x);
  const memory::desc x_any(x_dims, f32, tag::any), y_any(y_dims, f32, tag::any), w_any(w_dims, f32, tag::any);
  const Dims strides{dim(g.stride), dim(g.stride)}, dilation{dim(g.dilation) - 1, dim(g.dilation) - 1};
  const Dims near{dim(g.padding), dim(g.padding)};
  const Dims far{far_padding(g.height, g.out_h, g.kernel_h, g), far_padding(g.width, g.out_w, g.kernel_w, g)};
  const dnnl::primitive_attr attr = user_scratchpad();
  const dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algorithm, x_any, w_any, bias, y_any,
                                      strides, dilation, near, far),
      attr, cpu_engine());
  forward = dnnl::convolution_forward(fwd);
  forward_scratchpad = fwd.scratchpad_desc();
  forward_x = Layout(x_plain, fwd.src_desc());
  forward_w = Layout(w_plain, fwd.weights_desc());
  forward_y = Layout(y_plain, fwd.dst_desc());

  const dnnl::convolution_backward_data::primitive_desc data(
      dnnl::convolution_backward_data::desc(algorithm, x_any, w_any, y_any, strides, dilation, near, far), attr,
      cpu_engine(), fwd);
  backward_data = dnnl::convolution_backward_data(data);
  data_scratchpad = data.scratchpad_desc();
  data_dy = Layout(y_plain, data.diff_dst_desc());
  data_w = Layout(w_plain, data.weights_desc());
  data_dx = Layout(x_plain, data.diff_src_desc());

  const dnnl::convolution_backward_weights::primitive_desc weights(
      dnnl::convolution_backward_weights::desc(algorithm, x_any, w_any, bias, y_any, strides, dilation, near, far), attr,
      cpu_engine(), fwd);
  backward_weights = dnnl::convolution_backward_weights(weights);
  weights_scratchpad = weights.scratchpad_desc();
  weights_dy = Layout(y_plain, weights.diff_dst_desc());
  weights_x = Layout(x_plain, weights.src_desc());
  weights_dw = Layout(w_plain, weights.diff_weights_desc());
}

std::shared_ptr<const Convolution> convolution(const ConvPlan& p, bool any_width) {
  const ConvGeometry& g = p.g;
  if (p.N == 0 || p.O == 0 || g.out_h == 0 || g.out_w == 0) return nullptr;
  if (!any_width && (g.channels < 16 || g.kernel_h * g.kernel_w == 1)) return nullptr;  // no faster than im2col
  if (far_padding(g.height, g.out_h, g.kernel_h, g) < 0 || far_padding(g.width, g.out_w, g.kernel_w, g) < 0) {
    return nullptr;
  }
  const int threads = caller_threads();
  return cache().find(key_of(p, threads), threads, [&p] { return build(p); });
}

}  // namespace tg::detail::dnnl_support
#endif
