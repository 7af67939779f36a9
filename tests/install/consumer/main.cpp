// Uses the installed headers and library: one gradient, checked, and an .npz round trip (a static
// tapegrad needs libzip, which the installed package config must bring to the link).
#include <tapegrad/tapegrad.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

bool npz_round_trip() {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tapegrad_consumer_" + std::to_string(::getpid()) + ".npz")).string();
  tg::write_npz(path, std::vector<std::pair<std::string, tg::Tensor<float>>>{{"w", tg::Tensor<float>{1.5f, -2.f}}});
  const bool ok = tg::read_npz(path).at("w").get<float>()(1) == -2.f;
  std::filesystem::remove(path);
  return ok;
}

}  // namespace

int main() {
  tg::Variable<double> x(tg::Tensor<double>{1.0, 2.0, 3.0}, true);
  tg::Variable<double> y = tg::sum(x * x);
  y.backward();
  const bool ok = x.grad()(2) == 6.0 && y.item() == 14.0 && npz_round_trip();
  std::printf("consumer: d sum(x^2)/dx at 3 = %g, .npz round trip (%s)\n", x.grad()(2), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
