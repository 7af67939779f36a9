// A small vision transformer on MNIST: each digit is cut into 16 patches of 7x7 pixels, each
// patch becomes a token by one linear layer plus a learned position, two transformer encoder
// layers mix the tokens, and the mean token goes through a linear classifier. The model is
// example::PatchTransformer (layer_models.hpp), which bench/epoch_bench.cpp times too.
// Run with --help for the options.
#include "mnist_training.hpp"
#include "layer_models.hpp"

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 10;
  defaults.lr = example::kMnistTransformerLr;
  defaults.batch_size = example::kMnistTransformerBatch;
  return example::run(argc, argv, "mnist_transformer",
                      "Trains a 2-layer transformer on 7x7 patches of MNIST digits (16 tokens).", defaults,
                      example::make_mnist_transformer);
}
