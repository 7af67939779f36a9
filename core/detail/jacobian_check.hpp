// The machinery behind gradcheck and gradgradcheck: the full Jacobian of a function from its tape
// against central differences, input by input, with a readable report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "../gradcheck.hpp"

namespace tg::detail {

using CheckedFunction = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// What a report calls one element of the checked function's output: "output element [1, 2]".
using OutputNamer = std::function<std::string(std::size_t flat_index)>;

struct JacobianCheck {
  const char* name;              // "gradcheck", in errors and the report's first line
  std::string what;              // "analytic Jacobian of f", the report's subject
  CheckedFunction f;             // output of any shape; its flat elements are the Jacobian's rows
  OutputNamer output_name;       // null: the output element's index in f's output shape
  std::string note;              // appended to the report's first line, may be empty
};

// Compares, for every input that requires grad, each Jacobian entry d f[j] / d input[i] from the
// tape (one backward per output element) with (f(x + eps) - f(x - eps)) / 2 eps. Inputs are
// restored afterwards, also when f throws; their gradients are cleared. Throws
// std::invalid_argument (naming check.name) when no input requires grad, an input is undefined,
// eps <= 0, or f's output changes shape under a perturbation.
GradcheckResult check_jacobian(const JacobianCheck& check, std::vector<Variable<double>> inputs,
                               const GradcheckOptions& opts);

// The multi-index of flat position `flat` in a row-major tensor of shape `shape`, and its
// Python spelling "[1, 2]" ("[]" for a 0-d tensor).
Shape unravel(std::size_t flat, const Shape& shape);
std::string format_index(const Shape& index);

}  // namespace tg::detail
