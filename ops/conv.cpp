#include "conv.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "gemm.hpp"
#include "im2col.hpp"

namespace tg {
namespace {

using kernels::ConvGeometry;
using kernels::gemm;

// floor((size + 2p - d(k-1) - 1) / s) + 1, which may be zero or negative for too small an input.
long long output_size(std::size_t size, std::size_t k, std::size_t s, std::size_t p, std::size_t d) {
  const long long num = static_cast<long long>(size + 2 * p) - static_cast<long long>(d * (k - 1) + 1);
  const long long st = static_cast<long long>(s);
  return (num >= 0 ? num / st : -((-num + st - 1) / st)) + 1;
}

// Checks every argument and returns one group's geometry (channels = C / groups).
template <class T>
ConvGeometry check(const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  if (x.dimension() != 4) fail("conv2d", "input must be 4-D (N, C, H, W), got {}", format_shape(x.shape()));
  if (w.dimension() != 4) fail("conv2d", "weight must be 4-D (O, C/groups, kH, kW), got {}", format_shape(w.shape()));
  if (stride == 0) fail("conv2d", "stride must be positive, got 0");
  if (dilation == 0) fail("conv2d", "dilation must be positive, got 0");
  if (groups == 0) fail("conv2d", "groups must be positive, got 0");
  const std::size_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const std::size_t O = w.shape()[0], kh = w.shape()[2], kw = w.shape()[3];
  if (C != w.shape()[1] * groups) {
    fail("conv2d", "input has {} channels but weight {} with groups {} expects {}", C, format_shape(w.shape()), groups,
         w.shape()[1] * groups);
  }
  if (O % groups != 0) {
    fail("conv2d", "weight {} has {} output channels, which groups {} does not divide", format_shape(w.shape()), O,
         groups);
  }
  if (b.defined() && (b.value().dimension() != 1 || b.value().shape()[0] != O)) {
    fail("conv2d", "bias has shape {} but weight {} needs ({},)", format_shape(b.value().shape()),
         format_shape(w.shape()), O);
  }
  if (kh == 0 || kw == 0) fail("conv2d", "weight {} has an empty kernel", format_shape(w.shape()));
  const long long oh = output_size(H, kh, stride, padding, dilation), ow = output_size(W, kw, stride, padding, dilation);
  if (oh <= 0 || ow <= 0) {
    fail("conv2d",
         "input {} is too small for kernel {}x{} with stride {}, padding {}, dilation {}: the output would be {}x{}",
         format_shape(x.shape()), kh, kw, stride, padding, dilation, oh, ow);
  }
  ConvGeometry g;
  g.channels = C / groups;
  g.height = H;
  g.width = W;
  g.kernel_h = kh;
  g.kernel_w = kw;
  g.stride = stride;
  g.padding = padding;
  g.dilation = dilation;
  g.out_h = static_cast<std::size_t>(oh);
  g.out_w = static_cast<std::size_t>(ow);
  return g;
}

// A scratch buffer left uninitialised: im2col writes every entry, and GEMM with beta 0 too.
template <class T>
std::unique_ptr<T[]> scratch(std::size_t n) {
  return n == 0 ? nullptr : std::unique_ptr<T[]>(new T[n]);
}

// The sum of n values, in 16 independent lanes so that the compiler vectorises it (a single running
// sum is a chain of dependent additions that it may not reorder).
template <class T>
T sum_of(const T* p, std::size_t n) {
  constexpr std::size_t lanes = 16;
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    for (std::size_t k = 0; k < lanes; ++k) acc[k] += p[i + k];
  }
  T total = T(0);
  for (; i < n; ++i) total += p[i];
  for (std::size_t k = 0; k < lanes; ++k) total += acc[k];
  return total;
}

// A 1x1 kernel with stride 1 and no padding reads the input as it is: im2col would only copy it.
bool lowers_to_itself(const ConvGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride == 1 && g.padding == 0;
}

}  // namespace

template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b, std::size_t stride,
                   std::size_t padding, std::size_t dilation, std::size_t groups) {
  const Tensor<T>& xv = x.value();
  const Tensor<T>& wv = w.value();
  const ConvGeometry g = check(xv, wv, b, stride, padding, dilation, groups);
  const std::size_t N = xv.shape()[0], C = xv.shape()[1], O = wv.shape()[0], Og = O / groups;
  const std::size_t K = g.col_rows(), L = g.col_cols(), plane = g.height * g.width;
  const bool direct = lowers_to_itself(g);

  // Per image and group: y[n, group] (Og, L) = w[group] (Og, K) · col (K, L), on top of the bias.
  Tensor<T> y = Tensor<T>::from_shape({N, O, g.out_h, g.out_w});
  T beta = T(0);
  if (b.defined()) {
    const T* bp = b.value().data();
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t o = 0; o < O; ++o) std::fill_n(y.data() + (n * O + o) * L, L, bp[o]);
    }
    beta = T(1);
  }
  const std::unique_ptr<T[]> col = scratch<T>(direct ? 0 : K * L);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t grp = 0; grp < groups; ++grp) {
      const T* xb = xv.data() + (n * C + grp * g.channels) * plane;
      if (!direct) kernels::im2col(xb, g, col.get());
      gemm<T>(false, false, Og, L, K, T(1), wv.data() + grp * Og * K, K, direct ? xb : col.get(), L, beta,
              y.data() + (n * O + grp * Og) * L, L);
    }
  }

  return record_op<T>("conv2d", std::move(y), {x, w, b}, [x, w, b, g, groups, direct](const Tensor<T>& gy) {
    const Tensor<T>& xv = x.value();
    const Tensor<T>& wv = w.value();
    const std::size_t N = xv.shape()[0], C = xv.shape()[1], O = wv.shape()[0], Og = O / groups;
    const std::size_t K = g.col_rows(), L = g.col_cols(), plane = g.height * g.width;
    const bool need_x = x.requires_grad(), need_w = w.requires_grad();
    std::vector<Tensor<T>> grads(3);
    if (need_x) grads[0] = xt::zeros<T>(xv.shape());
    if (need_w) grads[1] = xt::zeros<T>(wv.shape());
    const std::unique_ptr<T[]> col = scratch<T>(need_w && !direct ? K * L : 0);
    const std::unique_ptr<T[]> dcol = scratch<T>(need_x && !direct ? K * L : 0);
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t grp = 0; grp < groups; ++grp) {
        const T* dy = gy.data() + (n * O + grp * Og) * L;  // (Og, L)
        const T* wg = wv.data() + grp * Og * K;               // (Og, K)
        const std::size_t x_offset = (n * C + grp * g.channels) * plane;
        if (need_w) {  // dW[group] (Og, K) += dY (Og, L) · colᵀ
          const T* xb = xv.data() + x_offset;
          if (!direct) kernels::im2col(xb, g, col.get());
          gemm<T>(false, true, Og, K, L, T(1), dy, L, direct ? xb : col.get(), L, T(1),
                  grads[1].data() + grp * Og * K, K);
        }
        if (need_x) {  // dcol (K, L) = W[group]ᵀ · dY, folded back onto the image by col2im
          T* dxb = grads[0].data() + x_offset;
          gemm<T>(true, false, K, L, Og, T(1), wg, K, dy, L, T(0), direct ? dxb : dcol.get(), L);
          if (!direct) kernels::col2im(dcol.get(), g, dxb);
        }
      }
    }
    if (b.requires_grad()) {  // db[o] = sum of dY over the batch and the output plane
      grads[2] = xt::zeros<T>({O});
      T* db = grads[2].data();
      for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t o = 0; o < O; ++o) db[o] += sum_of(gy.data() + (n * O + o) * L, L);
      }
    }
    return grads;
  });
}

template Variable<float> conv2d(const Variable<float>&, const Variable<float>&, const Variable<float>&, std::size_t,
                                std::size_t, std::size_t, std::size_t);
template Variable<double> conv2d(const Variable<double>&, const Variable<double>&, const Variable<double>&,
                                 std::size_t, std::size_t, std::size_t, std::size_t);

}  // namespace tg
