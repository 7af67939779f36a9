// The loops of the fused LSTM cell (ops/recurrent.cpp). Gates are rows of 4H values in PyTorch's
// order i, f, g, o; states are rows of H values. `act` holds the gates' activations in the same
// layout: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

namespace tg::detail {

// act = [sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)], with xtensor's vectorised exp and tanh.
// The sigmoid is the stable form of ops/detail/elementwise.hpp: e = exp(-|x|), 1/(1+e) or e/(1+e).
template <class T>
void lstm_gate_activations(const T* gates, std::size_t rows, std::size_t hidden, T* act) {
  const std::size_t n = rows * 4 * hidden;
  const std::array<std::size_t, 1> all{n}, block{hidden};
  auto x = xt::adapt(gates, n, xt::no_ownership(), all);
  auto y = xt::adapt(act, n, xt::no_ownership(), all);
  xt::noalias(y) = xt::exp(-xt::abs(x));
  for (std::size_t k = 0; k < n; ++k) {
    const T e = act[k];
    act[k] = (gates[k] >= T(0) ? T(1) : e) / (T(1) + e);
  }
  for (std::size_t r = 0; r < rows; ++r) {  // the g block: tanh instead
    const std::size_t at = (4 * r + 2) * hidden;
    auto g = xt::adapt(gates + at, hidden, xt::no_ownership(), block);
    auto out = xt::adapt(act + at, hidden, xt::no_ownership(), block);
    xt::noalias(out) = xt::tanh(g);
  }
}

// c = sigmoid(f) c_prev + sigmoid(i) tanh(g); c_prev null means zeros.
template <class T>
void lstm_state_forward(const T* act, const T* c_prev, std::size_t rows, std::size_t hidden, T* c) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* a = act + 4 * hidden * r;
    T* out = c + hidden * r;
    for (std::size_t j = 0; j < hidden; ++j) out[j] = a[j] * a[2 * hidden + j];
    if (c_prev != nullptr) {
      const T* prev = c_prev + hidden * r;
      for (std::size_t j = 0; j < hidden; ++j) out[j] += a[hidden + j] * prev[j];
    }
  }
}

// h = sigmoid(o) tanh(c); tanh(c) is kept in tanh_c for the backward.
template <class T>
void lstm_output_forward(const T* act, const T* c, std::size_t rows, std::size_t hidden, T* tanh_c, T* h) {
  const std::size_t n = rows * hidden;
  const std::array<std::size_t, 1> all{n};
  auto cv = xt::adapt(c, n, xt::no_ownership(), all);
  auto tv = xt::adapt(tanh_c, n, xt::no_ownership(), all);
  xt::noalias(tv) = xt::tanh(cv);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* o = act + 4 * hidden * r + 3 * hidden;
    for (std::size_t j = 0; j < hidden; ++j) h[hidden * r + j] = o[j] * tanh_c[hidden * r + j];
  }
}

// The gradient of c = f c_prev + i g (activations) in the gates' pre-activations, from dc:
// [dc g i(1-i), dc c_prev f(1-f), dc i (1-g²), 0].
template <class T>
void lstm_state_gates_backward(const T* dc, const T* act, const T* c_prev, std::size_t rows, std::size_t hidden,
                               T* dgates) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* a = act + 4 * hidden * r;
    const T* d = dc + hidden * r;
    T* out = dgates + 4 * hidden * r;
    for (std::size_t j = 0; j < hidden; ++j) {
      const T i = a[j], g = a[2 * hidden + j];
      out[j] = d[j] * g * i * (T(1) - i);
      out[2 * hidden + j] = d[j] * i * (T(1) - g * g);
    }
    if (c_prev != nullptr) {
      const T* prev = c_prev + hidden * r;
      for (std::size_t j = 0; j < hidden; ++j) {
        const T f = a[hidden + j];
        out[hidden + j] = d[j] * prev[j] * f * (T(1) - f);
      }
    } else {
      std::fill(out + hidden, out + 2 * hidden, T(0));
    }
    std::fill(out + 3 * hidden, out + 4 * hidden, T(0));
  }
}

// dc_prev = dc sigmoid(f).
template <class T>
void lstm_forget_backward(const T* dc, const T* act, std::size_t rows, std::size_t hidden, T* dc_prev) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* f = act + 4 * hidden * r + hidden;
    for (std::size_t j = 0; j < hidden; ++j) dc_prev[hidden * r + j] = dc[hidden * r + j] * f[j];
  }
}

// The gradient of h = o tanh(c) in the gates' pre-activations: [0, 0, 0, dh tanh(c) o(1-o)].
template <class T>
void lstm_output_gates_backward(const T* dh, const T* act, const T* tanh_c, std::size_t rows, std::size_t hidden,
                                T* dgates) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* o = act + 4 * hidden * r + 3 * hidden;
    T* out = dgates + 4 * hidden * r;
    std::fill(out, out + 3 * hidden, T(0));
    for (std::size_t j = 0; j < hidden; ++j) {
      out[3 * hidden + j] = dh[hidden * r + j] * tanh_c[hidden * r + j] * o[j] * (T(1) - o[j]);
    }
  }
}

// The gradient of h = o tanh(c) in c: dh o (1 - tanh(c)²).
template <class T>
void lstm_output_cell_backward(const T* dh, const T* act, const T* tanh_c, std::size_t rows, std::size_t hidden,
                               T* dc) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* o = act + 4 * hidden * r + 3 * hidden;
    for (std::size_t j = 0; j < hidden; ++j) {
      const T t = tanh_c[hidden * r + j];
      dc[hidden * r + j] = dh[hidden * r + j] * o[j] * (T(1) - t * t);
    }
  }
}

// The whole cell's gradient in one pass, from dh and dc' (either null: zeros): with
// dc_total = dc' + dh o (1 - tanh²(c')),
//   dgates = [dc_total g i(1-i), dc_total c_prev f(1-f), dc_total i (1-g²), dh tanh(c') o(1-o)]
// and dc_prev = dc_total f (skipped when dc_prev is null; c_prev null means zeros).
template <class T>
void lstm_cell_backward(const T* dh, const T* dc, const T* act, const T* tanh_c, const T* c_prev, std::size_t rows,
                        std::size_t hidden, T* dgates, T* dc_prev) {
  // A missing input reads a row of zeros, and each loop writes one output from few inputs: so
  // that every loop vectorises (one loop writing all five outputs has too many possible
  // overlaps for the compiler to check, and stays scalar).
  const std::vector<T> zeros(hidden, T(0));
  std::vector<T> total(hidden);
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t at = hidden * r;
    const T *i = act + 4 * at, *f = i + hidden, *g = i + 2 * hidden, *o = i + 3 * hidden, *t = tanh_c + at;
    const T* from_h = dh != nullptr ? dh + at : zeros.data();
    const T* from_c = dc != nullptr ? dc + at : zeros.data();
    const T* prev = c_prev != nullptr ? c_prev + at : zeros.data();
    T *out_i = dgates + 4 * at, *out_f = out_i + hidden, *out_g = out_i + 2 * hidden, *out_o = out_i + 3 * hidden;
    T* sum = total.data();
    for (std::size_t j = 0; j < hidden; ++j) sum[j] = from_c[j] + from_h[j] * o[j] * (T(1) - t[j] * t[j]);
    for (std::size_t j = 0; j < hidden; ++j) out_o[j] = from_h[j] * t[j] * o[j] * (T(1) - o[j]);
    for (std::size_t j = 0; j < hidden; ++j) out_i[j] = sum[j] * g[j] * i[j] * (T(1) - i[j]);
    for (std::size_t j = 0; j < hidden; ++j) out_f[j] = sum[j] * prev[j] * f[j] * (T(1) - f[j]);
    for (std::size_t j = 0; j < hidden; ++j) out_g[j] = sum[j] * i[j] * (T(1) - g[j] * g[j]);
    if (dc_prev != nullptr) {
      T* d_prev = dc_prev + at;
      for (std::size_t j = 0; j < hidden; ++j) d_prev[j] = sum[j] * f[j];
    }
  }
}

}  // namespace tg::detail
