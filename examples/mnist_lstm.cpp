// An LSTM reads each MNIST digit as a sequence of 28 rows of 28 pixels, top to bottom; its hidden
// state after the last row goes through one linear layer to the 10 classes.
// Run with --help for the options.
#include "mnist_training.hpp"

namespace {

class RowLSTM : public tg::nn::Module<float> {
 public:
  RowLSTM(std::size_t hidden_size, std::size_t num_layers)
      : lstm_(std::make_shared<tg::nn::LSTM<float>>(28, hidden_size, num_layers, /*bias=*/true, /*batch_first=*/true)),
        classifier_(std::make_shared<tg::nn::Linear<float>>(hidden_size, 10)) {
    register_module("lstm", lstm_);
    register_module("classifier", classifier_);
  }

  // x: (N, 1, 28, 28) images -> (N, 10) logits.
  tg::Variable<float> forward(const tg::Variable<float>& x) override {
    const std::size_t n = x.shape()[0];
    const tg::Variable<float> rows = tg::reshape(x, tg::Shape{n, 28, 28});  // (N, steps, features)
    const tg::Variable<float> outputs = (*lstm_)(rows);                     // (N, 28, hidden)
    const tg::Variable<float> last = tg::squeeze(tg::slice(outputs, 1, -1, 28), 1);  // after the last row
    return (*classifier_)(last);
  }

  // The line summary() prints: "RowLSTM(LSTM(28, 128, batch_first=True) -> Linear(128, 10))".
  std::string describe() const override {
    return "RowLSTM(" + lstm_->describe() + " -> " + classifier_->describe() + ")";
  }

 private:
  std::shared_ptr<tg::nn::LSTM<float>> lstm_;
  std::shared_ptr<tg::nn::Linear<float>> classifier_;
};

}  // namespace

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 5;
  defaults.lr = 2e-3;
  defaults.batch_size = 64;
  return example::run(argc, argv, "mnist_lstm", "Trains an LSTM (hidden 128) over the rows of MNIST digits.", defaults,
                      [] { return std::make_shared<RowLSTM>(/*hidden_size=*/128, /*num_layers=*/1); });
}
