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
                      typename NonDeduced<BackwardFn<T>>::type backward);

namespace detail {
// record_op for the library's ops whose backward takes the output's gradient by value
// (ConsumingBackwardFn) and may reuse its buffer.
template <class T>
Variable<T> record_consuming_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                                typename NonDeduced<ConsumingBackwardFn<T>>::type backward);
}  // namespace detail

// True when an op on these inputs will be recorded: lets an op skip saving what backward needs.
template <class T>
bool will_record(const std::vector<Variable<T>>& inputs);

}  // namespace tg
