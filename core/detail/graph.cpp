#include "graph.hpp"

#include "../tape_stats.hpp"
#include "instantiate.hpp"

namespace tg::detail {

template <class T>
Node<T>::Node(std::vector<Variable<T>> in, OpBackward<T> fn, const Saves& saves, bool is_differentiable,
              const ShapeType& out_shape)
    : inputs(std::move(in)),
      backward(std::move(fn)),
      saves_output(saves.output),
      differentiable(is_differentiable),
      output_shape(out_shape) {
  recorded.resize(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Variable<T>& input = inputs[i];  // const: the non-const value() counts as a write
    if (!input.defined()) continue;
    recorded[i].shape = value_shape(*input.impl());
    if (saves.saves_input(i)) {
      recorded[i].version = input.version();
      recorded[i].saved = true;
    }
    inputs[i] = Variable<T>::link(input);  // what the backward reads, its closure holds
  }
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

TG_INSTANTIATE_CLASS(Node)

}  // namespace tg::detail
