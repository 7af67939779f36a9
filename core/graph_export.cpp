#include "graph_export.hpp"

#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "detail/graph.hpp"
#include "detail/instantiate.hpp"
#include "errors.hpp"

namespace tg {
namespace {

template <class T>
using ImplPtr = std::shared_ptr<detail::VariableImpl<T>>;

// A DOT string literal's contents: quotes and backslashes escaped.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

template <class T>
std::string node_line(std::size_t id, const detail::VariableImpl<T>& impl, bool is_root) {
  const std::string shape = format_shape(detail::value_shape(impl));
  std::string label, style;
  if (impl.grad_fn) {
    label = impl.op;
    style = "shape=box, style=\"rounded,filled\", fillcolor=\"#dbe8fb\"";
  } else if (!impl.name.empty()) {
    label = impl.name;
    style = "shape=ellipse, style=filled, fillcolor=\"#fdf1c4\"";
  } else if (impl.requires_grad) {
    label = "input";
    style = "shape=ellipse, style=filled, fillcolor=\"#d9f2d9\"";
  } else {  // data, or a scalar such as the 2 in `x * 2.0`: no gradient flows here
    label = impl.value.size() == 1 ? "constant" : "input";
    style = "shape=ellipse, style=\"filled,dashed\", fillcolor=\"#eeeeee\"";
  }
  return fmt::format("  n{} [label=\"{}\\n{}\", {}{}];\n", id, escape(label), shape, style,
                     is_root ? ", penwidth=2.5" : "");
}

}  // namespace

template <class T>
std::string to_dot(const Variable<T>& root) {
  if (!root.defined()) fail("to_dot", "the variable is undefined");
  std::string nodes, edges;
  std::unordered_map<const detail::VariableImpl<T>*, std::size_t> ids;
  std::set<std::pair<std::size_t, std::size_t>> drawn;  // (from, to) edges already written

  // Depth-first with an explicit stack; a variable is written once all its inputs are, so the
  // text lists the graph in data-flow order.
  std::vector<std::pair<const detail::VariableImpl<T>*, std::size_t>> stack{{root.impl().get(), 0}};
  ids.emplace(root.impl().get(), 0);
  while (!stack.empty()) {
    auto& [impl, next] = stack.back();
    if (impl->graph_released) {
      throw std::logic_error(fmt::format(
          "to_dot: the graph through '{}' (output shape {}) was released by backward(); call to_dot before "
          "backward(), or pass retain_graph = true to backward()",
          impl->op, format_shape(detail::value_shape(*impl))));
    }
    const detail::Node<T>* node = impl->grad_fn.get();
    if (node && next < node->inputs.size()) {
      const auto* input = node->inputs[next++].impl().get();
      if (input && ids.emplace(input, ids.size()).second) stack.emplace_back(input, 0);
      continue;
    }
    const std::size_t id = ids.at(impl);
    nodes += node_line(id, *impl, impl == root.impl().get());
    if (node) {
      for (const auto& input : node->inputs) {
        if (!input.defined()) continue;  // an absent bias
        const std::size_t from = ids.at(input.impl().get());
        if (drawn.emplace(from, id).second) edges += fmt::format("  n{} -> n{};\n", from, id);
      }
    }
    stack.pop_back();
  }
  return "digraph tape {\n"
         "  node [fontname=\"Helvetica\", fontsize=11];\n"
         "  edge [color=\"#555555\", arrowsize=0.7];\n" +
         nodes + edges + "}\n";
}

#define TG_FUNCTIONS(T) template std::string to_dot<T>(const Variable<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
