// What the nodes of an op with several outputs hand, during one run of the backward engine, to the
// op's one joining node (the engine runs it after them all: they read its output, a token). Kept by
// the engine's run number, so runs on several threads through one graph, or a run stopped half-way
// by an exception, never mix theirs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "../../core/detail/engine.hpp"
#include "../../core/variable.hpp"
#include "../shape.hpp"

namespace tg::detail {

// The joining node's output, which only orders the backward, and the gradient each output node
// passes back to it (there is nothing to differentiate in it).
template <class T>
Tensor<T> token_value() {
  return Tensor<T>(T(0));
}
template <class T>
Variable<T> token_gradient() {
  return Variable<T>(Tensor<T>(T(0)), false);
}

// The outputs' gradients joined along `axis` in one concat (recorded under create_graph); an output
// none came for counts as zeros of its shape, shape_of(k).
template <class T, class ShapeOf>
Variable<T> join_gradients(std::vector<Variable<T>> parts, std::size_t count, ShapeOf&& shape_of, int axis) {
  parts.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    if (!parts[k].defined()) parts[k] = Variable<T>(Tensor<T>(xt::zeros<T>(shape_of(k))), false);
  }
  return count == 1 ? parts.front() : concat(parts, axis);
}

// A state per run: what that run's nodes have handed in so far.
template <class State>
class PerRun {
 public:
  // Calls f(state) with this run's state, made on first use.
  template <class F>
  void update(F&& f) {
    const std::lock_guard<std::mutex> lock(mutex_);
    f(by_run_[current_backward_run()]);
  }

  // This run's state, removed (a default one when nothing was handed in).
  State take() {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto run = by_run_.find(current_backward_run());
    if (run == by_run_.end()) return State{};
    State state = std::move(run->second);
    by_run_.erase(run);
    return state;
  }

 private:
  std::mutex mutex_;
  std::map<std::uint64_t, State> by_run_;
};

// One item per output: take() gives them by index (default-made where none came; possibly fewer
// than handed out indices, never more).
template <class Item>
class RunDeposits : public PerRun<std::vector<Item>> {
 public:
  void hand_in(std::size_t index, Item item) {
    this->update([&](std::vector<Item>& run) {
      if (run.size() <= index) run.resize(index + 1);
      run[index] = std::move(item);
    });
  }
};

}  // namespace tg::detail
