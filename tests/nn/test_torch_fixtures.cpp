// PyTorch state_dicts load into tapegrad's 0.2 modules and give PyTorch's outputs and gradients:
// BatchNorm2d (train mode, running statistics, eval mode), LSTM, GRU and TransformerEncoderLayer,
// with weights converted by scripts/torch_state_dict.py. The fixtures, and the torch code that
// made them, are described in scripts/make_torch_fixtures.py; the harness is
// tests/support/torch_fixture.hpp. Each model is constructed here with the hyper-parameters
// torch used.
#include "torch_fixture.hpp"

using namespace tg;

TEMPLATE_TEST_CASE("torch fixtures: a BatchNorm2d CNN gives PyTorch's outputs and gradients and running statistics",
                   "[torch-fixtures]", float, double) {
  using T = TestType;
  // torch: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
  //                      nn.Flatten(), nn.Linear(36, 3)); running statistics loaded from the fixture
  //                      (num_batches_tracked 2), output in train mode, then in eval mode.
  nn::Sequential<T> model{nn::Conv2d<T>(2, 4, 3, 1, 1), nn::BatchNorm2d<T>(4), nn::ReLU<T>(), nn::MaxPool2d<T>(2),
                          nn::Flatten<T>(), nn::Linear<T>(36, 3)};
  test::check_against_torch(model, "bn_cnn");
}

TEMPLATE_TEST_CASE("torch fixtures: a 2-layer batch-first LSTM gives PyTorch's output and gradients",
                   "[torch-fixtures]", float, double) {
  // torch: nn.LSTM(5, 7, num_layers=2, batch_first=True); input (batch 3, time 4, features 5)
  nn::LSTM<TestType> lstm(5, 7, 2, true, true);
  test::check_against_torch(lstm, "lstm");
}

TEMPLATE_TEST_CASE("torch fixtures: a bidirectional GRU gives PyTorch's output and gradients", "[torch-fixtures]",
                   float, double) {
  // torch: nn.GRU(4, 6, num_layers=1, bidirectional=True); input (time 5, batch 2, features 4)
  nn::GRU<TestType> gru(4, 6, 1, true, false, 0.0, true);
  test::check_against_torch(gru, "gru");
}

TEMPLATE_TEST_CASE("torch fixtures: a TransformerEncoderLayer gives PyTorch's output and gradients",
                   "[torch-fixtures]", float, double) {
  // torch: nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
  // (activation relu, layer_norm_eps 1e-5, post-norm); input (batch 2, sequence 3, d_model 8)
  nn::TransformerEncoderLayer<TestType> layer(8, 2, 16, 0.0, "relu", 1e-5, true, false);
  test::check_against_torch(layer, "transformer");
}
