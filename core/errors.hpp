// Error formatting: every message names the function and the offending shapes or values.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tensor.hpp"

namespace tg {

// "(3, 4)", "(4,)" for one dimension, "()" for a scalar, like NumPy prints shapes.
template <class Container>
std::string format_shape(const Container& shape) {
  if (shape.size() == 1) return fmt::format("({},)", *shape.begin());
  return fmt::format("({})", fmt::join(shape, ", "));
}

template <class T>
std::string format_shape_of(const Tensor<T>& t) {
  return format_shape(t.shape());
}

// Throws std::invalid_argument with "function: message".
template <class... Args>
[[noreturn]] void fail(const char* function, fmt::format_string<Args...> message, Args&&... args) {
  throw std::invalid_argument(std::string(function) + ": " +
                              fmt::format(message, std::forward<Args>(args)...));
}

// Turns a possibly negative axis into an index in [0, ndim); names `function` when out of range.
int normalize_axis(const char* function, int axis, std::size_t ndim);

// Normalised, sorted, duplicate-free axes; an empty list means every axis.
std::vector<std::size_t> normalize_axes(const char* function, const Axes& axes, std::size_t ndim);

}  // namespace tg
