// summary: a table of layers, output shapes and parameter counts, like Keras' model.summary().
#pragma once

#include <string>

#include "module.hpp"

namespace tg::nn {

// Runs one forward pass on zeros of `input_shape` (no tape, eval mode, restored afterwards).
// A Sequential gets one row per child; any other module one row for itself.
template <class T>
std::string summary(Module<T>& module, const Shape& input_shape);

template <class T>
std::size_t parameter_count(const Module<T>& module);

}  // namespace tg::nn
