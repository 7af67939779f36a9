// The machinery behind gradcheck and gradgradcheck: the full Jacobian of a function from its tape
// against central differences, input by input, with a readable report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "../gradcheck.hpp"

namespace tg::detail {

// The checked function: its outputs, whose elements, one output after another, are the Jacobian's
// rows. An undefined output counts as zeros that depend on nothing.
using CheckedFunction = std::function<std::vector<Variable<double>>(const std::vector<Variable<double>>&)>;

// What a report calls one row of the Jacobian: "output element [1, 2]".
using OutputNamer = std::function<std::string(std::size_t output, const Shape& index)>;

struct JacobianCheck {
  const char* name;         // "gradcheck", in errors and the report's first line
  std::string what;         // "analytic Jacobian of f", the report's subject
  CheckedFunction traced;   // recorded on the tape: the analytic Jacobian comes from its backward
  CheckedFunction values;   // the same values, for the central differences (it may record nothing)
  OutputNamer output_name;  // null: "output element [i, j]"
};

// Compares, for every input that requires grad, each Jacobian entry d f[j] / d input[i] from the
// tape (one backward per output element) with (f(x + eps) - f(x - eps)) / 2 eps. Inputs are
// restored afterwards, also when f throws; their gradients are cleared. Throws
// std::invalid_argument (naming check.name) when no input requires grad, an input is undefined,
// eps <= 0, or an output changes shape under a perturbation.
GradcheckResult check_jacobian(const JacobianCheck& check, std::vector<Variable<double>> inputs,
                               const GradcheckOptions& opts);

// The multi-index of flat position `flat` in a row-major tensor of shape `shape`, and its
// Python spelling "[1, 2]" ("[]" for a 0-d tensor).
Shape unravel(std::size_t flat, const Shape& shape);
std::string format_index(const Shape& index);

}  // namespace tg::detail
