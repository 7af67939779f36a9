// record_op: the single place where an op's output joins the tape.
#pragma once

#include <string>
#include <vector>

#include "variable.hpp"

namespace tg {

// Wraps `output` in a Variable and, when grad mode is on and some input requires a gradient,
// records a node named `name` whose `backward` turns the output's gradient into one gradient per
// input (each of that input's shape; an empty tensor where an input needs none). Undefined
// inputs (an absent bias) are allowed and get no gradient.
template <class T>
Variable<T> record_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                      detail::identity_t<BackwardFn<T>> backward);

namespace detail {
// record_op for the library's ops whose backward takes the output's gradient by value
// (ConsumingBackwardFn) and may reuse its buffer.
template <class T>
Variable<T> record_consuming_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                                identity_t<ConsumingBackwardFn<T>> backward);
}  // namespace detail

// True when an op on these inputs will be recorded: lets an op skip saving what backward needs.
template <class T>
bool will_record(const std::vector<Variable<T>>& inputs);

extern template Variable<float> record_op<float>(std::string, Tensor<float>, std::vector<Variable<float>>,
                                                 BackwardFn<float>);
extern template Variable<double> record_op<double>(std::string, Tensor<double>, std::vector<Variable<double>>,
                                                   BackwardFn<double>);
extern template Variable<float> detail::record_consuming_op<float>(std::string, Tensor<float>,
                                                                  std::vector<Variable<float>>,
                                                                  detail::ConsumingBackwardFn<float>);
extern template Variable<double> detail::record_consuming_op<double>(std::string, Tensor<double>,
                                                                    std::vector<Variable<double>>,
                                                                    detail::ConsumingBackwardFn<double>);
extern template bool will_record<float>(const std::vector<Variable<float>>&);
extern template bool will_record<double>(const std::vector<Variable<double>>&);

}  // namespace tg
