#include "engine.hpp"

#include <atomic>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <xtensor/xnoalias.hpp>

#include "../anomaly.hpp"
#include "../errors.hpp"
#include "../no_grad.hpp"
#include "anomaly_checks.hpp"
#include "graph.hpp"
#include "instantiate.hpp"
#include "parallel.hpp"
#include "pointer_index.hpp"
#include "record.hpp"

namespace tg::detail {
namespace {

template <class T>
using ImplPtr = std::shared_ptr<VariableImpl<T>>;

template <class T>
[[noreturn]] void throw_released(const char* function, const VariableImpl<T>& impl) {
  throw std::logic_error(fmt::format(
      "{}: the graph through '{}' (output shape {}) was already released by an earlier backward(); "
      "pass retain_graph = true to the first backward() to go through it twice",
      function, impl.op, format_shape(value_shape(impl))));
}

// A variable of the graph, with its node as the walk found it (null for a leaf). Holding the node
// keeps it alive and unchanged while this backward uses it, even if another thread's backward
// through a shared part of the graph releases it meanwhile.
template <class T>
struct Step {
  ImplPtr<T> impl;
  std::shared_ptr<Node<T>> node;
};

// The node of `impl`, read under its lock (another thread may be releasing it); throws if released.
template <class T>
std::shared_ptr<Node<T>> node_of(const char* function, VariableImpl<T>& impl) {
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  if (impl.graph_released) throw_released(function, impl);
  return impl.grad_fn;
}

// Every variable that reaches a root through recorded ops, inputs before the ops that use them
// (post-order), found with an explicit stack so deep graphs cannot overflow the call stack, and
// where each stands in that order.
template <class T>
struct Walk {
  std::vector<Step<T>> order;
  PointerIndex position;  // VariableImpl -> its index in order

  // Whether v is in the walk and marked in `flags` (one per position).
  bool marked(const Variable<T>& v, const std::vector<char>& flags) const {
    const std::size_t i = v.defined() ? position.find(v.impl().get()) : PointerIndex::npos;
    return i != PointerIndex::npos && flags[i];
  }
};

template <class T>
Walk<T> topological_order(const char* function, const std::vector<Variable<T>>& roots) {
  Walk<T> walk;
  std::vector<std::pair<Step<T>, std::size_t>> stack;
  // Marked as seen when first reached; its position is known once its inputs are placed.
  auto visit = [&](const ImplPtr<T>& impl) {
    if (!walk.position.insert(impl.get(), PointerIndex::npos)) return;
    stack.emplace_back(Step<T>{impl, node_of(function, *impl)}, 0);
  };
  for (const auto& root : roots) {
    visit(root.impl());
    while (!stack.empty()) {
      auto& [step, next] = stack.back();
      if (step.node && next < step.node->inputs.size()) {
        const ImplPtr<T>& input = step.node->inputs[next++].impl();
        if (input && input->requires_grad) visit(input);
        continue;
      }
      walk.position.set(step.impl.get(), walk.order.size());
      walk.order.push_back(std::move(step));
      stack.pop_back();
    }
  }
  return walk;
}

// For tg::grad: by position in the walk's order, whether a gradient can reach a target through
// that variable. Nothing else runs.
template <class T>
std::vector<char> leading_to(const Walk<T>& walk, const std::vector<Variable<T>>& targets) {
  std::vector<char> leads(walk.order.size(), 0);
  for (const auto& t : targets) {
    const std::size_t k = walk.position.find(t.impl().get());
    if (k != PointerIndex::npos) leads[k] = 1;
  }
  for (std::size_t k = 0; k < walk.order.size(); ++k) {  // inputs come before the ops that use them
    const auto& node = walk.order[k].node;
    if (!node || leads[k]) continue;
    for (const auto& input : node->inputs) {
      if (walk.marked(input, leads)) {
        leads[k] = 1;
        break;
      }
    }
  }
  return leads;
}

// Frees the graph below `step` (unless another handle to its node is still running it) and
// drops this backward's hold on the node.
template <class T>
void release(Step<T>& step) {
  {
    std::lock_guard<std::recursive_mutex> lock(step.impl->mutex);
    step.impl->grad_fn.reset();
    step.impl->graph_released = true;
  }
  step.node.reset();  // the walk's `order` keeps the inputs alive, so this never cascades
}

// The backward of accumulation: y = a + b, both of y's shape.
template <class T>
Variable<T> add(const Variable<T>& a, const Variable<T>& b) {
  return record<T>("add", Tensor<T>(a.value() + b.value()), {a, b}, Saves{},
                   [](Variable<T> g, const Variable<T>&) { return Gradients<T>{g, g}; });
}

// out = a + b over n elements (out may be a), on the threads for a large gradient.
template <class T>
void add_elements(const T* a, const T* b, T* out, std::size_t n) {
  parallel_blocks(n, 2, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) out[i] = a[i] + b[i];
  });
}

// Adds g into a gradient being summed for one variable. Under create_graph the sum is recorded;
// otherwise it is done in place when nothing else holds the slot's buffer.
template <class T>
void accumulate(Variable<T>& slot, Variable<T>&& g, bool create_graph) {
  if (!slot.defined()) {
    slot = std::move(g);
  } else if (create_graph) {
    slot = add(slot, g);
  } else if (slot.impl()->value.shape() != g.impl()->value.shape()) {
    slot = Variable<T>(Tensor<T>(slot.impl()->value + g.impl()->value));  // broadcasts, as it always did
  } else {
    Tensor<T>& a = slot.impl()->value;
    const Tensor<T>& b = g.impl()->value;
    if (slot.impl().use_count() == 1 && slot.impl() != g.impl()) {
      add_elements(a.data(), b.data(), a.data(), a.size());  // distinct buffers: in place
    } else {
      Tensor<T> sum = Tensor<T>::from_shape(a.shape());
      add_elements(a.data(), b.data(), sum.data(), a.size());
      slot = Variable<T>(std::move(sum));
    }
  }
}

// What a leaf's .grad holds: read through grad(), so never freed with its last handle (a gradient
// with a graph is an op's output).
template <class T>
std::shared_ptr<VariableImpl<T>> kept(const Variable<T>& g) {
  g.impl()->keeps_value = true;
  return g.impl();
}

// A leaf's .grad: gradients add up across backward calls. Without create_graph it never carries
// a graph and is never shared with another variable (so it may be added to in place).
template <class T>
void accumulate_into_leaf(VariableImpl<T>& leaf, Variable<T>&& g, bool create_graph) {
  if (!create_graph && (g.requires_grad() || g.impl().use_count() > 1)) g = Variable<T>(Tensor<T>(g.impl()->value));
  std::lock_guard<std::recursive_mutex> lock(leaf.mutex);
  if (leaf.grad && leaf.grad->value.shape() != g.impl()->value.shape()) {
    throw std::logic_error(fmt::format(
        "backward: cannot accumulate a gradient of shape {} into the gradient of shape {} that this leaf{} (now of "
        "shape {}) kept from an earlier backward: its value was replaced by one of another shape since; call "
        "zero_grad() after such a replacement",
        format_shape(g.impl()->value.shape()), format_shape(leaf.grad->value.shape()),
        leaf.name.empty() ? "" : " '" + leaf.name + "'", format_shape(leaf.value.shape())));
  }
  if (!leaf.grad) {
    leaf.grad = kept(g);
  } else if (create_graph || leaf.grad->requires_grad) {
    leaf.grad = kept(add(Variable<T>::from_impl(leaf.grad), g));
  } else if (leaf.grad != g.impl()) {
    Tensor<T>& a = leaf.grad->value;
    add_elements(a.data(), g.impl()->value.data(), a.data(), a.size());  // shapes checked above
  } else {
    leaf.grad->value += g.impl()->value;
  }
}

// Runs the variable's hooks in registration order, each on the previous one's result. Under
// create_graph a hook that changed the gradient leaves a constant (there is no graph for it).
template <class T>
void run_hooks(VariableImpl<T>& impl, Variable<T>& grad) {
  if (impl.hook_count.load() == 0) return;  // most variables have none: no lock
  std::lock_guard<std::recursive_mutex> lock(impl.mutex);
  if (impl.hooks.empty()) return;
  const std::vector<Hook<T>> hooks = impl.hooks;  // a hook may remove itself
  Tensor<T> value = grad.impl()->value;
  for (const auto& hook : hooks) {
    Tensor<T> next = hook.fn(value);
    if (next.shape() != value.shape()) {
      fail("register_hook", "a hook returned a gradient of shape {} for a variable of shape {}",
           format_shape(next.shape()), format_shape(value.shape()));
    }
    value = std::move(next);
  }
  if (value != grad.impl()->value) grad = Variable<T>(std::move(value));
}

template <class T>
[[noreturn]] void throw_modified(const std::string& op, const std::string& what, const Shape& shape,
                                 std::uint64_t recorded, std::uint64_t now) {
  throw std::logic_error(fmt::format(
      "backward: one of the variables needed for gradient computation has been modified by an in-place "
      "operation: {} of '{}' (shape {}) was at version {} when '{}' recorded it and is now at version {} "
      "(written by an optimiser step or through the non-const Variable::value(), which counts as a write: read "
      "through a const reference such as std::as_const(v).value()); compute it again, or edit a copy (detach())",
      what, op, format_shape(shape), recorded, op, now));
}

// Before a backward runs: its output and inputs still have the shapes it was recorded with (a
// value replaced by one of another shape, even one the backward does not read, would make it
// size its buffers wrongly or return gradients of the wrong shape).
template <class T>
void check_shapes(const VariableImpl<T>& output, const Node<T>& node) {
  auto refuse = [&](const std::string& what, const auto& recorded, const auto& now) {
    throw std::logic_error(fmt::format(
        "backward: {} of '{}' had shape {} when the op was recorded and now has shape {}: its value was "
        "replaced through the non-const Variable::value() after the op used it; compute the output again "
        "from the new value",
        what, output.op, format_shape(recorded), format_shape(now)));
  };
  if (!output.value_released && output.value.shape() != node.output_shape) {
    refuse("the output", node.output_shape, output.value.shape());
  }
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const ImplPtr<T>& input = node.inputs[i].impl();
    if (!input) continue;
    std::lock_guard<std::recursive_mutex> lock(input->mutex);  // the value may be released meanwhile
    if (!input->value_released && input->value.shape() != node.recorded[i].shape) {
      refuse(fmt::format("input {}", i), node.recorded[i].shape, input->value.shape());
    }
  }
}

// Before a backward reads anything: what it saved must not have been written since.
template <class T>
void check_versions(const VariableImpl<T>& output, const Node<T>& node) {
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.recorded[i].saved) continue;
    const VariableImpl<T>& input = *node.inputs[i].impl();
    const std::uint64_t recorded = node.recorded[i].version;
    const std::uint64_t now = input.version.load(std::memory_order_relaxed);
    if (now != recorded)
      throw_modified<T>(output.op, fmt::format("input {}", i),
                        Shape(value_shape(input).begin(), value_shape(input).end()), recorded, now);
  }
  const std::uint64_t now = output.version.load(std::memory_order_relaxed);
  if (node.saves_output && now != 0) throw_modified<T>(output.op, "the output", shape_of(output.value), 0, now);
}

// Gradients from a first-order-only op (a user's Tensor record_op) under create_graph: their
// values are right, but differentiating through them again throws, naming the op.
template <class T>
void mark_first_order(const std::string& op, Gradients<T>& grads, const Variable<T>& grad_output,
                      const std::vector<Variable<T>>& inputs) {
  std::vector<Variable<T>> sources = inputs;
  sources.push_back(grad_output);
  for (auto& g : grads) {
    if (!g.defined()) continue;
    g = record<T>(op + "_backward", g.impl()->value, sources, Saves{}, [op](Variable<T>, const Variable<T>&) -> Gradients<T> {
      throw std::logic_error(fmt::format(
          "backward: '{}' is first-order only (recorded with the Tensor form of record_op), so its gradient "
          "cannot be differentiated again; write its backward with tapegrad functions and record it with "
          "record_differentiable_op",
          op));
    });
  }
}

// Runs one node's backward and checks what it returns against its inputs.
template <class T>
Gradients<T> run_node(VariableImpl<T>& impl, Node<T>& node, const ImplPtr<T>& self, Variable<T>&& grad,
                      bool create_graph) {
  check_shapes(impl, node);
  check_versions(impl, node);
  // Anomaly mode names the op whose gradient is not finite, not the ops its backward is made of.
  AnomalyGuard quiet(false);
  Gradients<T> grads;
  if (create_graph && !node.differentiable) {
    const Variable<T> grad_output = grad;
    grads = node.backward(std::move(grad), Variable<T>::from_impl(self));
    mark_first_order(impl.op, grads, grad_output, node.inputs);
  } else {
    grads = node.backward(std::move(grad), Variable<T>::from_impl(self));  // may take over grad's buffer
  }
  if (grads.size() != node.inputs.size()) {
    throw std::logic_error(fmt::format(
        "backward of op '{}': returned {} gradient{} for {} input{}; it must return one per input, "
        "an empty one for an input that needs none",
        impl.op, grads.size(), grads.size() == 1 ? "" : "s", node.inputs.size(), node.inputs.size() == 1 ? "" : "s"));
  }
  if (quiet.was_enabled()) check_backward(impl.op, grads, node.inputs);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const ImplPtr<T>& input = node.inputs[i].impl();
    if (!input || !input->requires_grad || !grads[i].defined()) continue;
    if (grads[i].impl()->value.shape() != node.recorded[i].shape) {  // checked against the value before
      throw std::logic_error(fmt::format(
          "backward of op '{}': the gradient for input {} has shape {}, but that input has shape {}", impl.op, i,
          format_shape(grads[i].impl()->value.shape()), format_shape(node.recorded[i].shape)));
    }
  }
  return grads;
}

template <class T>
void check_request(const BackwardRequest<T>& request) {
  const char* function = request.function;
  if (request.roots.size() != request.seeds.size()) {
    fail(function, "got {} gradient outputs for {} outputs", request.seeds.size(), request.roots.size());
  }
  for (std::size_t k = 0; k < request.roots.size(); ++k) {
    const Variable<T>& root = request.roots[k];
    if (!root.defined()) throw std::logic_error(fmt::format("{}: output {} is undefined", function, k));
    if (!root.requires_grad()) {
      throw std::logic_error(fmt::format(
          "{}: the variable of shape {} does not require grad and was not produced by an op on one that does "
          "(was it computed under NoGradGuard, or from detached values?)",
          function, format_shape(root.value().shape())));
    }
    if (request.seeds[k].value().shape() != root.value().shape()) {
      fail(function, "the seed gradient has shape {} but the variable has shape {}",
           format_shape(request.seeds[k].value().shape()), format_shape(root.value().shape()));
    }
  }
  for (std::size_t k = 0; k < request.targets.size(); ++k) {
    const Variable<T>& t = request.targets[k];
    if (!t.defined()) fail(function, "input {} is an undefined Variable", k);
    if (!t.requires_grad()) fail(function, "input {} (shape {}) does not require grad", k, format_shape(t.value().shape()));
  }
}

thread_local std::uint64_t this_run = 0;

// Numbers this thread's run for its duration, restoring the enclosing run's number after it.
class RunNumber {
 public:
  RunNumber() : enclosing_(this_run) {
    static std::atomic<std::uint64_t> last{0};
    this_run = ++last;
  }
  ~RunNumber() { this_run = enclosing_; }
  RunNumber(const RunNumber&) = delete;
  RunNumber& operator=(const RunNumber&) = delete;

 private:
  std::uint64_t enclosing_;
};

// Whether any input of a node is one a gradient must reach (tg::grad).
template <class T>
bool feeds(const Node<T>& node, const Walk<T>& walk, const std::vector<char>& needed) {
  for (const auto& input : node.inputs) {
    if (walk.marked(input, needed)) return true;
  }
  return false;
}

}  // namespace

std::uint64_t current_backward_run() { return this_run; }

template <class T>
std::vector<Variable<T>> run_backward(const BackwardRequest<T>& request) {
  check_request(request);
  const RunNumber run;
  // The backward's own ops record exactly when create_graph asks for it, whatever the caller's mode.
  GradModeGuard mode(request.create_graph);
  const bool capture = !request.targets.empty();
  Walk<T> walk = topological_order(request.function, request.roots);
  std::vector<Step<T>>& order = walk.order;
  std::vector<char> needed;
  if (capture) needed = leading_to(walk, request.targets);
  std::unordered_map<const VariableImpl<T>*, std::vector<std::size_t>> target_slots;
  for (std::size_t k = 0; k < request.targets.size(); ++k) target_slots[request.targets[k].impl().get()].push_back(k);
  std::vector<Variable<T>> captured(request.targets.size());

  std::vector<Variable<T>> pending(order.size());  // the gradient summed so far, by position in order
  for (std::size_t k = 0; k < request.roots.size(); ++k) {
    accumulate(pending[walk.position.find(request.roots[k].impl().get())], Variable<T>(request.seeds[k]),
               request.create_graph);
  }

  for (std::size_t k = order.size(); k-- > 0;) {
    Step<T>& step = order[k];
    VariableImpl<T>& impl = *step.impl;
    const bool runs = pending[k].defined() && (!capture || needed[k]);
    if (!runs) {  // no gradient flows here
      if (!request.retain_graph && step.node) release(step);
      continue;
    }
    Variable<T> grad = std::move(pending[k]);
    run_hooks(impl, grad);
    if (auto slots = target_slots.find(&impl); slots != target_slots.end()) {
      for (std::size_t t : slots->second) captured[t] = grad;
    }
    if (!step.node) {
      if (!capture) accumulate_into_leaf(impl, std::move(grad), request.create_graph);
      continue;
    }
    if (capture && !feeds(*step.node, walk, needed)) {  // a target with nothing to reach below it
      if (!request.retain_graph) release(step);
      continue;
    }
    Gradients<T> grads = run_node(impl, *step.node, step.impl, std::move(grad), request.create_graph);
    const Node<T>& node = *step.node;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      const ImplPtr<T>& input = node.inputs[i].impl();
      if (!input || !input->requires_grad || !grads[i].defined()) continue;
      accumulate(pending[walk.position.find(input.get())], std::move(grads[i]), request.create_graph);
    }
    if (!request.retain_graph) release(step);
  }

  for (std::size_t k = 0; k < captured.size(); ++k) {
    if (captured[k].defined()) continue;
    const Variable<T>& t = request.targets[k];
    if (walk.position.find(t.impl().get()) != PointerIndex::npos) {  // in the graph, but every path gave no gradient
      captured[k] = Variable<T>(Tensor<T>(xt::zeros<T>(t.value().shape())));
    } else if (!request.allow_unused) {
      fail(request.function,
           "input {} (shape {}) is not used to compute the outputs; pass allow_unused = true to get an "
           "undefined Variable for it",
           k, format_shape(t.value().shape()));
    }
  }
  return captured;
}

#define TG_FUNCTIONS(T) template std::vector<Variable<T>> run_backward<T>(const BackwardRequest<T>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg::detail
