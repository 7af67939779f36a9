#include "gradcheck.hpp"

#include "detail/jacobian_check.hpp"

namespace tg {

GradcheckResult gradcheck(std::function<Variable<double>(const std::vector<Variable<double>>&)> f,
                          std::vector<Variable<double>> inputs, GradcheckOptions opts) {
  return detail::check_jacobian({"gradcheck", "analytic Jacobian of f", std::move(f), nullptr, ""}, std::move(inputs),
                                opts);
}

}  // namespace tg
