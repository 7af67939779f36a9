#include "anomaly.hpp"

#include "detail/anomaly_checks.hpp"
#include "detail/instantiate.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "detail/graph.hpp"
#include "errors.hpp"

namespace tg {
namespace {

thread_local bool enabled = false;

// "(3, 4) and (4,)", "undefined" for an absent input (a missing bias).
template <class T>
std::string input_shapes(const std::vector<Variable<T>>& inputs) {
  std::vector<std::string> shapes;
  for (const auto& v : inputs)
    shapes.push_back(v.defined() ? format_shape(detail::value_shape(*v.impl())) : "undefined");
  if (shapes.empty()) return "none";
  return fmt::format("{}", fmt::join(shapes, ", "));
}

// Index of the first NaN or Inf in `t`, or t.size() when every element is finite. The first
// pass has no early exit, so it vectorises (NaN fails the comparison, Inf exceeds max()).
template <class T>
std::size_t first_non_finite(const Tensor<T>& t) {
  const T* data = t.data();
  const std::size_t n = t.size();
  unsigned bad = 0;  // (a bool accumulator does not vectorise with GCC 12)
  for (std::size_t i = 0; i < n; ++i) bad |= !(std::abs(data[i]) <= std::numeric_limits<T>::max());
  if (bad == 0) return n;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) return i;
  }
  return n;
}

template <class T>
std::string describe(const Tensor<T>& t, std::size_t at) {
  std::size_t nan = 0, inf = 0;
  for (std::size_t i = at; i < t.size(); ++i) {
    nan += std::isnan(t.data()[i]) ? 1 : 0;
    inf += std::isinf(t.data()[i]) ? 1 : 0;
  }
  return fmt::format("{} NaN and {} Inf of {} elements, the first {} at flat index {}", nan, inf, t.size(),
                     t.data()[at], at);
}

}  // namespace

bool anomaly_enabled() { return enabled; }

AnomalyGuard::AnomalyGuard(bool on) : previous_(enabled) { enabled = on; }
AnomalyGuard::~AnomalyGuard() { enabled = previous_; }

namespace detail {

template <class T>
void check_forward(const std::string& op, const Tensor<T>& output, const std::vector<Variable<T>>& inputs) {
  const std::size_t at = first_non_finite(output);
  if (at == output.size()) return;
  throw std::runtime_error(fmt::format(
      "anomaly: op '{}' produced a non-finite value in forward: its output of shape {} holds {}; input shapes: {}",
      op, format_shape(output.shape()), describe(output, at), input_shapes(inputs)));
}

template <class T>
void check_backward(const std::string& op, const std::vector<Variable<T>>& input_grads,
                    const std::vector<Variable<T>>& inputs) {
  for (std::size_t i = 0; i < input_grads.size() && i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad() || !input_grads[i].defined()) continue;
    const Tensor<T>& g = input_grads[i].value();
    const std::size_t at = first_non_finite(g);
    if (at == g.size()) continue;
    throw std::runtime_error(fmt::format(
        "anomaly: op '{}' produced a non-finite gradient in backward: the gradient for input {} (shape {}) holds {}; "
        "input shapes: {}",
        op, i, format_shape(g.shape()), describe(g, at), input_shapes(inputs)));
  }
}

#define TG_FUNCTIONS(T)                                                                                  \
  template void check_forward<T>(const std::string&, const Tensor<T>&, const std::vector<Variable<T>>&);   \
  template void check_backward<T>(const std::string&, const std::vector<Variable<T>>&,                     \
                                  const std::vector<Variable<T>>&);
TG_FOR_EACH_TYPE(TG_FUNCTIONS)

}  // namespace detail
}  // namespace tg
