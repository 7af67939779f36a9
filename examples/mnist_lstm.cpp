// An LSTM reads each MNIST digit as a sequence of 28 rows of 28 pixels, top to bottom; its hidden
// state after the last row goes through one linear layer to the 10 classes. The model is
// example::RowLSTM (layer_models.hpp), which bench/epoch_bench.cpp times too.
// Run with --help for the options.
#include "mnist_training.hpp"
#include "layer_models.hpp"

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 5;
  defaults.lr = example::kMnistLstmLr;
  defaults.batch_size = example::kMnistLstmBatch;
  return example::run(argc, argv, "mnist_lstm", "Trains an LSTM (hidden 128) over the rows of MNIST digits.", defaults,
                      example::make_mnist_lstm);
}
