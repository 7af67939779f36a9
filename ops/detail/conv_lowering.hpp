// The per-image work of a 2-D convolution (im2col + GEMM), shared by conv2d, conv_transpose2d and
// the fused conv2d_relu_max_pool2d. Include only from the library's .cpp files (needs OpenMP).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "../../core/variable.hpp"
#include "im2col.hpp"

namespace tg::detail {

// A checked convolution of a batch of N images (C, H, W) into (O, OH, OW): one group's geometry
// and the channel counts. conv_transpose2d is the adjoint of such a convolution, whose output
// (OH, OW) is the transposed convolution's input.
struct ConvPlan {
  detail::ConvGeometry g;  // channels = C / groups
  std::size_t N = 0, C = 0, O = 0, groups = 1;

  std::size_t out_per_group() const { return O / groups; }
  std::size_t taps() const { return g.col_rows(); }       // K = C/groups · kH · kW
  std::size_t positions() const { return g.col_cols(); }  // L = OH · OW
  std::size_t in_image() const { return C * g.height * g.width; }
  std::size_t out_image() const { return O * positions(); }
  Shape input_shape() const { return {N, C, g.height, g.width}; }
  Shape output_shape() const { return {N, O, g.out_h, g.out_w}; }
  Shape weight_shape() const { return {O, g.channels, g.kernel_h, g.kernel_w}; }
  // A 1x1 kernel with stride 1 and no padding reads the input as it is: im2col would only copy it.
  bool direct() const {
    return g.kernel_h == 1 && g.kernel_w == 1 && g.stride == 1 && g.padding == 0 && g.out_h == g.height &&
           g.out_w == g.width;
  }
  std::size_t column_size() const { return direct() ? 0 : taps() * positions(); }
};

// Checks x (N, C, H, W), w (O, C/groups, kH, kW), b (O,) or undefined and the options; throws
// std::invalid_argument naming `op` and the shapes or values (also when the output size overflows).
template <class T>
ConvPlan plan_conv2d(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b,
                     std::size_t stride, std::size_t padding, std::size_t dilation, std::size_t groups);

// The same from the shapes alone (b: the bias's, or null for none).
ConvPlan plan_conv2d(const char* op, const Shape& x, const Shape& w, const Shape* b, std::size_t stride,
                     std::size_t padding, std::size_t dilation, std::size_t groups);

// The same for conv_transpose2d: x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW), b (C_out,):
// the plan of the convolution it is the adjoint of, from (N, C_out, OH, OW) to (N, C_in, H, W),
// with OH = (H - 1)·stride - 2·padding + dilation·(kH - 1) + output_padding + 1.
template <class T>
ConvPlan plan_conv_transpose2d(const char* op, const Tensor<T>& x, const Tensor<T>& w, const Variable<T>& b,
                               std::size_t stride, std::size_t padding, std::size_t output_padding, std::size_t groups,
                               std::size_t dilation);

// One image: y (O, L) = bias + w · im2col(x), x being (C, H, W). `col` holds column_size() values.
template <class T>
void conv_forward_image(const ConvPlan& p, const T* x, const T* w, const T* bias, T* col, T* y);

// One image's backward from dy (O, L): dw (O, K/group layout of w) and db (O) accumulate; dx
// (C, H, W) is overwritten. Any of dw, db, dx may be null. col and dcol hold column_size() values.
template <class T>
void conv_backward_image(const ConvPlan& p, const T* x, const T* w, const T* dy, T* col, T* dcol, T* dw, T* db,
                         T* dx);

// A buffer left uninitialised (null for n == 0).
template <class T>
std::unique_ptr<T[]> scratch(std::size_t n) {
  return n == 0 ? nullptr : std::unique_ptr<T[]>(new T[n]);
}

// Images are spread over the OpenMP threads, each working on one image at a time in its own small
// (cache-resident) buffers with a single-threaded GEMM: per-image products are too small to split
// well, and this way the threads never wait on each other inside a batch. Under 2^20
// multiply-adds in all the batch stays on the calling thread.
inline int conv_threads(std::size_t images, std::size_t work_per_image) {
  if (omp_in_parallel()) return 1;
  const double work = static_cast<double>(images) * static_cast<double>(work_per_image);
  if (work < double(1 << 20)) return 1;
  return static_cast<int>(std::min<std::size_t>(images, static_cast<std::size_t>(omp_get_max_threads())));
}

// The image range [lo, hi) that thread t of n takes (contiguous blocks, as schedule(static)).
inline std::pair<std::size_t, std::size_t> image_block(std::size_t count, int t, int n) {
  const std::size_t lo = count * static_cast<std::size_t>(t) / static_cast<std::size_t>(n);
  const std::size_t hi = count * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(n);
  return {lo, hi};
}

// Calls image_backward(n, dw_part, db_part, work) for each of N images, split in contiguous blocks
// over nt threads; `work` is the thread's own buffer of work_size values. Each thread sums into its
// own dW and db (thread 0 straight into dw, db); the others' sums are added in thread order
// afterwards, so a run's result does not depend on which thread finishes first. dw (w_size values)
// and db (b_size) start at zero; either may be null.
template <class T, class ImageBackward>
void backward_over_images(std::size_t N, int nt, T* dw, std::size_t w_size, T* db, std::size_t b_size,
                          std::size_t work_size, ImageBackward image_backward) {
  std::vector<std::unique_ptr<T[]>> dw_part(static_cast<std::size_t>(nt)), db_part(static_cast<std::size_t>(nt));
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const auto [lo, hi] = image_block(N, t, omp_get_num_threads());
    T* my_dw = dw ? (t == 0 ? dw : (dw_part[t] = scratch<T>(w_size)).get()) : nullptr;
    T* my_db = db ? (t == 0 ? db : (db_part[t] = scratch<T>(b_size)).get()) : nullptr;
    if (t != 0 && my_dw) std::fill_n(my_dw, w_size, T(0));
    if (t != 0 && my_db) std::fill_n(my_db, b_size, T(0));
    const std::unique_ptr<T[]> work = scratch<T>(lo < hi ? work_size : 0);
    for (std::size_t n = lo; n < hi; ++n) image_backward(n, my_dw, my_db, work.get());
  }
  for (int t = 1; t < nt; ++t) {
    if (dw_part[t]) {  // null when the runtime gave the region fewer threads than asked
      for (std::size_t i = 0; i < w_size; ++i) dw[i] += dw_part[t][i];
    }
    if (db_part[t]) {
      for (std::size_t i = 0; i < b_size; ++i) db[i] += db_part[t][i];
    }
  }
}

// The forward of a convolution over the plan's batch, image by image on the threads: x is the
// batch (N, C, H, W), w the weight, bias (O values) may be null. output(n, spare) says where image
// n's result (O, L) goes, either into the output tensor or into `spare`, a thread-owned buffer of
// out_image() values; finish(n, result) then runs on the same thread and may change a result in
// `spare`.
template <class T, class Output, class Finish>
void convolution_forward(const ConvPlan& p, const T* x, const T* w, const T* bias, Output output, Finish finish) {
  const int nt = conv_threads(p.N, p.O * p.taps() * p.positions());
#pragma omp parallel num_threads(nt)
  {
    const auto [lo, hi] = image_block(p.N, omp_get_thread_num(), omp_get_num_threads());
    const auto work = scratch<T>(lo < hi ? p.column_size() + p.out_image() : 0);
    for (std::size_t n = lo; n < hi; ++n) {
      T* result = output(n, work.get() + p.column_size());
      conv_forward_image(p, x + n * p.in_image(), w, bias, work.get(), result);
      finish(n, result);
    }
  }
}

// The backward of a convolution over the plan's batch, for every op built on one: from the output
// gradient, dx (N, C, H, W; written whole), dw (w's layout) and db (O), each computed only when
// not null. dw and db are overwritten. x is read only for dw, w only for dx. image_gradient(n,
// work) gives image n's output gradient (O, L); it may build it in `work`, extra_work values of
// the thread's own buffer. One pass per image shares its lowering between dx and dw.
template <class T, class ImageGradient>
void convolution_backward(const ConvPlan& p, const T* x, const T* w, T* dx, T* dw, T* db, std::size_t extra_work,
                          ImageGradient image_gradient) {
  const std::size_t w_size = p.O * p.taps();
  if (dw) std::fill_n(dw, w_size, T(0));
  if (db) std::fill_n(db, p.O, T(0));
  const int nt =
      conv_threads(p.N, p.O * p.taps() * p.positions() * (std::size_t(dx != nullptr) + std::size_t(dw != nullptr)));
  const std::size_t col_size = p.column_size();  // per thread: the lowered image, its gradient, the extra
  backward_over_images<T>(p.N, nt, dw, w_size, db, p.O, 2 * col_size + extra_work,
                          [&](std::size_t n, T* dw_part, T* db_part, T* work) {
                            const T* dy = image_gradient(n, work + 2 * col_size);
                            conv_backward_image(p, x ? x + n * p.in_image() : nullptr, w, dy, work, work + col_size,
                                                dw_part, db_part, dx ? dx + n * p.in_image() : nullptr);
                          });
}

}  // namespace tg::detail
