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

template <class T>
Variable<T> record_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                      detail::identity_t<BackwardFn<T>> backward) {
  if (anomaly_enabled()) detail::check_forward(name, output, inputs);
  if (!will_record(inputs)) return Variable<T>(std::move(output), false);
  Variable<T> result(std::move(output), true);
  auto& impl = *result.impl();
  impl.op = std::move(name);
  impl.grad_fn = std::make_unique<detail::Node<T>>(std::move(inputs), std::move(backward));
  return result;
}

template Variable<float> record_op<float>(std::string, Tensor<float>, std::vector<Variable<float>>,
                                          BackwardFn<float>);
template Variable<double> record_op<double>(std::string, Tensor<double>, std::vector<Variable<double>>,
                                            BackwardFn<double>);
template bool will_record<float>(const std::vector<Variable<float>>&);
template bool will_record<double>(const std::vector<Variable<double>>&);

}  // namespace tg
