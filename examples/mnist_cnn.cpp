// The classic small CNN on MNIST (or Fashion-MNIST): two 3x3 convolutions with max pooling,
// then two linear layers (examples/mnist_cnn_model.hpp). Run with --help for the options.
#include "mnist_cnn_model.hpp"
#include "mnist_training.hpp"

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 5;
  defaults.lr = 1e-3;
  defaults.batch_size = 128;
  return example::run(argc, argv, "mnist_cnn", "Trains a 2-conv, 2-linear CNN on MNIST.", defaults,
                      [] { return example::make_mnist_cnn(); });
}
