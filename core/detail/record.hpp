// The one place where an op's output joins the tape (record_op and the library's own ops).
#pragma once

#include <string>
#include <vector>

#include "graph.hpp"

namespace tg::detail {

// Wraps `output` in a Variable and, when an op on `inputs` is to be recorded (grad mode on, some
// input requiring grad), gives it a Node named `name`. `saves` names what `backward` reads (the
// engine checks their versions first). Anomaly mode checks the output here.
template <class T>
Variable<T> record(std::string name, Tensor<T> output, std::vector<Variable<T>> inputs, const Saves& saves,
                   OpBackward<T> backward, bool differentiable = true);

// Every defined input, for user operators, whose backward may read any of them.
template <class T>
Saves saves_all_inputs(const std::vector<Variable<T>>& inputs);

}  // namespace tg::detail
