// Turns bytes into a short program of tapegrad calls on small tensors: variables of arbitrary
// (bounded) shapes, ops of every group with arbitrary arguments, backward and grad with and
// without retain_graph/create_graph, hooks, optimiser steps and in-place edits between them
// (value() writes, values replaced by ones of another shape). Every call must succeed or throw
// std::invalid_argument, std::logic_error or std::runtime_error; anything else escapes
// run_api_program. fuzz_api.cpp runs it under libFuzzer (with ASan and UBSan, so a memory error,
// undefined behaviour or leak is a finding too), and tests/core/test_api_regressions.cpp replays
// the saved inputs of tests/fuzz/regressions/fuzz_api/.
//
// Each program is kept small and fast (at most max_calls calls, at most 3 dimensions of at most 3,
// 4 for convolution and pooling inputs, a pool of 8 variables) so that the fuzzer runs over a
// million of them a minute.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace tg::fuzz {

// The input, read a byte at a time; past its end every read gives 0.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : byte() % n; }
  bool flag() { return (byte() & 1) != 0; }
  int small_int(int lo, int hi) { return lo + static_cast<int>(below(static_cast<std::size_t>(hi - lo + 1))); }
  // Mostly small numbers; now and then 0, a huge one, infinity or NaN.
  double number() {
    const std::uint8_t b = byte();
    switch (b) {
      case 250: return 0.0;
      case 251: return 1e30;
      case 252: return -1e30;
      case 253: return std::numeric_limits<double>::infinity();
      case 254: return -std::numeric_limits<double>::infinity();
      case 255: return std::numeric_limits<double>::quiet_NaN();
      default: return (static_cast<int>(b) - 125) / 16.0;
    }
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

template <class T>
class ApiProgram {
 public:
  static constexpr std::size_t max_calls = 8;
  static constexpr std::size_t pool_size = 8;

  explicit ApiProgram(Bytes& in) : in_(in) {}

  void run() {
    add(leaf());
    add(leaf());
    for (std::size_t call = 0; call < max_calls && !in_.done(); ++call) {
      const std::uint8_t mode = in_.byte();
      // The top three bits: 111 runs the call under NoGradGuard, 110 under anomaly mode (each
      // 1 in 8: most calls of a program should record, and an exception costs a run time).
      std::optional<NoGradGuard> no_grad;
      if ((mode & 0xe0) == 0xe0) no_grad.emplace();
      AnomalyGuard anomaly((mode & 0xe0) == 0xc0);
      if (trace()) std::fprintf(stderr, "call %zu: op %d%s%s\n", call, (mode & 0x1f) % 24,
                                no_grad ? " no_grad" : "", anomaly_enabled() ? " anomaly" : "");
      attempt([&] { dispatch(mode & 0x1f); });
    }
    // A training loop clears gradients; backward(create_graph) on a leaf leaves a cycle
    // (leaf -> its gradient -> that gradient's graph -> leaf), as in PyTorch, until then.
    for (auto& v : seen_) v.zero_grad();
  }

 private:
  // The documented failures are fine; anything else propagates out of run().
  template <class F>
  void attempt(F&& f) {
    try {
      f();
    } catch (const std::logic_error& e) {  // std::invalid_argument included
      if (trace()) std::fprintf(stderr, "  refused: %s\n", e.what());
    } catch (const std::runtime_error& e) {
      if (trace()) std::fprintf(stderr, "  refused: %s\n", e.what());
    }
  }
  // TG_FUZZ_TRACE=1 prints each call and each refusal, to read what an input does.
  static bool trace() {
    static const bool on = std::getenv("TG_FUZZ_TRACE") != nullptr;
    return on;
  }

  void add(Variable<T> v) {
    if (!v.defined()) return;
    seen_.push_back(v);
    if (pool_.size() < pool_size) pool_.push_back(std::move(v));
    else pool_[in_.below(pool_size)] = std::move(v);
  }
  Variable<T>& pick() { return pool_[in_.below(pool_.size())]; }

  Shape shape() {
    Shape s(in_.below(4));
    for (auto& d : s) d = in_.below(4);
    return s;
  }
  Tensor<T> tensor(const Shape& s) {
    Tensor<T> t = Tensor<T>::from_shape(s);
    for (auto& e : t) e = static_cast<T>(in_.number());
    return t;
  }
  Variable<T> leaf(const Shape& s) { return Variable<T>(tensor(s), in_.flag() || in_.flag()); }
  Variable<T> leaf() { return leaf(shape()); }
  // An existing variable, or now and then a fresh one of the given shape (so that shapes fit often).
  Variable<T> operand(const Shape& fitting) {
    if (in_.below(3) != 0) return pick();
    seen_.push_back(leaf(fitting));
    return seen_.back();
  }
  Axes axes() {
    Axes a(in_.below(3));
    for (auto& x : a) x = in_.small_int(-5, 4);
    return a;
  }
  int axis() { return in_.small_int(-5, 4); }
  std::size_t param() { return in_.below(4); }  // stride, padding, dilation, groups: 0 is invalid for some
  Labels labels(std::size_t n) {
    Labels l(n);
    for (auto& v : l) v = in_.small_int(-2, 5);
    return l;
  }
  T scalar() { return static_cast<T>(in_.number()); }

  void dispatch(std::uint8_t op) {
    switch (op % 24) {
      case 0: add(leaf()); break;
      case 1: unary(); break;
      case 2: {
        Variable<T> a = pick(), b = operand(a.shape());
        switch (in_.below(4)) {
          case 0: add(a + b); break;
          case 1: add(a - b); break;
          case 2: add(a * b); break;
          default: add(a / b); break;
        }
        break;
      }
      case 3: {
        Variable<T> a = pick();
        const T s = scalar();
        switch (in_.below(5)) {
          case 0: add(a + s); break;
          case 1: add(s - a); break;
          case 2: add(a * s); break;
          case 3: add(s / a); break;
          default: add(pow(a, s)); break;
        }
        break;
      }
      case 4: {
        Variable<T> a = pick();
        const Shape as = a.shape();
        Shape bs{as.empty() ? 2 : as.back(), in_.below(5)};
        add(in_.flag() ? matmul(a, operand(bs)) : matmul(a, pick()));
        break;
      }
      case 5: {
        Variable<T> x = pick();
        const Shape xs = x.shape();
        const std::size_t out = in_.below(5);
        Variable<T> w = operand({out, xs.empty() ? 1 : xs.back()});
        Variable<T> b = in_.flag() ? operand({out}) : Variable<T>();
        add(linear(x, w, b));
        break;
      }
      case 6: reduce(); break;
      case 7: shape_op(); break;
      case 8: shape_op(); break;
      case 9: {
        Variable<T> a = pick();
        add(in_.flag() ? softmax(a, axis()) : log_softmax(a, axis()));
        break;
      }
      case 10: loss(); break;
      case 11: convolution(); break;
      case 12: {
        Variable<T> x = operand({in_.below(3), in_.below(3), in_.below(6), in_.below(6)});  // 4-D
        const std::size_t k = param(), s = param(), p = param();
        add(in_.flag() ? max_pool2d(x, k, s, p) : avg_pool2d(x, k, s, p));
        break;
      }
      case 13: {
        Variable<T> a = pick();
        const T p = static_cast<T>(in_.below(6) / 4.0);  // 0, 0.25, .. 1.25: 1.25 is refused
        add(dropout(a, p, in_.flag(), gen_));
        break;
      }
      case 14:
      case 15: backward(); break;
      case 16: gradients(); break;
      case 17:
      case 18: edit(); break;
      case 19: hook(); break;
      case 20: {
        Variable<T>& v = pick();
        if (in_.flag()) add(v.grad_variable());
        else add(v.detach());
        break;
      }
      case 21: step(); break;
      case 22: (void)pick().item(); break;
      default: pick().set_requires_grad(in_.flag()); break;
    }
  }

  void unary() {
    Variable<T> a = pick();
    switch (in_.below(11)) {
      case 0: add(exp(a)); break;
      case 1: add(log(a)); break;
      case 2: add(sqrt(a)); break;
      case 3: add(abs(a)); break;
      case 4: add(-a); break;
      case 5: add(sigmoid(a)); break;
      case 6: add(tanh(a)); break;
      case 7: add(relu(a)); break;
      case 8: add(leaky_relu(a, scalar())); break;
      case 9: add(elu(a, scalar())); break;
      default: add(pow(a, static_cast<T>(in_.small_int(-2, 3)))); break;
    }
  }

  void reduce() {
    Variable<T> a = pick();
    const bool keep = in_.flag();
    switch (in_.below(5)) {
      case 0: add(sum(a)); break;
      case 1: add(mean(a)); break;
      case 2: add(sum(a, axes(), keep)); break;
      case 3: add(mean(a, axes(), keep)); break;
      default: add(max(a, axis(), keep)); break;
    }
  }

  void shape_op() {
    Variable<T> a = pick();
    switch (in_.below(12)) {
      case 0: add(reshape(a, shape())); break;
      case 1: add(transpose(a)); break;
      case 2: {
        Shape perm(in_.below(5));
        for (auto& p : perm) p = in_.below(5);
        add(permute(a, perm));
        break;
      }
      case 3: add(flatten(a, in_.small_int(-3, 3))); break;
      case 4: add(concat({a, operand(a.shape()), pick()}, axis())); break;
      case 5: add(stack({a, operand(a.shape())}, axis())); break;
      case 6:
        for (auto& piece : split(a, in_.below(4), axis())) add(piece);
        break;
      case 7: add(unsqueeze(a, axis())); break;
      case 8: add(squeeze(a, axis())); break;
      case 9: add(slice(a, axis(), in_.small_int(-6, 6), in_.small_int(-6, 6), in_.small_int(-1, 3))); break;
      case 10: add(expand(a, shape())); break;
      default: {
        Shape to = a.shape();
        to.insert(to.begin(), in_.below(3));
        add(expand(a, to));
        break;
      }
    }
  }

  void loss() {
    Variable<T> a = pick();
    const Shape as = a.shape();
    const std::size_t rows = as.empty() ? 0 : as[0];
    switch (in_.below(4)) {
      case 0: add(mse_loss(a, operand(as))); break;
      case 1: add(cross_entropy(a, labels(in_.flag() ? rows : in_.below(4)))); break;
      case 2: add(nll_loss(a, labels(in_.flag() ? rows : in_.below(4)))); break;
      default: add(binary_cross_entropy_with_logits(a, operand(as))); break;
    }
  }

  void convolution() {
    const std::size_t groups = param(), in_ch = in_.below(4), out_ch = in_.below(4), k = in_.below(4);
    Variable<T> x = operand({in_.below(3), in_ch, in_.below(7), in_.below(7)});
    Variable<T> w = operand({out_ch, groups == 0 ? in_ch : in_ch / groups, k, k});
    Variable<T> b = in_.flag() ? operand({out_ch}) : Variable<T>();
    const std::size_t stride = param(), padding = param(), dilation = param();
    if (in_.flag()) add(conv2d(x, w, b, stride, padding, dilation, groups));
    else add(conv2d_relu_max_pool2d(x, w, b, stride, padding, dilation, groups));
  }

  void backward() {
    Variable<T> v = pick();
    const bool retain = in_.flag(), create = in_.flag();
    if (in_.flag()) {
      v.backward(retain, create);
    } else {
      const Shape s = in_.below(4) == 0 ? shape() : v.shape();
      v.backward(tensor(s), retain, create);
    }
  }

  void gradients() {
    std::vector<Variable<T>> outputs{pick()}, inputs{pick()}, seeds;
    if (in_.flag()) inputs.push_back(pick());
    if (in_.flag()) seeds.push_back(Variable<T>(tensor(in_.below(4) == 0 ? shape() : outputs[0].shape())));
    std::optional<bool> retain;
    if (in_.flag()) retain = in_.flag();
    const bool create = in_.flag(), allow_unused = in_.flag();
    for (auto& g : grad(outputs, inputs, seeds, retain, create, allow_unused)) add(g);
  }

  // In-place edits between recording and backward: a value() write, or a new value, often of
  // another shape.
  void edit() {
    Variable<T>& v = pick();
    switch (in_.below(4)) {
      case 0:
        if (v.size() > 0) v.value().flat(in_.below(v.size())) = scalar();
        break;
      case 1: v.value() = tensor(shape()); break;
      case 2: v.value() = tensor(v.shape()); break;
      default: v.zero_grad(); break;
    }
  }

  void hook() {
    Variable<T>& v = pick();
    if (in_.flag()) {
      v.remove_hook(in_.below(4));
      return;
    }
    switch (in_.below(3)) {
      case 0: v.register_hook([](const Tensor<T>& g) { return Tensor<T>(g * T(2)); }); break;
      case 1: v.register_hook([](const Tensor<T>& g) { return Tensor<T>(xt::zeros<T>({g.size() + 1})); }); break;
      default:
        v.register_hook([](const Tensor<T>&) -> Tensor<T> { throw std::runtime_error("hook: refused"); });
        break;
    }
  }

  void step() {
    std::vector<Variable<T>> params;
    for (const auto& v : pool_) {
      if (in_.flag()) params.push_back(v);
    }
    if (in_.flag()) {
      optim::SGD<T> sgd(params, optim::SGDOptions{0.1, in_.flag() ? 0.9 : 0.0});
      sgd.step();
    } else {
      optim::Adam<T> adam(params);
      adam.step();
    }
  }

  Bytes& in_;
  std::vector<Variable<T>> pool_;
  std::vector<Variable<T>> seen_;  // every variable the program handled, to clear their gradients
  Generator gen_{0};
};

// Runs the program the bytes describe, in float or double (the first byte's lowest bit).
inline void run_api_program(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  if (in.flag()) {
    ApiProgram<double>(in).run();
  } else {
    ApiProgram<float>(in).run();
  }
}

}  // namespace tg::fuzz
