#include "record_op.hpp"

#include "anomaly.hpp"
#include "no_grad.hpp"

namespace tg {

template <class T>
bool will_record(const std::vector<Variable<T>>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& v : inputs) {
    if (v.requires_grad()) return true;
  }
  return false;
}

namespace detail {

template <class T>
Variable<T> record_consuming_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                                typename NonDeduced<ConsumingBackwardFn<T>>::type backward) {
  if (anomaly_enabled()) check_forward(name, output, inputs);
  if (!will_record(inputs)) return Variable<T>(std::move(output), false);
  Variable<T> result(std::move(output), true);
  auto& impl = *result.impl();
  impl.op = std::move(name);
  impl.grad_fn = std::make_unique<Node<T>>(std::move(inputs), std::move(backward));
  return result;
}

}  // namespace detail

template <class T>
Variable<T> record_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                      typename NonDeduced<BackwardFn<T>>::type backward) {
  // A user's backward sees the gradient as const; it is still dropped right after the call.
  return detail::record_consuming_op<T>(
      std::move(name), std::move(output), std::move(inputs),
      [fn = std::move(backward)](Tensor<T>&& grad_output) { return fn(grad_output); });
}

template Variable<float> record_op<float>(std::string, Tensor<float>, std::vector<Variable<float>>,
                                          BackwardFn<float>);
template Variable<double> record_op<double>(std::string, Tensor<double>, std::vector<Variable<double>>,
                                            BackwardFn<double>);
template Variable<float> detail::record_consuming_op<float>(std::string, Tensor<float>, std::vector<Variable<float>>,
                                                           detail::ConsumingBackwardFn<float>);
template Variable<double> detail::record_consuming_op<double>(std::string, Tensor<double>,
                                                             std::vector<Variable<double>>,
                                                             detail::ConsumingBackwardFn<double>);
template bool will_record<float>(const std::vector<Variable<float>>&);
template bool will_record<double>(const std::vector<Variable<double>>&);

}  // namespace tg
