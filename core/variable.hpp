// Variable<T>: a cheap, shared handle to a value, its gradient and the op that produced it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor.hpp"

namespace tg {

template <class T>
class Variable;

// Turns the gradient of an op's output into one gradient per input (empty where not needed).
template <class T>
using BackwardFn = std::function<std::vector<Tensor<T>>(const Tensor<T>& grad_output)>;

namespace detail {

// The library's own ops may take the output's gradient by value instead: the engine drops it
// right after the call, so an elementwise backward can write its result into it in place.
template <class T>
using ConsumingBackwardFn = std::function<std::vector<Tensor<T>>(Tensor<T>&& grad_output)>;

template <class T>
struct Node;

// What a Variable handle shares. A leaf has no grad_fn; an op's output owns the Node that made it.
template <class T>
struct VariableImpl {
  Tensor<T> value;
  std::unique_ptr<Tensor<T>> grad;  // null until a backward reaches this leaf
  bool requires_grad = false;
  std::unique_ptr<Node<T>> grad_fn;
  std::string op;             // name of the op that produced it ("" for a leaf); kept after release
  std::string name;           // a parameter's name, where a module gave one
  bool graph_released = false;  // a backward without retain_graph freed the graph below
};

// One recorded op: its inputs and the closure that back-propagates through it.
// Destruction is iterative, so a chain of 100,000 ops does not overflow the stack.
template <class T>
struct Node {
  std::vector<Variable<T>> inputs;
  ConsumingBackwardFn<T> backward;

  Node(std::vector<Variable<T>> in, ConsumingBackwardFn<T> fn);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

}  // namespace detail

template <class T>
class Variable {
 public:
  Variable() = default;  // undefined: holds nothing
  explicit Variable(Tensor<T> value, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Tensor<T>& value() const&;
  Tensor<T>& value() &;  // in-place edits bypass the tape
  // The value of a temporary (`net(x).value()`) is returned by value, moved out when nothing
  // else shares it, so `const Tensor<T>& y = net(x).value();` cannot dangle. It is const so that
  // writing through a temporary handle (`f().value() = v`), which would be lost, does not compile.
  const Tensor<T> value() &&;
  const Tensor<T>& grad() const;  // throws if no gradient exists
  bool has_grad() const;
  bool requires_grad() const;
  void set_requires_grad(bool requires_grad);
  Shape shape() const;
  std::size_t size() const;
  std::size_t ndim() const;
  T item() const;  // throws unless size() == 1

  void backward(bool retain_graph = false);  // throws unless size() == 1; seed 1
  void backward(const Tensor<T>& seed, bool retain_graph = false);
  void zero_grad();  // drops the gradient, like PyTorch's set_to_none
  Variable detach() const;

  bool is_leaf() const;            // made by the user, not by an op
  const std::string& op() const;   // the op that produced it, "" for a leaf
  const std::string& name() const; // a parameter's name, "" if none
  void set_name(std::string name);

  // The shared state, for the engine, record_op and tools such as graph export.
  const std::shared_ptr<detail::VariableImpl<T>>& impl() const { return impl_; }
  static Variable from_impl(std::shared_ptr<detail::VariableImpl<T>> impl);

 private:
  detail::VariableImpl<T>& checked(const char* function) const;
  std::shared_ptr<detail::VariableImpl<T>> impl_;
};

}  // namespace tg
