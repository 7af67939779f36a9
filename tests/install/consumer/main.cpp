// Uses the installed headers and library: one gradient, checked.
#include <tapegrad/tapegrad.hpp>

#include <cstdio>

int main() {
  tg::Variable<double> x(tg::Tensor<double>{1.0, 2.0, 3.0}, true);
  tg::Variable<double> y = tg::sum(x * x);
  y.backward();
  const bool ok = x.grad()(2) == 6.0 && y.item() == 14.0;
  std::printf("consumer: d sum(x^2)/dx at 3 = %g (%s)\n", x.grad()(2), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
