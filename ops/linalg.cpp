#include "linalg.hpp"

#include <algorithm>

#include "../core/detail/checked.hpp"
#include "../core/detail/instantiate.hpp"
#include "../core/detail/parallel.hpp"
#include "../core/errors.hpp"
#include "detail/autograd.hpp"
#include "detail/batched_gemm.hpp"
#include "detail/broadcast.hpp"
#include "detail/gemm.hpp"
#include "detail/linalg_backward.hpp"
#include "shape.hpp"

namespace tg {
namespace {

using detail::Gradients;

template <class ShapeLike>
std::size_t rows_of(const ShapeLike& s) {
  std::size_t n = 1;
  for (std::size_t d = 0; d + 1 < s.size(); ++d) n *= s[d];
  return n;
}

// `v` under `shape` when it is not already (the same elements).
template <class T>
Variable<T> as_shape(Variable<T> v, const Shape& shape) {
  return v.shape() == shape ? v : reshape(v, shape);
}

// The batch dimensions of a stack of matrices: all but the last two.
Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// The batch dimensions of a product, broadcast like NumPy's; throws naming `name` and both operands.
Shape broadcast_batch(const char* name, const Shape& as, const Shape& bs) {
  const Shape a = batch_of(as), b = batch_of(bs);
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {  // aligned from the last batch dimension
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail(name, "batch dimensions {} and {} do not broadcast: {} x {}", format_shape(a), format_shape(b),
           format_shape(as), format_shape(bs));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace

namespace detail {

// op(A)·op(B) with A, B the operands seen as matrices (every dimension but the last merged into
// rows), op a transpose where the flag says: one GEMM with BLAS's transpose flags, never a copy.
// The result keeps a's leading dimensions when a is not transposed, else is (M, N).
template <class T>
Variable<T> mm(const char* name, const Variable<T>& a, const Variable<T>& b, bool ta, bool tb) {
  const auto& as = a.value().shape();
  const auto& bs = b.value().shape();
  const std::size_t a_rows = rows_of(as), a_cols = as.back(), b_rows = rows_of(bs), b_cols = bs.back();
  const std::size_t M = ta ? a_cols : a_rows, K = ta ? a_rows : a_cols;
  const std::size_t N = tb ? b_rows : b_cols, Kb = tb ? b_cols : b_rows;
  if (K != Kb) fail(name, "inner dimensions differ: {} x {}", format_shape(as), format_shape(bs));
  Shape out_shape{M, N};
  if (!ta) {
    out_shape.assign(as.begin(), as.end());
    out_shape.back() = N;
  }
  detail::checked_count(name, out_shape);  // (M, 0) x (0, N) operands are empty, their product need not be
  Tensor<T> y = Tensor<T>::from_shape(out_shape);
  gemm<T>(ta, tb, M, N, K, T(1), a.value().data(), a_cols, b.value().data(), b_cols, T(0), y.data(), N);
  return record<T>(name, std::move(y), {a, b}, saves_inputs({0, 1}),
                   [a, b, ta, tb](Variable<T> g, const Variable<T>&) {
                     Gradients<T> grads(2);
                     if (a.requires_grad()) {  // d op(A) = G · op(B)ᵀ
                       grads[0] = as_shape(ta ? mm("matmul_backward", b, g, tb, true) : mm("matmul_backward", g, b, false, !tb),
                                           a.shape());
                     }
                     if (b.requires_grad()) {  // d op(B) = op(A)ᵀ · G
                       grads[1] = as_shape(tb ? mm("matmul_backward", g, a, true, ta) : mm("matmul_backward", a, g, !ta, false),
                                           b.shape());
                     }
                     return grads;
                   });
}

template <class T>
Variable<T> batched_mm(const char* name, const Variable<T>& a, const Variable<T>& b, bool ta, bool tb, T alpha) {
  const Shape as = a.shape(), bs = b.shape();
  if (as.size() < 2 || bs.size() < 2) {
    fail(name, "expects stacks of matrices (at least 2-D), got {} x {}", format_shape(as), format_shape(bs));
  }
  const std::size_t a_rows = as[as.size() - 2], a_cols = as.back(), b_rows = bs[bs.size() - 2], b_cols = bs.back();
  const std::size_t M = ta ? a_cols : a_rows, K = ta ? a_rows : a_cols;
  const std::size_t N = tb ? b_rows : b_cols, Kb = tb ? b_cols : b_rows;
  if (K != Kb) fail(name, "inner dimensions differ: {} x {}", format_shape(as), format_shape(bs));
  const Shape batch = broadcast_batch(name, as, bs);
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  detail::checked_count(name, out_shape);
  Tensor<T> y = Tensor<T>::from_shape(out_shape);
  batched_gemm<T>(ta, tb, M, N, K, alpha, a.value().data(), batch_offsets(batch, batch_of(as), a_rows * a_cols), a_cols,
                  b.value().data(), batch_offsets(batch, batch_of(bs), b_rows * b_cols), b_cols, y.data());
  return record<T>(name, std::move(y), {a, b}, saves_inputs({0, 1}),
                   [a, b, ta, tb, alpha](Variable<T> g, const Variable<T>&) {
                     const char* op = "matmul_backward";
                     Gradients<T> grads(2);
                     if (a.requires_grad()) {  // d op(A) = alpha G · op(B)ᵀ, summed where A was broadcast
                       grads[0] = sum_to(ta ? batched_mm(op, b, g, tb, true, alpha) : batched_mm(op, g, b, false, !tb, alpha),
                                         a.shape());
                     }
                     if (b.requires_grad()) {  // d op(B) = alpha op(A)ᵀ · G
                       grads[1] = sum_to(tb ? batched_mm(op, g, a, true, ta, alpha) : batched_mm(op, a, g, !ta, false, alpha),
                                         b.shape());
                     }
                     return grads;
                   });
}

}  // namespace detail

template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b) {
  const Shape as = a.shape(), bs = b.shape();
  if (as.empty() || bs.empty()) {
    fail("matmul", "both operands need at least one dimension, got {} x {}", format_shape(as), format_shape(bs));
  }
  const std::size_t b_inner = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
  if (as.back() != b_inner) fail("matmul", "inner dimensions differ: {} x {}", format_shape(as), format_shape(bs));
  if (bs.size() == 1) {  // b is a column: (..., M, K) · (K,) -> (..., M), and a dot product when a is 1-D
    const Shape out_shape(as.begin(), as.end() - 1);
    return as_shape(detail::mm<T>("matmul", a, b, false, true), out_shape);
  }
  if (bs.size() == 2) {  // a's rows merged into one GEMM (a 1-D a is one row, and the result (N,))
    return detail::mm<T>("matmul", a, b, false, false);
  }
  if (as.size() == 1) {  // a row against a stack of matrices; the row's dimension is removed again
    Variable<T> y = detail::batched_mm<T>("matmul", reshape(a, {1, as[0]}), b, false, false);
    Shape out_shape = y.shape();
    out_shape.erase(out_shape.end() - 2);
    return reshape(y, out_shape);
  }
  return detail::batched_mm<T>("matmul", a, b, false, false);
}

template <class T>
Variable<T> bmm(const Variable<T>& a, const Variable<T>& b) {
  const Shape as = a.shape(), bs = b.shape();
  if (as.size() != 3 || bs.size() != 3) {
    fail("bmm", "expects two 3-D tensors (batch, rows, columns), got {} x {}", format_shape(as), format_shape(bs));
  }
  if (as[0] != bs[0]) fail("bmm", "batch sizes differ ({} vs {}): {} x {}", as[0], bs[0], format_shape(as), format_shape(bs));
  if (as[2] != bs[1]) fail("bmm", "inner dimensions differ: {} x {}", format_shape(as), format_shape(bs));
  return detail::batched_mm<T>("bmm", a, b, false, false);
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
  const std::size_t n_rows = rows_of(shape_of(xv));
  Shape y_shape = shape_of(xv);
  y_shape.back() = out;
  detail::checked_count("linear", y_shape);  // an empty input and weight can ask for a huge output
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
  detail::gemm<T>(false, true, n_rows, out, in, T(1), xv.data(), in, wv.data(), in, beta, y.data(), out);
  return detail::record<T>("linear", std::move(y), {x, w, b}, detail::saves_inputs({0, 1}),
                           [x, w, b](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(3);
                             if (x.requires_grad()) grads[0] = detail::mm<T>("linear_backward", g, w, false, false);  // G·W
                             if (w.requires_grad()) grads[1] = detail::mm<T>("linear_backward", g, x, true, false);   // Gᵀ·X
                             if (b.requires_grad()) grads[2] = detail::sum_to(g, b.shape());  // column sums of G
                             return grads;
                           });
}

#define TG_FUNCTIONS(T)                                                                    \
  template Variable<T> matmul(const Variable<T>&, const Variable<T>&);                     \
  template Variable<T> linear(const Variable<T>&, const Variable<T>&, const Variable<T>&); \
  template Variable<T> bmm(const Variable<T>&, const Variable<T>&);                        \
  template Variable<T> detail::mm(const char*, const Variable<T>&, const Variable<T>&, bool, bool); \
  template Variable<T> detail::batched_mm(const char*, const Variable<T>&, const Variable<T>&, bool, bool, T);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
