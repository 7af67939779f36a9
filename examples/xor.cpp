// A 2-8-1 network learns XOR: the smallest problem a linear model cannot solve.
#include <tapegrad/tapegrad.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app("A 2-8-1 tanh network learns XOR with Adam.", "xor");
  int steps = 500;
  std::uint64_t seed = 1;
  double lr = 0.05;
  app.add_option("--steps", steps, "training steps")->check(CLI::Range(1, 1000000))->capture_default_str();
  app.add_option("--lr", lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", seed, "seed for the initial weights")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  tg::manual_seed(seed);
  tg::nn::Sequential<double> net{tg::nn::Linear<double>(2, 8), tg::nn::Tanh<double>(), tg::nn::Linear<double>(8, 1)};
  const tg::Variable<double> x(tg::Tensor<double>{{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}});
  tg::Tensor<double> labels{0.0, 1.0, 1.0, 0.0};
  labels.reshape({4, 1});  // a column: one target per row of x
  const tg::Variable<double> target(labels);

  tg::optim::AdamOptions options;
  options.lr = lr;
  tg::optim::Adam optimizer(net.parameters(), options);
  double loss_value = 0;
  for (int step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    tg::Variable<double> loss = tg::binary_cross_entropy_with_logits(net(x), target);
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
    if (step % 100 == 0) std::printf("step %3d  loss %.6f\n", step, loss_value);
  }

  tg::NoGradGuard no_grad;
  const tg::Tensor<double> p = tg::sigmoid(net(x)).value();
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    const int predicted = p(i, 0) > 0.5 ? 1 : 0;
    correct += predicted == static_cast<int>(target.value()(i, 0));
    std::printf("%g xor %g -> %.4f (%d)\n", x.value()(i, 0), x.value()(i, 1), p(i, 0), predicted);
  }
  std::printf("final loss: %.6f\ncorrect: %d/4\n", loss_value, correct);
  return correct == 4 ? 0 : 1;
}
