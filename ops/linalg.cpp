#include "linalg.hpp"

#include <algorithm>

#include "../core/detail/cpu.hpp"
#include "../core/detail/parallel.hpp"
#include "../core/errors.hpp"
#include "../core/record_op.hpp"
#include "detail/gemm.hpp"

namespace tg {
namespace {

// sums[j] += the sum over the rows of m (rows, cols) of m[r][j].
template <class T>
TG_KERNEL_INLINE void add_column_sums_kernel(const T* m, std::size_t rows, std::size_t cols, T* sums) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = m + r * cols;
    for (std::size_t j = 0; j < cols; ++j) sums[j] += row[j];
  }
}
TG_AVX512_CLONES void add_column_sums(const float* m, std::size_t rows, std::size_t cols, float* sums) {
  add_column_sums_kernel(m, rows, cols, sums);
}
TG_AVX512_CLONES void add_column_sums(const double* m, std::size_t rows, std::size_t cols, double* sums) {
  add_column_sums_kernel(m, rows, cols, sums);
}

}  // namespace

using detail::gemm;

template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b) {
  const Tensor<T>& av = a.value();
  const Tensor<T>& bv = b.value();
  if (av.dimension() != 2 || bv.dimension() != 2) {
    fail("matmul", "expects two 2-D matrices, got {} x {}", format_shape(av.shape()), format_shape(bv.shape()));
  }
  const std::size_t M = av.shape()[0], K = av.shape()[1], N = bv.shape()[1];
  if (bv.shape()[0] != K) {
    fail("matmul", "inner dimensions differ: {} x {}", format_shape(av.shape()), format_shape(bv.shape()));
  }
  Tensor<T> y = Tensor<T>::from_shape({M, N});
  gemm<T>(false, false, M, N, K, T(1), av.data(), K, bv.data(), N, T(0), y.data(), N);
  return record_op<T>("matmul", std::move(y), {a, b}, [a, b, M, N, K](const Tensor<T>& g) {
    std::vector<Tensor<T>> grads(2);
    if (a.requires_grad()) {  // dA (M, K) = dY (M, N) · Bᵀ
      grads[0] = Tensor<T>::from_shape({M, K});
      gemm<T>(false, true, M, K, N, T(1), g.data(), N, b.value().data(), N, T(0), grads[0].data(), K);
    }
    if (b.requires_grad()) {  // dB (K, N) = Aᵀ · dY
      grads[1] = Tensor<T>::from_shape({K, N});
      gemm<T>(true, false, K, N, M, T(1), a.value().data(), K, g.data(), N, T(0), grads[1].data(), N);
    }
    return grads;
  });
}

template <class T>
Variable<T> linear(const Variable<T>& x, const Variable<T>& w, const Variable<T>& b) {
  const Tensor<T>& xv = x.value();
  const Tensor<T>& wv = w.value();
  if (wv.dimension() != 2) fail("linear", "weight must be 2-D (out, in), got {}", format_shape(wv.shape()));
  const std::size_t out = wv.shape()[0], in = wv.shape()[1];
  if (xv.dimension() == 0) fail("linear", "input must be (*, in), got a 0-D input; weight is {}", format_shape(wv.shape()));
  if (xv.shape()[xv.dimension() - 1] != in) {
    fail("linear", "input {} has {} features but weight {} expects {}", format_shape(xv.shape()),
         xv.shape()[xv.dimension() - 1], format_shape(wv.shape()), in);
  }
  if (b.defined() && (b.value().dimension() != 1 || b.value().shape()[0] != out)) {
    fail("linear", "bias has shape {} but weight {} needs ({},)", format_shape(b.value().shape()),
         format_shape(wv.shape()), out);
  }
  std::size_t n_rows = 1;  // the product of x's leading dimensions
  for (std::size_t d = 0; d + 1 < xv.dimension(); ++d) n_rows *= xv.shape()[d];
  Shape y_shape(xv.shape().begin(), xv.shape().end());
  y_shape.back() = out;
  Tensor<T> y = Tensor<T>::from_shape(y_shape);
  T beta = T(0);
  if (b.defined()) {  // start from the bias in every row, then accumulate the product onto it
    const T* bp = b.value().data();
    T* yp = y.data();
    detail::parallel_blocks(n_rows, out, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t r = lo; r < hi; ++r) std::copy(bp, bp + out, yp + r * out);
    });
    beta = T(1);
  }
  gemm<T>(false, true, n_rows, out, in, T(1), xv.data(), in, wv.data(), in, beta, y.data(), out);
  return record_op<T>("linear", std::move(y), {x, w, b}, [x, w, b, n_rows, in, out](const Tensor<T>& g) {
    std::vector<Tensor<T>> grads(3);
    if (x.requires_grad()) {  // dX (rows, in) = dY (rows, out) · W (out, in)
      grads[0] = Tensor<T>::from_shape(x.value().shape());
      gemm<T>(false, false, n_rows, in, out, T(1), g.data(), out, w.value().data(), in, T(0), grads[0].data(), in);
    }
    if (w.requires_grad()) {  // dW (out, in) = dYᵀ · X
      grads[1] = Tensor<T>::from_shape({out, in});
      gemm<T>(true, false, out, in, n_rows, T(1), g.data(), out, x.value().data(), in, T(0), grads[1].data(), in);
    }
    if (b.requires_grad()) {  // db = column sums of dY
      grads[2] = xt::zeros<T>({out});
      add_column_sums(g.data(), n_rows, out, grads[2].data());
    }
    return grads;
  });
}

template Variable<float> matmul(const Variable<float>&, const Variable<float>&);
template Variable<double> matmul(const Variable<double>&, const Variable<double>&);
template Variable<float> linear(const Variable<float>&, const Variable<float>&, const Variable<float>&);
template Variable<double> linear(const Variable<double>&, const Variable<double>&, const Variable<double>&);

}  // namespace tg
