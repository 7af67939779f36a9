// What a Variable handle shares, and the recorded op (Node) that produced it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "../variable.hpp"

namespace tg::detail {

template <class T>
using Gradients = std::vector<Variable<T>>;

// The backward of a recorded op: the gradient of its output and the output itself, to one gradient
// per input (undefined where an input needs none). It is written with tapegrad's own functions, so
// with create_graph the engine lets them record and the gradient can be differentiated again.
// grad_output is handed over: at its last use an op may std::move it into a function that takes
// over its buffer (ops/detail/autograd.hpp, take_buffer).
template <class T>
using OpBackward = std::function<Gradients<T>(Variable<T> grad_output, const Variable<T>& output)>;

// What an op's backward reads besides the output's gradient: some of its inputs and/or its own
// output, never a copy. The engine refuses to run the backward if any of them was written since.
// Bit i of `inputs` stands for input i; a user's operator, which may have more than 64 inputs,
// saves them all.
struct Saves {
  std::uint64_t inputs = 0;
  bool all_inputs = false;
  bool output = false;

  bool saves_input(std::size_t i) const { return all_inputs || (i < 64 && ((inputs >> i) & 1u)); }
};

// One recorded op: its inputs, the versions of what its backward reads, and the backward itself.
// Destruction is iterative, so a chain of 100,000 ops does not overflow the stack.
template <class T>
struct Node {
  using ShapeType = typename Tensor<T>::shape_type;  // no heap allocation up to 4 dimensions

  // What the op saw of one input when it was recorded. A backward is written for these shapes
  // and sizes its buffers by them: the engine refuses to run it once a value was replaced by one
  // of another shape, saved or not, or once a saved input was written since.
  struct RecordedInput {
    ShapeType shape;  // empty for an undefined input
    std::uint64_t version = 0;
    bool saved = false;  // the backward reads this input
  };

  std::vector<Variable<T>> inputs;
  OpBackward<T> backward;
  std::vector<RecordedInput> recorded;  // one per input
  bool saves_output = false;   // the output must still be at version 0
  bool differentiable = true;  // false for a user's Tensor-form record_op: once differentiable
  ShapeType output_shape;

  Node(std::vector<Variable<T>> in, OpBackward<T> fn, const Saves& saves, bool differentiable,
       const ShapeType& output_shape);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

template <class T>
struct Hook {
  std::size_t handle;
  std::function<Tensor<T>(const Tensor<T>&)> fn;
};

// A leaf has no grad_fn; an op's output owns the Node that made it.
template <class T>
struct VariableImpl {
  Tensor<T> value;
  std::atomic<std::uint64_t> version{0};  // write accesses to value (Variable::version)
  bool requires_grad = false;
  // Guarded by mutex, as graph_released: another thread's backward through a shared part of the
  // graph may release it. Shared, so that a backward still running the node keeps it alive.
  std::shared_ptr<Node<T>> grad_fn;
  std::string op;               // name of the op that produced it ("" for a leaf); kept after release
  std::string name;             // a parameter's name, where a module gave one
  bool graph_released = false;  // a backward without retain_graph freed the graph below

  // Guarded by mutex: several threads may back-propagate into one leaf (shared parameters).
  // Recursive, so that a hook may read its own variable's gradient.
  std::recursive_mutex mutex;
  std::shared_ptr<VariableImpl> grad;  // the accumulated gradient, null until a backward reaches this leaf
  std::vector<Hook<T>> hooks;          // in registration order
  std::atomic<std::size_t> hook_count{0};  // hooks.size(), read without the lock by each backward

  // Handles that may read the value: every Variable but the graph's links from an op to its
  // inputs. When the last one goes, an op's output gives its memory back unless its own backward
  // reads it (keeps_value), as PyTorch frees what no backward saved: what a backward reads, its
  // closure holds as a reader.
  std::atomic<std::size_t> readers{0};
  bool keeps_value = false;
  bool value_released = false;                    // guarded by mutex
  typename Tensor<T>::shape_type released_shape;  // the freed value's shape, for messages and to_dot
};

// The shape of v's value, or of the value it had before it was released.
template <class T>
const typename Tensor<T>::shape_type& value_shape(const VariableImpl<T>& v) {
  return v.value_released ? v.released_shape : v.value.shape();
}

}  // namespace tg::detail
