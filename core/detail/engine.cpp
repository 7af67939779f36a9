#include "engine.hpp"

#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "../anomaly.hpp"
#include "../errors.hpp"

namespace tg {
namespace {

template <class T>
using ImplPtr = std::shared_ptr<detail::VariableImpl<T>>;

template <class T>
[[noreturn]] void throw_released(const detail::VariableImpl<T>& impl) {
  throw std::logic_error(fmt::format(
      "backward: the graph through '{}' (output shape {}) was already released by an earlier backward(); "
      "pass retain_graph = true to the first backward() to go through it twice",
      impl.op, format_shape(impl.value.shape())));
}

// Every variable that reaches `root` through recorded ops, inputs before the ops that use
// them (post-order), found with an explicit stack so deep graphs cannot overflow the call stack.
template <class T>
std::vector<ImplPtr<T>> topological_order(const ImplPtr<T>& root) {
  std::vector<ImplPtr<T>> order;
  std::unordered_set<const detail::VariableImpl<T>*> seen{root.get()};
  std::vector<std::pair<ImplPtr<T>, std::size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [impl, next] = stack.back();
    if (impl->graph_released) throw_released(*impl);
    const auto* node = impl->grad_fn.get();
    if (node && next < node->inputs.size()) {
      const ImplPtr<T>& input = node->inputs[next++].impl();
      if (input && input->requires_grad && seen.insert(input.get()).second) stack.emplace_back(input, 0);
      continue;
    }
    order.push_back(std::move(impl));
    stack.pop_back();
  }
  return order;
}

// `order` keeps the inputs alive until the walk ends, so this never cascades.
template <class T>
void release(detail::VariableImpl<T>& impl) {
  impl.grad_fn.reset();
  impl.graph_released = true;
}

template <class T>
void accumulate(std::unique_ptr<Tensor<T>>& slot, Tensor<T>&& g) {
  if (slot) {
    *slot += g;
  } else {
    slot = std::make_unique<Tensor<T>>(std::move(g));
  }
}

}  // namespace

template <class T>
void run_backward(const Variable<T>& root, const Tensor<T>& seed, bool retain_graph) {
  if (!root.defined()) throw std::logic_error("backward: the variable is undefined");
  const ImplPtr<T>& root_impl = root.impl();
  if (!root_impl->requires_grad) {
    throw std::logic_error(fmt::format(
        "backward: the variable of shape {} does not require grad and was not produced by an op on one "
        "that does (was it computed under NoGradGuard, or from detached values?)",
        format_shape(root_impl->value.shape())));
  }
  if (seed.shape() != root_impl->value.shape()) {
    fail("backward", "the seed gradient has shape {} but the variable has shape {}", format_shape(seed.shape()),
         format_shape(root_impl->value.shape()));
  }

  std::vector<ImplPtr<T>> order = topological_order(root_impl);
  std::unordered_map<const detail::VariableImpl<T>*, std::unique_ptr<Tensor<T>>> pending;
  pending[root_impl.get()] = std::make_unique<Tensor<T>>(seed);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    detail::VariableImpl<T>& impl = **it;
    auto found = pending.find(&impl);
    if (found == pending.end()) {  // no gradient flows here
      if (!retain_graph && impl.grad_fn) release(impl);
      continue;
    }
    std::unique_ptr<Tensor<T>> grad = std::move(found->second);
    pending.erase(found);

    if (!impl.grad_fn) {  // a leaf: gradients accumulate across backward calls
      accumulate(impl.grad, std::move(*grad));
      continue;
    }
    detail::Node<T>& node = *impl.grad_fn;
    std::vector<Tensor<T>> input_grads = node.backward(std::move(*grad));
    grad.reset();
    if (input_grads.size() != node.inputs.size()) {
      throw std::logic_error(fmt::format(
          "backward of op '{}': returned {} gradient{} for {} input{}; it must return one per input, "
          "an empty Tensor<T>() for an input that needs none",
          impl.op, input_grads.size(), input_grads.size() == 1 ? "" : "s", node.inputs.size(),
          node.inputs.size() == 1 ? "" : "s"));
    }
    if (anomaly_enabled()) detail::check_backward(impl.op, input_grads, node.inputs);
    for (std::size_t i = 0; i < input_grads.size(); ++i) {
      const ImplPtr<T>& input = node.inputs[i].impl();
      if (!input || !input->requires_grad) continue;
      if (input_grads[i].shape() != input->value.shape()) {
        throw std::logic_error(fmt::format(
            "backward of op '{}': the gradient for input {} has shape {}, but that input has shape {}", impl.op, i,
            format_shape(input_grads[i].shape()), format_shape(input->value.shape())));
      }
      accumulate(pending[input.get()], std::move(input_grads[i]));
    }
    if (!retain_graph) release(impl);
  }
}

template void run_backward<float>(const Variable<float>&, const Tensor<float>&, bool);
template void run_backward<double>(const Variable<double>&, const Tensor<double>&, bool);

}  // namespace tg
