#include "record_op.hpp"

#include "anomaly.hpp"
#include "detail/anomaly_checks.hpp"
#include "detail/instantiate.hpp"
#include "detail/record.hpp"
#include "no_grad.hpp"

namespace tg {

template <class T>
bool will_record(const std::vector<Variable<T>>& inputs) {
  return detail::records(inputs.data(), inputs.data() + inputs.size());
}

namespace detail {

template <class T>
Saves saves_all_inputs(const std::vector<Variable<T>>&) {
  Saves saves;
  saves.all_inputs = true;
  return saves;
}

template <class T>
Variable<T> record(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs, const Saves& saves,
                   OpBackward<T> backward, bool differentiable) {
  if (anomaly_enabled()) check_forward(name, output, inputs);
  if (!will_record(inputs)) return Variable<T>(std::move(output), false);
  Variable<T> result(std::move(output), true);
  auto& impl = *result.impl();
  impl.op = std::move(name);
  impl.keeps_value = saves.output;
  impl.grad_fn =
      std::make_shared<Node<T>>(std::move(inputs), std::move(backward), saves, differentiable, impl.value.shape());
  return result;
}

}  // namespace detail

template <class T>
Variable<T> record_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                      typename NonDeduced<BackwardFn<T>>::type backward) {
  detail::Saves saves = detail::saves_all_inputs(inputs);
  auto on_tensors = [fn = std::move(backward)](Variable<T> grad_output, const Variable<T>&) {
    std::vector<Tensor<T>> grads = fn(std::as_const(grad_output).value());
    detail::Gradients<T> out;
    out.reserve(grads.size());
    for (auto& g : grads) out.emplace_back(std::move(g));  // the engine skips those of inputs needing none
    return out;
  };
  return detail::record<T>(std::move(name), std::move(output), std::move(inputs), saves, std::move(on_tensors),
                           /*differentiable=*/false);
}

template <class T>
Variable<T> record_differentiable_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                                     typename NonDeduced<DifferentiableBackwardFn<T>>::type backward) {
  detail::Saves saves = detail::saves_all_inputs(inputs);
  auto on_variables = [fn = std::move(backward)](Variable<T> grad_output, const Variable<T>&) {
    return fn(grad_output);
  };
  return detail::record<T>(std::move(name), std::move(output), std::move(inputs), saves, std::move(on_variables));
}

#define TG_FUNCTIONS(T)                                                                                      \
  template bool will_record<T>(const std::vector<Variable<T>>&);                                            \
  template detail::Saves detail::saves_all_inputs<T>(const std::vector<Variable<T>>&);                      \
  template Variable<T> detail::record<T>(std::string, Tensor<T>, std::vector<Variable<T>>, const detail::Saves&,    \
                                         detail::OpBackward<T>, bool);                                            \
  template Variable<T> record_op<T>(std::string, Tensor<T>, std::vector<Variable<T>>, BackwardFn<T>);       \
  template Variable<T> record_differentiable_op<T>(std::string, Tensor<T>, std::vector<Variable<T>>,        \
                                                   DifferentiableBackwardFn<T>);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace tg
