#include "grad.hpp"

#include "detail/engine.hpp"
#include "detail/instantiate.hpp"
#include "errors.hpp"

namespace tg {

template <class T>
std::vector<Variable<T>> grad(const std::vector<Variable<T>>& outputs, const std::vector<Variable<T>>& inputs,
                              const std::vector<Variable<T>>& grad_outputs, std::optional<bool> retain_graph,
                              bool create_graph, bool allow_unused) {
  if (outputs.empty()) fail("grad", "needs at least one output");
  if (inputs.empty()) fail("grad", "needs at least one input");
  detail::BackwardRequest<T> request;
  request.function = "grad";
  request.roots = outputs;
  if (grad_outputs.empty()) {
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      if (!outputs[k].defined()) fail("grad", "output {} is an undefined Variable", k);
      if (outputs[k].size() != 1) {
        fail("grad", "output {} has shape {}; without grad_outputs every output must have one element", k,
             format_shape(outputs[k].shape()));
      }
      request.seeds.push_back(Variable<T>(Tensor<T>(xt::ones<T>(outputs[k].shape()))));
    }
  } else {
    if (grad_outputs.size() != outputs.size()) {
      fail("grad", "got {} grad_outputs for {} outputs", grad_outputs.size(), outputs.size());
    }
    for (std::size_t k = 0; k < grad_outputs.size(); ++k) {
      if (!grad_outputs[k].defined()) fail("grad", "grad_outputs[{}] is an undefined Variable", k);
    }
    request.seeds = grad_outputs;
  }
  request.targets = inputs;
  request.retain_graph = retain_graph.value_or(create_graph);
  request.create_graph = create_graph;
  request.allow_unused = allow_unused;
  return detail::run_backward(request);
}

#define TG_FUNCTIONS(T)                                                                                  \
  template std::vector<Variable<T>> grad<T>(const std::vector<Variable<T>>&, const std::vector<Variable<T>>&, \
                                            const std::vector<Variable<T>>&, std::optional<bool>, bool, bool);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
