// Variable<T>: a cheap, shared handle to a value, its gradient and the op that produced it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor.hpp"

namespace tg {

namespace detail {
template <class T>
struct VariableImpl;
template <class T>
struct Node;
}  // namespace detail

template <class T>
class Variable {
 public:
  Variable() = default;  // undefined: holds nothing
  explicit Variable(Tensor<T> value, bool requires_grad = false);
  Variable(const Variable& other);
  Variable(Variable&& other) noexcept;
  Variable& operator=(const Variable& other);
  Variable& operator=(Variable&& other) noexcept;
  ~Variable();

  bool defined() const { return impl_ != nullptr; }
  const Tensor<T>& value() const&;
  // Write access: counts as an in-place edit (version() goes up), and a backward that needs the
  // old value refuses to run. Read through a const handle (std::as_const(v).value()) to avoid that.
  Tensor<T>& value() &;
  // The value of a temporary (`net(x).value()`) is returned by value, moved out when nothing
  // else shares it, so `const Tensor<T>& y = net(x).value();` cannot dangle. It is const so that
  // writing through a temporary handle (`f().value() = v`), which would be lost, does not compile.
  const Tensor<T> value() &&;
  // Counts write accesses to the value (PyTorch's _version).
  std::uint64_t version() const;

  const Tensor<T>& grad() const;  // throws if no gradient exists
  // The accumulated gradient as a Variable; after backward(..., create_graph = true) it carries its
  // own graph and can be differentiated again. Throws if no gradient exists.
  Variable grad_variable() const;
  bool has_grad() const;
  bool requires_grad() const;
  void set_requires_grad(bool requires_grad);
  Shape shape() const;
  std::size_t size() const;
  std::size_t ndim() const;
  T item() const;  // throws unless size() == 1

  // Back-propagates from this one-element Variable (seed 1), or from any Variable with a seed of
  // its shape, accumulating into the leaves' gradients. create_graph records the backward's own
  // ops, so the gradients can be differentiated again, and keeps the graph (as retain_graph).
  void backward(bool retain_graph = false, bool create_graph = false);
  void backward(const Tensor<T>& seed, bool retain_graph = false, bool create_graph = false);
  void zero_grad();  // drops the gradient, like PyTorch's set_to_none
  Variable detach() const;

  // Called with the gradient flowing into this Variable during backward; a returned tensor
  // replaces it. A Variable's hooks run one at a time, in the order they were registered; on a
  // leaf they run once its gradient from the whole backward pass is summed, before it accumulates.
  // Under create_graph a hook that changes the gradient makes it a constant (no graph).
  std::size_t register_hook(std::function<Tensor<T>(const Tensor<T>&)> hook);
  void remove_hook(std::size_t handle);  // throws std::invalid_argument for an unknown handle

  bool is_leaf() const;            // made by the user, not by an op
  const std::string& op() const;   // the op that produced it, "" for a leaf
  const std::string& name() const; // a parameter's name, "" if none
  void set_name(std::string name);

  // The shared state, for the engine, record_op and tools such as graph export.
  const std::shared_ptr<detail::VariableImpl<T>>& impl() const { return impl_; }
  static Variable from_impl(std::shared_ptr<detail::VariableImpl<T>> impl);

 private:
  friend struct detail::Node<T>;
  // A handle that does not read the value (a Node's link to an input): the graph alone does not
  // keep an intermediate value alive.
  static Variable link(const Variable& v);
  void drop();  // lets go of impl_, freeing the value if this was its last reader

  detail::VariableImpl<T>& checked(const char* function) const;
  std::shared_ptr<detail::VariableImpl<T>> impl_;
  bool reads_ = true;  // counted in impl_->readers
};

}  // namespace tg
