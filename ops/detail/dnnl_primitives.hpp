// What the oneDNN-backed kernels share (only with TG_HAVE_DNNL): the engine, user-managed
// scratchpads, the per-thread buffers blocked copies live in, layouts with their reorders, and the
// cache of built convolution primitives. Include only from the library's .cpp files.
#pragma once

#ifdef TG_HAVE_DNNL
#include <omp.h>

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <thread>
#include <unordered_map>

#include "conv_lowering.hpp"

namespace tg::detail::dnnl_support {

using dnnl::memory;
using Dims = memory::dims;

dnnl::engine& cpu_engine();

inline memory::dim dim(std::size_t n) { return static_cast<memory::dim>(n); }

// User-managed scratchpads: each execution brings its own, so any thread may run a cached primitive
// (the library's shared scratchpad would tie a primitive to the thread that created it).
dnnl::primitive_attr user_scratchpad();

// Executes `primitive` with a scratchpad of its own (when it needs one).
void run(const dnnl::primitive& primitive, const memory::desc& scratchpad, std::unordered_map<int, memory> args,
         dnnl::stream& stream);

// The blocked copies a call makes live in buffers each thread keeps between calls, mapped apart
// from the heap. Allocated with every call, or kept but taken from the heap in the middle of a
// step's tensors, they left holes in the heap those tensors live in (the runtime keeps freed blocks
// on the heap) and fashion_resnet's peak RSS grew by 50-60 MiB. A copy larger than kMaxKept (a
// large inference batch) is allocated by oneDNN for the call alone.
class Workspace {
 public:
  // kGradient and kOtherGradient: the two gradients a chain of layers hands back and forth.
  enum Slot { kInput, kWeights, kOutput, kGradient, kOtherGradient, kSlots };
  static constexpr std::size_t kMaxKept = std::size_t(16) << 20;

  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();

  // A buffer of `bytes` for slot s, or DNNL_MEMORY_ALLOCATE (oneDNN allocates) past kMaxKept.
  void* get(Slot s, std::size_t bytes);

 private:
  struct Buffer {
    void* data = nullptr;
    std::size_t bytes = 0;
  };
  static void release(Buffer& b);
  std::array<Buffer, kSlots> buffers_;
};

// The calling thread's.
Workspace& workspace();

// A tensor's plain layout and the one a primitive computes in, with the reorders between them
// (none when they are the same).
class Layout {
 public:
  Layout() = default;
  Layout(const memory::desc& plain, const memory::desc& computed);

  // The plain data, in the computed layout (a copy in the thread's slot, or the data itself).
  memory bring_in(const float* data, Workspace::Slot slot, dnnl::stream& stream) const;
  // The plain data copied into `to`, which is in the computed layout.
  void bring_in_to(const float* data, const memory& to, dnnl::stream& stream) const;
  // Where a result meant for `data` is to be written: data itself, or the slot for send_out.
  memory target(float* data, Workspace::Slot slot) const;
  const memory::desc& computed() const { return computed_; }
  bool same() const { return plain_ == computed_; }
  void send_out(const memory& result, float* data, dnnl::stream& stream) const;

 private:
  memory::desc plain_, computed_;
  dnnl::reorder in_, out_;
  memory::desc in_scratchpad_, out_scratchpad_;
};

// The three primitives of one convolution shape, and their layouts. Every one has a bias: a
// convolution without one adds zeros, and an unwanted bias gradient goes to a scratch buffer
// (either costs one pass over the output, against the convolution's kH·kW·C multiply-adds per
// output element).
struct Convolution {
  memory::desc bias;
  dnnl::convolution_forward forward;
  memory::desc forward_scratchpad;
  Layout forward_x, forward_w, forward_y;
  dnnl::convolution_backward_data backward_data;
  memory::desc data_scratchpad;
  Layout data_dy, data_w, data_dx;
  dnnl::convolution_backward_weights backward_weights;
  memory::desc weights_scratchpad;
  Layout weights_dy, weights_x, weights_dw;

  // Throws dnnl::error where oneDNN has no such primitive (Winograd on a CPU without AVX-512).
  Convolution(const ConvPlan& p, dnnl::algorithm algorithm);
};

// The threads a primitive made now would run on: oneDNN fixes its work split when it creates one.
int caller_threads();

// Built primitives by key (shape and thread count; null where oneDNN has none for it). Creating them
// takes milliseconds and a training step reuses the same few, so they are kept; past kMaxEntries the
// cache starts afresh (those in use live on in their callers' shared_ptr). Each is built on a thread
// of its own, so that what lives on (descriptors, generated code) comes from that thread's malloc
// arena: made in the middle of a training step, those small blocks split the main heap's large free
// blocks, and peak RSS grew by 30 MiB on fashion_resnet. That thread starts with OpenMP's default
// thread count, so it is given the caller's.
template <class Key, class Value>
class BuildCache {
 public:
  template <class Make>
  std::shared_ptr<const Value> find(const Key& key, int threads, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = built_.find(key); it != built_.end()) return it->second;
    if (built_.size() >= kMaxEntries) built_.clear();
    std::shared_ptr<const Value> made;
    std::thread builder([&made, &make, threads] {
      omp_set_num_threads(threads);
      made = make();
    });
    builder.join();
    return built_[key] = made;
  }

 private:
  static constexpr std::size_t kMaxEntries = 64;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const Value>> built_;
};

// The padding past the far edge that gives the plan's output size; negative when the stride leaves
// the last input rows unread (such plans stay on im2col).
memory::dim far_padding(std::size_t in, std::size_t out, std::size_t kernel, const ConvGeometry& g);

// The built primitives of plan p for the calling thread's thread count, null where oneDNN has
// none. Unless any_width, also null for the plans im2col does as well on its own (fewer than 16
// input channels per group, or a 1x1 kernel): in a chain (dnnl_chain.hpp) those still save the
// reorders around them.
std::shared_ptr<const Convolution> convolution(const ConvPlan& p, bool any_width = false);

}  // namespace tg::detail::dnnl_support
#endif
