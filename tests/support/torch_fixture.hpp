// Checks a tapegrad module against a PyTorch reference fixture of tests/nn/fixtures/torch/, written
// by scripts/make_torch_fixtures.py (which documents the models and what each file holds):
// NAME_f32_params.npz / NAME_f64_params.npz, the torch state_dict through
// scripts/torch_state_dict.py, and NAME_f32_io.npz / NAME_f64_io.npz, the input, torch's output,
// loss and gradients. The tests never need torch: the fixtures are committed.
#pragma once

#include "test_util.hpp"

#include <string>

namespace tg::test {

inline std::string torch_fixture_path(const std::string& file) {
  return std::string(TAPEGRAD_SOURCE_DIR) + "/tests/nn/fixtures/torch/" + file;
}

// "f32" or "f64": the precision part of a fixture's file names.
template <class T>
std::string torch_fixture_precision() {
  return sizeof(T) == 4 ? "f32" : "f64";
}

// How closely tapegrad must agree with torch, absolute or relative: float32 and float64 kernels
// differ in summation order, so agreement is to a few units in the last place of each precision.
template <class T>
double torch_fixture_tolerance() {
  return sizeof(T) == 4 ? 1e-5 : 1e-10;
}

// One array of an io fixture, in the precision the test runs in (a fixture stores just that one).
template <class T>
Tensor<T> fixture_array(const NpzEntries& io, const std::string& name) {
  INFO("fixture array \"" << name << "\"");
  REQUIRE(io.count(name) == 1);
  return io.at(name).template get<T>();
}

// Loads NAME's parameters (and buffers) into `module` with tg::nn::load and returns its io arrays.
template <class T>
NpzEntries load_torch_fixture(nn::Module<T>& module, const std::string& name) {
  const std::string stem = name + "_" + torch_fixture_precision<T>();
  nn::load(module, torch_fixture_path(stem + "_params.npz"));
  return read_npz(torch_fixture_path(stem + "_io.npz"));
}

// Runs `module` (in train mode) on the fixture's input and checks, against torch's values: the
// output; the loss sum(output * loss_weight) and, after its backward, every parameter's gradient
// (each parameter must have one in the fixture, and the fixture none for a parameter the module
// lacks); and where the fixture has them, every buffer after that forward (running statistics)
// and the output in eval mode.
template <class T>
void check_against_torch(nn::Module<T>& module, const std::string& name) {
  INFO("torch fixture " << name << "_" << torch_fixture_precision<T>());
  const double tol = torch_fixture_tolerance<T>();
  const NpzEntries io = load_torch_fixture(module, name);
  const Variable<T> input(fixture_array<T>(io, "input"));

  module.train();
  module.zero_grad();
  const Variable<T> output = module(input);
  {
    INFO("output (train mode)");
    require_close<T>(output.value(), fixture_array<T>(io, "output"), tol);
  }
  Variable<T> loss = sum(output * Variable<T>(fixture_array<T>(io, "loss_weight")));
  REQUIRE(loss.shape().empty());
  CHECK(static_cast<double>(loss.item()) ==
        Approx(static_cast<double>(fixture_array<T>(io, "loss").data()[0])).margin(tol).epsilon(tol));
  loss.backward();

  std::size_t gradients_in_fixture = 0;
  for (const auto& [array_name, array] : io) gradients_in_fixture += array_name.rfind("grad.", 0) == 0;
  const auto parameters = module.named_parameters();
  CHECK(parameters.size() == gradients_in_fixture);
  for (const auto& [param_name, param] : parameters) {
    INFO("gradient of " << param_name);
    REQUIRE(param.has_grad());
    require_close<T>(param.grad(), fixture_array<T>(io, "grad." + param_name), tol);
  }

  std::size_t buffers_in_fixture = 0;
  for (const auto& [array_name, array] : io) buffers_in_fixture += array_name.rfind("buffer.", 0) == 0;
  const auto buffers = module.named_buffers();
  CHECK(buffers.size() == buffers_in_fixture);
  if (io.count("output_eval") == 0) return;
  for (const auto& [buffer_name, buffer] : buffers) {
    INFO("buffer " << buffer_name << " after the train-mode forward");
    require_close<T>(buffer.value(), fixture_array<T>(io, "buffer." + buffer_name), tol);
  }
  module.eval();
  NoGradGuard no_grad;
  const Variable<T> output_eval = module(input);
  INFO("output (eval mode)");
  require_close<T>(output_eval.value(), fixture_array<T>(io, "output_eval"), tol);
}

}  // namespace tg::test
