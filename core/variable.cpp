#include "variable.hpp"

#include <atomic>
#include <stdexcept>

#include "detail/engine.hpp"
#include "detail/graph.hpp"
#include "detail/instantiate.hpp"
#include "errors.hpp"

namespace tg {

namespace {
std::atomic<std::size_t> next_hook_handle{1};
}  // namespace

template <class T>
Variable<T>::Variable(Tensor<T> value, bool requires_grad) : impl_(std::make_shared<detail::VariableImpl<T>>()) {
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
  impl_->readers.store(1, std::memory_order_relaxed);
}

template <class T>
Variable<T>::Variable(const Variable& other) : impl_(other.impl_) {
  if (impl_) impl_->readers.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
Variable<T>::Variable(Variable&& other) noexcept : impl_(std::move(other.impl_)), reads_(other.reads_) {
  other.reads_ = true;
}

template <class T>
Variable<T>& Variable<T>::operator=(const Variable& other) {
  if (this != &other) *this = Variable(other);
  return *this;
}

template <class T>
Variable<T>& Variable<T>::operator=(Variable&& other) noexcept {
  if (this != &other) {
    drop();
    impl_ = std::move(other.impl_);
    reads_ = other.reads_;
    other.reads_ = true;
  }
  return *this;
}

template <class T>
Variable<T>::~Variable() {
  drop();
}

template <class T>
Variable<T> Variable<T>::link(const Variable& v) {
  Variable l;
  l.impl_ = v.impl_;
  l.reads_ = false;
  return l;
}

template <class T>
void Variable<T>::drop() {
  std::shared_ptr<detail::VariableImpl<T>> impl = std::move(impl_);
  if (!impl || !reads_ || impl->readers.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The last reader: an op's output that its own backward does not read is no longer needed. A
  // leaf keeps its value (a backward accumulates into it by its shape).
  std::lock_guard<std::recursive_mutex> lock(impl->mutex);
  if (!impl->grad_fn || impl->keeps_value || impl->value_released || impl.use_count() == 1) return;
  if (impl->readers.load(std::memory_order_acquire) != 0) return;
  impl->released_shape = impl->value.shape();
  impl->value = Tensor<T>::from_shape({0});
  impl->value_released = true;
}

template <class T>
Variable<T> Variable<T>::from_impl(std::shared_ptr<detail::VariableImpl<T>> impl) {
  Variable v;
  v.impl_ = std::move(impl);
  if (v.impl_) v.impl_->readers.fetch_add(1, std::memory_order_relaxed);
  return v;
}

template <class T>
detail::VariableImpl<T>& Variable<T>::checked(const char* function) const {
  if (!impl_) throw std::logic_error(std::string("Variable::") + function + ": the variable is undefined");
  return *impl_;
}

template <class T>
const Tensor<T>& Variable<T>::value() const& {
  const auto& impl = checked("value");
  if (impl.value_released) {
    throw std::logic_error("Variable::value: the value of this output of '" + impl.op +
                           "' was freed when its last handle went (only the graph linked to it)");
  }
  return impl.value;
}

template <class T>
Tensor<T>& Variable<T>::value() & {
  auto& impl = checked("value");
  impl.version.fetch_add(1, std::memory_order_relaxed);
  return impl.value;
}

template <class T>
const Tensor<T> Variable<T>::value() && {
  auto& impl = checked("value");
  if (impl_.use_count() == 1) return std::move(impl.value);
  return impl.value;
}

template <class T>
std::uint64_t Variable<T>::version() const { return checked("version").version.load(std::memory_order_relaxed); }

template <class T>
const Tensor<T>& Variable<T>::grad() const { return grad_variable().impl()->value; }

template <class T>
Variable<T> Variable<T>::grad_variable() const {
  auto& impl = checked("grad");
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  if (!impl.grad) {
    throw std::logic_error(fmt::format(
        "Variable::grad: no gradient for this variable of shape {} ({}); call backward() first{}",
        format_shape(impl.value.shape()), impl.requires_grad ? "requires grad" : "does not require grad",
        impl.grad_fn || impl.graph_released ? ", and note that only leaves keep gradients" : ""));
  }
  return from_impl(impl.grad);
}

template <class T>
bool Variable<T>::has_grad() const {
  if (!impl_) return false;
  std::lock_guard<std::recursive_mutex> lock(impl_->mutex);
  return impl_->grad != nullptr;
}

template <class T>
bool Variable<T>::requires_grad() const { return impl_ && impl_->requires_grad; }

template <class T>
void Variable<T>::set_requires_grad(bool requires_grad) {
  auto& impl = checked("set_requires_grad");
  if (!requires_grad && !is_leaf()) {
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
void Variable<T>::backward(bool retain_graph, bool create_graph) {
  const auto& v = checked("backward").value;
  if (v.size() != 1) {
    fail("backward", "the output has shape {} ({} elements); backward() without a seed needs a scalar, "
         "so reduce it (sum, mean) or pass a seed gradient of shape {}",
         format_shape(v.shape()), v.size(), format_shape(v.shape()));
  }
  backward(Tensor<T>(xt::ones<T>(v.shape())), retain_graph, create_graph);
}

template <class T>
void Variable<T>::backward(const Tensor<T>& seed, bool retain_graph, bool create_graph) {
  checked("backward");
  detail::BackwardRequest<T> request;
  request.roots = {*this};
  request.seeds = {Variable<T>(seed)};
  request.retain_graph = retain_graph || create_graph;
  request.create_graph = create_graph;
  detail::run_backward(request);
}

template <class T>
void Variable<T>::zero_grad() {
  auto& impl = checked("zero_grad");
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  impl.grad.reset();
}

template <class T>
Variable<T> Variable<T>::detach() const {
  return Variable(checked("detach").value, false);
}

template <class T>
std::size_t Variable<T>::register_hook(std::function<Tensor<T>(const Tensor<T>&)> hook) {
  auto& impl = checked("register_hook");
  if (!hook) fail("register_hook", "the hook is empty");
  if (!impl.requires_grad) {
    fail("register_hook", "the variable of shape {} does not require grad, so no gradient will reach a hook",
         format_shape(impl.value.shape()));
  }
  const std::size_t handle = next_hook_handle++;
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  impl.hooks.push_back({handle, std::move(hook)});
  impl.hook_count.store(impl.hooks.size());
  return handle;
}

template <class T>
void Variable<T>::remove_hook(std::size_t handle) {
  auto& impl = checked("remove_hook");
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  for (auto it = impl.hooks.begin(); it != impl.hooks.end(); ++it) {
    if (it->handle == handle) {
      impl.hooks.erase(it);
      impl.hook_count.store(impl.hooks.size());
      return;
    }
  }
  fail("remove_hook", "no hook with handle {} on this variable of shape {} (removed already?)", handle,
       format_shape(impl.value.shape()));
}

// From the graph, not from the op's name, which may be empty: a released op output stays a non-leaf.
template <class T>
bool Variable<T>::is_leaf() const {
  auto& impl = checked("is_leaf");
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);  // another thread's backward may release the graph
  return !impl.grad_fn && !impl.graph_released;
}

template <class T>
const std::string& Variable<T>::op() const { return checked("op").op; }

template <class T>
const std::string& Variable<T>::name() const { return checked("name").name; }

template <class T>
void Variable<T>::set_name(std::string name) { checked("set_name").name = std::move(name); }

TG_INSTANTIATE_CLASS(Variable)

}  // namespace tg
