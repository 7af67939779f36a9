// record_op and record_differentiable_op: how an operator's output joins the tape.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "variable.hpp"

namespace tg {

// Turns the gradient of an op's output into one gradient per input (an empty Tensor where an
// input needs none), on plain tensors.
template <class T>
using BackwardFn = std::function<std::vector<Tensor<T>>(const Tensor<T>& grad_output)>;

// The same, written with tapegrad's differentiable functions on Variables (an undefined Variable
// where an input needs none).
template <class T>
using DifferentiableBackwardFn = std::function<std::vector<Variable<T>>(const Variable<T>& grad_output)>;

// Wraps `output` in a Variable and, when grad mode is on and some input requires a gradient,
// records a node named `name` whose `backward` gives one gradient per input, each of that input's
// shape. Undefined inputs (an absent bias) are allowed and get no gradient. The backward may read
// the inputs' values: a backward run after one of them was edited in place throws
// std::logic_error naming the op, the input and both versions.
//
// First-order only (PyTorch's once_differentiable): under create_graph its gradient is computed,
// but differentiating through that gradient again throws std::logic_error naming the op.
template <class T>
Variable<T> record_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                      typename NonDeduced<BackwardFn<T>>::type backward);

// As record_op, for a backward written with tapegrad functions (torch.autograd.Function): with
// create_graph those functions are recorded too, so the op can be differentiated to any order.
template <class T>
Variable<T> record_differentiable_op(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs,
                                     typename NonDeduced<DifferentiableBackwardFn<T>>::type backward);

// True when an op on these inputs will be recorded: grad mode is on and some input requires grad.
template <class T>
bool will_record(const std::vector<Variable<T>>& inputs);

}  // namespace tg
