// The textbook's 3-layer sigmoid network with fixed weights, forward pass only.
// Expected output: [0.31682708 0.69627909]
#include <tapegrad/tapegrad.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app("The textbook 3-layer sigmoid network with fixed weights: one forward pass.", "seed_network");
  CLI11_PARSE(app, argc, argv);

  using V = tg::Variable<double>;
  using M = tg::Tensor<double>;
  const V x(M{{1.0, 0.5}});
  const V W1(M{{0.1, 0.3, 0.5}, {0.2, 0.4, 0.6}}), b1(M{0.1, 0.2, 0.3});
  const V W2(M{{0.1, 0.4}, {0.2, 0.5}, {0.3, 0.6}}), b2(M{0.1, 0.2});
  const V W3(M{{0.1, 0.3}, {0.2, 0.4}}), b3(M{0.1, 0.2});

  // The textbook multiplies x·W (weights stored (in, out)), so matmul, not linear.
  const V z1 = tg::sigmoid(tg::matmul(x, W1) + b1);
  const V z2 = tg::sigmoid(tg::matmul(z1, W2) + b2);
  const V y = tg::matmul(z2, W3) + b3;  // identity output

  std::printf("[%.8f %.8f]\n", y.value()(0, 0), y.value()(0, 1));
  return 0;
}
