#include "recurrent.hpp"

#include <cstdint>
#include <iterator>
#include <memory>

#include "../core/detail/instantiate.hpp"
#include "../core/detail/parallel.hpp"
#include "../core/errors.hpp"
#include "activation.hpp"
#include "arithmetic.hpp"
#include "detail/autograd.hpp"
#include "detail/gemm.hpp"
#include "detail/linalg_backward.hpp"
#include "detail/run_deposits.hpp"
#include "detail/lstm_cell_kernels.hpp"
#include "shape.hpp"

namespace tg {
namespace {

using detail::Gradients;

// What the forward computed and the backward kernels reuse: the gates' activations (rows of 4H)
// and tanh(c') (rows of H). Pure functions of the ops' saved inputs (whose versions the engine
// checks), so the backward ops may read them instead of recomputing; their own derivatives are
// written from the inputs alone.
template <class T>
struct CellCache {
  Tensor<T> act, tanh_c;
};
template <class T>
using CachePtr = std::shared_ptr<const CellCache<T>>;

template <class T>
Variable<T> zeros_variable(const Shape& shape) {
  return Variable<T>(Tensor<T>(xt::zeros<T>(shape)));
}

// The four gates' activations as differentiable Variables (..., H) each: only the double
// backward needs them.
template <class T>
struct GateValues {
  Variable<T> i, f, g, o;
};

// Gate k (0 i, 1 f, 2 g, 3 o) of a (..., 4H) tensor: the gates or a gradient of their shape.
template <class T>
Variable<T> gate_part(const Variable<T>& v, std::int64_t k) {
  const auto hidden = static_cast<std::int64_t>(v.shape().back() / 4);
  return slice(v, -1, k * hidden, (k + 1) * hidden);
}

template <class T>
GateValues<T> gate_values(const Variable<T>& gates) {
  return {sigmoid(gate_part(gates, 0)), sigmoid(gate_part(gates, 1)), tanh(gate_part(gates, 2)),
          sigmoid(gate_part(gates, 3))};
}

// s' / s for s = sigmoid(x): s (1 - s); and t' for t = tanh(x): 1 - t².
template <class T>
Variable<T> sigmoid_slope(const Variable<T>& s) {
  return s * (T(1) - s);
}
template <class T>
Variable<T> tanh_slope(const Variable<T>& t) {
  return T(1) - t * t;
}

template <class T>
Variable<T> join_gates(const Variable<T>& i, const Variable<T>& f, const Variable<T>& g, const Variable<T>& o) {
  return concat({i, f, g, o}, -1);
}

// The rows of a (..., width) tensor: the product of the leading extents.
std::size_t rows_of(const Shape& shape) {
  std::size_t n = 1;
  for (std::size_t d = 0; d + 1 < shape.size(); ++d) n *= shape[d];
  return n;
}

// The backward ops of the two forward nodes. Each is linear in its first argument (the incoming
// gradient) and reads the cache; its own derivative is written with differentiable functions
// from the inputs alone.

// dgates of c' = f c + i g: [dc g i(1-i), dc c f(1-f), dc i (1-g²), 0].
template <class T>
Variable<T> lstm_state_gates_grad(const Variable<T>& dc, const Variable<T>& gates, const Variable<T>& c,
                                  const CachePtr<T>& cache) {
  const std::size_t hidden = gates.shape().back() / 4;
  Tensor<T> out = Tensor<T>::from_shape(gates.shape());
  detail::lstm_state_gates_backward(dc.value().data(), cache->act.data(), c.defined() ? c.value().data() : nullptr,
                                    rows_of(gates.shape()), hidden, out.data());
  return detail::record<T>(
      "lstm_state_gates_grad", std::move(out), {dc, gates, c}, detail::saves_inputs({0, 1, 2}),
      [dc, gates, c](Variable<T> u, const Variable<T>&) {
        const GateValues<T> a = gate_values(gates);
        const Variable<T> ui = gate_part(u, 0), uf = gate_part(u, 1), ug = gate_part(u, 2);
        const Variable<T> si = sigmoid_slope(a.i), sf = sigmoid_slope(a.f), tg = tanh_slope(a.g);
        Variable<T> d_dc = ui * a.g * si + ug * a.i * tg;
        Variable<T> d_f = zeros_variable<T>(dc.shape()), d_c;
        if (c.defined()) {
          d_dc = d_dc + uf * c * sf;
          d_f = uf * dc * c * sf * (T(1) - T(2) * a.f);
          d_c = uf * dc * sf;
        }
        const Variable<T> d_i = dc * si * (ui * a.g * (T(1) - T(2) * a.i) + ug * tg);
        const Variable<T> d_g = dc * tg * (ui * si - ug * a.i * (T(2) * a.g));
        return Gradients<T>{d_dc, join_gates(d_i, d_f, d_g, zeros_variable<T>(dc.shape())), d_c};
      });
}

// dc of c' = f c: dc' f.
template <class T>
Variable<T> lstm_forget_grad(const Variable<T>& dc, const Variable<T>& gates, const CachePtr<T>& cache) {
  const std::size_t hidden = gates.shape().back() / 4;
  Tensor<T> out = Tensor<T>::from_shape(dc.shape());
  detail::lstm_forget_backward(dc.value().data(), cache->act.data(), rows_of(gates.shape()), hidden,
                               out.data());
  return detail::record<T>("lstm_forget_grad", std::move(out), {dc, gates}, detail::saves_inputs({0, 1}),
                           [dc, gates](Variable<T> u, const Variable<T>&) {
                             const GateValues<T> a = gate_values(gates);
                             const Variable<T> zero = zeros_variable<T>(dc.shape());
                             return Gradients<T>{u * a.f, join_gates(zero, u * dc * sigmoid_slope(a.f), zero, zero)};
                           });
}

// dgates of h = o tanh(c'): [0, 0, 0, dh tanh(c') o(1-o)].
template <class T>
Variable<T> lstm_output_gates_grad(const Variable<T>& dh, const Variable<T>& gates, const Variable<T>& c,
                                   const CachePtr<T>& cache) {
  const std::size_t hidden = gates.shape().back() / 4;
  Tensor<T> out = Tensor<T>::from_shape(gates.shape());
  detail::lstm_output_gates_backward(dh.value().data(), cache->act.data(), cache->tanh_c.data(),
                                     rows_of(gates.shape()), hidden, out.data());
  return detail::record<T>(
      "lstm_output_gates_grad", std::move(out), {dh, gates, c}, detail::saves_inputs({0, 1, 2}),
      [dh, gates, c](Variable<T> u, const Variable<T>&) {
        const Variable<T> uo = gate_part(u, 3);
        const Variable<T> o = sigmoid(gate_part(gates, 3)), t = tanh(c);
        const Variable<T> so = sigmoid_slope(o), zero = zeros_variable<T>(c.shape());
        return Gradients<T>{uo * t * so, join_gates(zero, zero, zero, uo * dh * t * so * (T(1) - T(2) * o)),
                            uo * dh * so * tanh_slope(t)};
      });
}

// dc' of h = o tanh(c'): dh o (1 - tanh(c')²).
template <class T>
Variable<T> lstm_output_cell_grad(const Variable<T>& dh, const Variable<T>& gates, const Variable<T>& c,
                                  const CachePtr<T>& cache) {
  const std::size_t hidden = gates.shape().back() / 4;
  Tensor<T> out = Tensor<T>::from_shape(c.shape());
  detail::lstm_output_cell_backward(dh.value().data(), cache->act.data(), cache->tanh_c.data(),
                                    rows_of(gates.shape()), hidden, out.data());
  return detail::record<T>(
      "lstm_output_cell_grad", std::move(out), {dh, gates, c}, detail::saves_inputs({0, 1, 2}),
      [dh, gates, c](Variable<T> u, const Variable<T>&) {
        const Variable<T> o = sigmoid(gate_part(gates, 3)), t = tanh(c);
        const Variable<T> ts = tanh_slope(t), zero = zeros_variable<T>(c.shape());
        return Gradients<T>{u * o * ts, join_gates(zero, zero, zero, u * dh * sigmoid_slope(o) * ts),
                            u * dh * o * (T(-2) * t * ts)};
      });
}

// The gradients of the gates and of c from those of h' and c' (either undefined: zeros). First
// order: one pass. Under create_graph: the ops above, each differentiable again; c' is computed
// again from the inputs so that their derivatives reach gates and c.
template <class T>
Gradients<T> cell_backward(const Variable<T>& dh, const Variable<T>& dc, const Variable<T>& gates,
                           const Variable<T>& c, const CachePtr<T>& cache) {
  Gradients<T> grads(2);
  const bool c_needed = c.defined() && c.requires_grad();
  if (!grad_enabled()) {
    const Shape shape = gates.shape();
    const std::size_t hidden = shape.back() / 4;
    Tensor<T> dgates = Tensor<T>::from_shape(shape), dc_prev;
    if (c_needed) dc_prev = Tensor<T>::from_shape(c.shape());
    const T* dh_in = dh.defined() ? dh.value().data() : nullptr;
    const T* dc_in = dc.defined() ? dc.value().data() : nullptr;
    const T* c_in = c.defined() ? c.value().data() : nullptr;
    // Rows on the threads as in the forward; about a dozen operations per gate value.
    constexpr std::size_t arithmetic_cost = 2;
    detail::parallel_blocks(rows_of(shape), 4 * hidden * arithmetic_cost, [&](std::size_t lo, std::size_t hi) {
      const std::size_t narrow = hidden * lo;
      auto at = [narrow](const T* p) { return p != nullptr ? p + narrow : nullptr; };
      detail::lstm_cell_backward(at(dh_in), at(dc_in), cache->act.data() + 4 * narrow, cache->tanh_c.data() + narrow,
                                 at(c_in), hi - lo, hidden, dgates.data() + 4 * narrow,
                                 c_needed ? dc_prev.data() + narrow : nullptr);
    });
    if (gates.requires_grad()) grads[0] = detail::constant(std::move(dgates));
    if (c_needed) grads[1] = detail::constant(std::move(dc_prev));
    return grads;
  }
  const GateValues<T> a = gate_values(gates);
  const Variable<T> c_new = c.defined() ? a.f * c + a.i * a.g : a.i * a.g;
  Variable<T> dgates, dc_total = dc;
  if (dh.defined()) {
    dgates = lstm_output_gates_grad(dh, gates, c_new, cache);
    const Variable<T> through_h = lstm_output_cell_grad(dh, gates, c_new, cache);
    dc_total = dc_total.defined() ? dc_total + through_h : through_h;
  }
  if (dc_total.defined()) {
    const Variable<T> through_c = lstm_state_gates_grad(dc_total, gates, c, cache);
    dgates = dgates.defined() ? dgates + through_c : through_c;
    if (c_needed) grads[1] = lstm_forget_grad(dc_total, gates, cache);
  }
  if (gates.requires_grad()) grads[0] = dgates;
  return grads;
}

}  // namespace

template <class T>
Variable<T> recurrent_gates(const Variable<T>& projected, const Variable<T>& h, const Variable<T>& weight_hh) {
  const Shape h_shape = h.shape(), w_shape = weight_hh.shape();
  if (w_shape.size() != 2 || h_shape.empty() || h_shape.back() != w_shape[1]) {
    fail("recurrent_gates", "h of shape {} and weight_hh of shape {} do not make a product h·W_hhᵀ (h (..., H), W_hh (G, H))",
         format_shape(h_shape), format_shape(w_shape));
  }
  Shape gates_shape = h_shape;
  gates_shape.back() = w_shape[0];
  if (projected.shape() != gates_shape) {
    fail("recurrent_gates", "projected has shape {}, expected {} for h of shape {} and weight_hh of shape {}",
         format_shape(projected.shape()), format_shape(gates_shape), format_shape(h_shape), format_shape(w_shape));
  }
  const std::size_t gates = w_shape[0], hidden = w_shape[1];
  Tensor<T> out = std::as_const(projected).value();  // the product accumulates onto it (beta = 1)
  detail::gemm<T>(false, true, rows_of(h_shape), gates, hidden, T(1), h.value().data(), hidden,
                  weight_hh.value().data(), hidden, T(1), out.data(), gates);
  return detail::record<T>("recurrent_gates", std::move(out), {projected, h, weight_hh}, detail::saves_inputs({1, 2}),
                           [h, weight_hh](Variable<T> g, const Variable<T>&) {
                             Gradients<T> grads(3);
                             const char* name = "recurrent_gates_backward";
                             if (h.requires_grad()) grads[1] = detail::mm<T>(name, g, weight_hh, false, false);
                             if (weight_hh.requires_grad()) grads[2] = detail::mm<T>(name, g, h, true, false);
                             grads[0] = std::move(g);
                             return grads;
                           });
}

template <class T>
std::pair<Variable<T>, Variable<T>> lstm_cell_pointwise(const Variable<T>& gates, const Variable<T>& c) {
  if (!gates.defined()) fail("lstm_cell_pointwise", "gates is an undefined Variable");
  const Shape shape = gates.shape();
  if (shape.empty() || shape.back() == 0 || shape.back() % 4 != 0) {
    fail("lstm_cell_pointwise",
         "gates of shape {} must have 4 * hidden_size > 0 features on the last axis (gate order i, f, g, o)",
         format_shape(shape));
  }
  const std::size_t hidden = shape.back() / 4;
  Shape state_shape = shape;
  state_shape.back() = hidden;
  if (c.defined() && c.shape() != state_shape) {
    fail("lstm_cell_pointwise", "cell state c has shape {}, expected {} for gates of shape {}", format_shape(c.shape()),
         format_shape(state_shape), format_shape(shape));
  }
  const std::size_t rows = rows_of(shape);

  auto cache = std::make_shared<CellCache<T>>();
  cache->act = Tensor<T>::from_shape(shape);
  cache->tanh_c = Tensor<T>::from_shape(state_shape);
  Tensor<T> c_value = Tensor<T>::from_shape(state_shape), h_value = Tensor<T>::from_shape(state_shape);
  const T* gates_in = gates.value().data();
  const T* c_in = c.defined() ? c.value().data() : nullptr;
  T *act = cache->act.data(), *tanh_c = cache->tanh_c.data(), *c_out = c_value.data(), *h_out = h_value.data();
  // Rows on the threads, each row's three passes on one thread (the same values whatever the
  // thread count). Five exps or tanhs per state value: worth the threads far below the size at
  // which a memory-bound pass is.
  constexpr std::size_t transcendental_cost = 8;
  detail::parallel_blocks(rows, 4 * hidden * transcendental_cost, [&](std::size_t lo, std::size_t hi) {
    const std::size_t wide = 4 * hidden * lo, narrow = hidden * lo, count = hi - lo;
    detail::lstm_gate_activations(gates_in + wide, count, hidden, act + wide);
    detail::lstm_state_forward(act + wide, c_in != nullptr ? c_in + narrow : nullptr, count, hidden, c_out + narrow);
    detail::lstm_output_forward(act + wide, c_out + narrow, count, hidden, tanh_c + narrow, h_out + narrow);
  });
  const CachePtr<T> shared = std::move(cache);  // freed with the nodes, or at once when nothing records
  const Variable<T> inputs[] = {gates, c};
  if (!detail::records(std::begin(inputs), std::end(inputs))) {
    return {detail::constant(std::move(h_value)), detail::constant(std::move(c_value))};
  }

  // One op with two outputs: h' and c' hand their gradients to the cell's node, which the engine
  // runs after both (they read its token output) and which then computes the gates' and c's
  // gradients in one pass.
  auto deposits = std::make_shared<detail::RunDeposits<Variable<T>>>();
  const Variable<T> cell = detail::record<T>(
      "lstm_cell", detail::token_value<T>(), {gates, c}, detail::saves_inputs({0, 1}),
      [gates, c, shared, deposits](Variable<T>, const Variable<T>&) {
        std::vector<Variable<T>> outputs = deposits->take();
        outputs.resize(2);
        return cell_backward(outputs[0], outputs[1], gates, c, shared);
      });
  auto output = [&deposits, &cell](const char* name, Tensor<T> value, std::size_t index) {
    return detail::record<T>(name, std::move(value), {cell}, detail::saves_nothing(),
                             [deposits, index](Variable<T> g, const Variable<T>&) {
                               deposits->hand_in(index, std::move(g));
                               return detail::single(detail::token_gradient<T>());
                             });
  };
  return {output("lstm_cell_output", std::move(h_value), 0), output("lstm_cell_state", std::move(c_value), 1)};
}

#define TG_RECURRENT(T)                                                                                  \
  template Variable<T> recurrent_gates(const Variable<T>&, const Variable<T>&, const Variable<T>&);      \
  template std::pair<Variable<T>, Variable<T>> lstm_cell_pointwise(const Variable<T>&, const Variable<T>&);
TG_FOR_EACH_TYPE(TG_RECURRENT)

}  // namespace tg
