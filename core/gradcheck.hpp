// gradcheck: the tape's gradients against central differences, over the full Jacobian.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "variable.hpp"

namespace tg {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

// How one input fared: its worst Jacobian entry, the one furthest past the tolerance (when all
// pass: the one closest to it).
struct GradcheckInputReport {
  std::size_t input = 0;
  Shape shape;
  bool checked = false;         // false when the input does not require grad
  bool ok = true;
  std::size_t failures = 0;     // Jacobian entries outside the tolerance
  std::size_t entries = 0;      // Jacobian entries compared (output size x input size)
  Shape worst_element;          // index into the input
  Shape worst_output;           // index into the output
  double analytic = 0, numeric = 0, error = 0;
};

struct GradcheckResult {
  bool ok = true;
  std::string report;
  std::vector<GradcheckInputReport> inputs;
};

// Compares, for every element of every input that requires grad and every element of the
// output, the analytic derivative from backward() with (f(x+eps) - f(x-eps)) / 2eps.
// Entry ok iff |analytic - numeric| <= atol + rtol * |numeric|. Inputs' values are restored (also
// when f throws); their gradients are cleared. Throws std::invalid_argument when no input requires
// grad, an input is undefined, eps <= 0, or f's output changes shape under a perturbation.
GradcheckResult gradcheck(std::function<Variable<double>(const std::vector<Variable<double>>&)> f,
                          std::vector<Variable<double>> inputs, GradcheckOptions opts = {});

// torch.autograd.gradgradcheck: the second derivatives of f against central differences of its
// first derivatives. With a seeded random output gradient v, the first derivatives of <v, f(x)>
// with respect to every input that requires grad are computed through tg::grad with create_graph
// and differentiated again, for every element of every such input. The report reads as
// gradcheck's (a row is "first derivative for input j, element [...]") and ends with the ops f
// records. An op that is first-order only (record_op's Tensor form) fails it, named in the report.
GradcheckResult gradgradcheck(std::function<Variable<double>(const std::vector<Variable<double>>&)> f,
                              std::vector<Variable<double>> inputs, GradcheckOptions opts = {});

}  // namespace tg
