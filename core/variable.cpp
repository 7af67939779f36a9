#include "variable.hpp"

#include <stdexcept>

#include "detail/engine.hpp"
#include "errors.hpp"
#include "tape_stats.hpp"

namespace tg {

namespace detail {

template <class T>
Node<T>::Node(std::vector<Variable<T>> in, ConsumingBackwardFn<T> fn) : inputs(std::move(in)), backward(std::move(fn)) {
  count_node_created();
}

// Unlinks the graph below this node one level at a time instead of recursing through
// destructors: a node that drops the last handle to an input first takes over that input's
// own inputs, so every destructor that runs finds an empty node.
template <class T>
Node<T>::~Node() {
  std::vector<std::shared_ptr<VariableImpl<T>>> pending;
  for (auto& v : inputs) pending.push_back(v.impl());
  inputs.clear();
  backward = nullptr;  // closures may hold further handles to the same inputs
  while (!pending.empty()) {
    std::shared_ptr<VariableImpl<T>> impl = std::move(pending.back());
    pending.pop_back();
    if (impl && impl.use_count() == 1 && impl->grad_fn) {
      Node& below = *impl->grad_fn;
      for (auto& v : below.inputs) pending.push_back(v.impl());
      below.inputs.clear();
      below.backward = nullptr;
    }
  }
  count_node_destroyed();
}

}  // namespace detail

template <class T>
Variable<T>::Variable(Tensor<T> value, bool requires_grad)
    : impl_(std::make_shared<detail::VariableImpl<T>>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
}

template <class T>
Variable<T> Variable<T>::from_impl(std::shared_ptr<detail::VariableImpl<T>> impl) {
  Variable v;
  v.impl_ = std::move(impl);
  return v;
}

template <class T>
detail::VariableImpl<T>& Variable<T>::checked(const char* function) const {
  if (!impl_) throw std::logic_error(std::string("Variable::") + function + ": the variable is undefined");
  return *impl_;
}

template <class T>
const Tensor<T>& Variable<T>::value() const& { return checked("value").value; }

template <class T>
Tensor<T>& Variable<T>::value() & { return checked("value").value; }

template <class T>
const Tensor<T> Variable<T>::value() && {
  auto& impl = checked("value");
  if (impl_.use_count() == 1) return std::move(impl.value);
  return impl.value;
}

template <class T>
const Tensor<T>& Variable<T>::grad() const {
  const auto& impl = checked("grad");
  if (!impl.grad) {
    throw std::logic_error(fmt::format(
        "Variable::grad: no gradient for this variable of shape {} ({}); call backward() first{}",
        format_shape(impl.value.shape()), impl.requires_grad ? "requires grad" : "does not require grad",
        impl.grad_fn || impl.graph_released ? ", and note that only leaves keep gradients" : ""));
  }
  return *impl.grad;
}

template <class T>
bool Variable<T>::has_grad() const { return impl_ && impl_->grad != nullptr; }

template <class T>
bool Variable<T>::requires_grad() const { return impl_ && impl_->requires_grad; }

template <class T>
void Variable<T>::set_requires_grad(bool requires_grad) {
  auto& impl = checked("set_requires_grad");
  if (!requires_grad && (impl.grad_fn || impl.graph_released)) {  // not a leaf, see is_leaf()
    throw std::logic_error("Variable::set_requires_grad: only leaves can stop requiring grad; use detach()");
  }
  impl.requires_grad = requires_grad;
}

template <class T>
Shape Variable<T>::shape() const { return shape_of(checked("shape").value); }

template <class T>
std::size_t Variable<T>::size() const { return checked("size").value.size(); }

template <class T>
std::size_t Variable<T>::ndim() const { return checked("ndim").value.dimension(); }

template <class T>
T Variable<T>::item() const {
  const auto& v = checked("item").value;
  if (v.size() != 1) {
    fail("item", "only a one-element variable converts to a scalar; this one has shape {} ({} elements)",
         format_shape(v.shape()), v.size());
  }
  return *v.data();
}

template <class T>
void Variable<T>::backward(bool retain_graph) {
  const auto& v = checked("backward").value;
  if (v.size() != 1) {
    fail("backward", "the output has shape {} ({} elements); backward() without a seed needs a scalar, "
         "so reduce it (sum, mean) or pass a seed gradient of shape {}",
         format_shape(v.shape()), v.size(), format_shape(v.shape()));
  }
  Tensor<T> seed = xt::ones<T>(v.shape());
  run_backward(*this, seed, retain_graph);
}

template <class T>
void Variable<T>::backward(const Tensor<T>& seed, bool retain_graph) {
  run_backward(*this, seed, retain_graph);
}

template <class T>
void Variable<T>::zero_grad() {
  checked("zero_grad").grad.reset();
}

template <class T>
Variable<T> Variable<T>::detach() const {
  const auto& impl = checked("detach");
  return Variable(impl.value, false);
}

// From the graph, not from the op's name, which may be empty: a released op output stays a non-leaf.
template <class T>
bool Variable<T>::is_leaf() const {
  const auto& impl = checked("is_leaf");
  return !impl.grad_fn && !impl.graph_released;
}

template <class T>
const std::string& Variable<T>::op() const { return checked("op").op; }

template <class T>
const std::string& Variable<T>::name() const { return checked("name").name; }

template <class T>
void Variable<T>::set_name(std::string name) { checked("set_name").name = std::move(name); }

template class Variable<float>;
template class Variable<double>;
template struct detail::Node<float>;
template struct detail::Node<double>;

}  // namespace tg
