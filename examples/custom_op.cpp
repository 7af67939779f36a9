// Writing a new differentiable operator with record_op, and checking its gradient with one call.
#include <tapegrad/tapegrad.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <xtensor/xmath.hpp>

// softplus(x) = log(1 + exp(x)), written stably; its derivative is sigmoid(x).
template <class T>
tg::Variable<T> softplus(const tg::Variable<T>& x) {
  const tg::Tensor<T>& v = x.value();
  tg::Tensor<T> y = xt::maximum(v, T(0)) + xt::log1p(xt::exp(-xt::abs(v)));
  return tg::record_op<T>("softplus", y, {x}, [x](const tg::Tensor<T>& grad_output) {
    tg::Tensor<T> sigmoid = T(1) / (T(1) + xt::exp(-x.value()));
    return std::vector<tg::Tensor<T>>{tg::Tensor<T>(grad_output * sigmoid)};
  });
}

// The same op with a deliberate mistake in its backward: exp(x) instead of sigmoid(x).
template <class T>
tg::Variable<T> softplus_wrong(const tg::Variable<T>& x) {
  const tg::Tensor<T>& v = x.value();
  tg::Tensor<T> y = xt::maximum(v, T(0)) + xt::log1p(xt::exp(-xt::abs(v)));
  return tg::record_op<T>("softplus_wrong", y, {x}, [x](const tg::Tensor<T>& grad_output) {
    return std::vector<tg::Tensor<T>>{tg::Tensor<T>(grad_output * xt::exp(x.value()))};
  });
}

int main(int argc, char** argv) {
  CLI::App app("Defines softplus with record_op, gradchecks it, then shows the report of a deliberately wrong backward.", "custom_op");
  CLI11_PARSE(app, argc, argv);

  tg::Variable<double> x(tg::Tensor<double>{{-2.0, -0.5, 0.3}, {1.0, 2.5, -1.2}}, true);

  std::printf("Checking softplus:\n");
  // ::softplus, this file's: argument-dependent lookup would also find the library's own tg::softplus.
  tg::GradcheckResult good = tg::gradcheck([](const auto& in) { return ::softplus(in[0]); }, {x});
  std::printf("%s\n", good.report.c_str());

  std::printf("Checking softplus_wrong (its backward is wrong on purpose):\n");
  tg::GradcheckResult bad = tg::gradcheck([](const auto& in) { return softplus_wrong(in[0]); }, {x});
  std::printf("%s\n", bad.report.c_str());

  return good.ok && !bad.ok ? 0 : 1;
}
