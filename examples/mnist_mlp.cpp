// A 784-256-128-10 ReLU network on MNIST (or Fashion-MNIST). Run with --help for the options.
#include "mnist_models.hpp"
#include "mnist_training.hpp"

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 10;
  defaults.lr = 2e-3;  // with cosine annealing: 98.3-98.45% over seeds 1-3, vs 98.1% at 1e-3
  defaults.batch_size = 128;
  return example::run(argc, argv, "mnist_mlp", "Trains a 784-256-128-10 ReLU MLP on MNIST.", defaults,
                      [] { return example::make_mnist_mlp(); });
}
