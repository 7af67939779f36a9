// The checks record and the engine run while anomaly mode is on (core/anomaly.hpp).
#pragma once

#include <string>
#include <vector>

#include "../variable.hpp"

namespace tg::detail {

// Throws std::runtime_error naming the op, its input shapes and "forward" when the output holds a
// NaN or an Inf.
template <class T>
void check_forward(const std::string& op, const Tensor<T>& output, const std::vector<Variable<T>>& inputs);

// The same for the gradients a backward returned for the inputs that require one ("backward").
template <class T>
void check_backward(const std::string& op, const std::vector<Variable<T>>& input_grads,
                    const std::vector<Variable<T>>& inputs);

}  // namespace tg::detail
