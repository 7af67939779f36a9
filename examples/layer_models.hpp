// The networks of mnist_lstm, mnist_transformer and fashion_resnet, with the batch size and
// Adam learning rate each example trains with: one definition, shared by the examples and the
// benchmarks (bench/epoch_bench.cpp), so the benchmarks time the models users run.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

namespace example {

// An LSTM reads each digit as a sequence of 28 rows of 28 pixels, top to bottom; its hidden
// state after the last row goes through one linear layer to the 10 classes.
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

// mnist_lstm: hidden 128, one layer; Adam lr 2e-3, batch 64.
inline constexpr std::size_t kMnistLstmBatch = 64;
inline constexpr double kMnistLstmLr = 2e-3;
inline std::shared_ptr<tg::nn::Module<float>> make_mnist_lstm() {
  return std::make_shared<RowLSTM>(/*hidden_size=*/128, /*num_layers=*/1);
}

// A small vision transformer: each digit is cut into 16 patches of 7x7 pixels, each patch becomes
// a token by one linear layer plus a learned position, transformer encoder layers mix the tokens,
// and the mean token goes through a linear classifier.
class PatchTransformer : public tg::nn::Module<float> {
 public:
  static constexpr std::size_t kPatch = 7, kSide = 28, kGrid = kSide / kPatch, kTokens = kGrid * kGrid;

  PatchTransformer(std::size_t d_model, std::size_t heads, std::size_t feedforward, std::size_t layers) {
    embed_ = std::make_shared<tg::nn::Linear<float>>(kPatch * kPatch, d_model);
    register_module("embed", embed_);
    // Like ViT: small random positions, learned with the rest.
    positions_ = register_parameter("positions", tg::nn::init::normal<float>(tg::Shape{1, kTokens, d_model}, 0.0, 0.02));
    for (std::size_t i = 0; i < layers; ++i) {
      // Pre-norm (norm_first) layers train stably at Adam's usual rates without warm-up.
      encoders_.push_back(std::make_shared<tg::nn::TransformerEncoderLayer<float>>(
          d_model, heads, feedforward, /*dropout=*/0.0, "relu", 1e-5, /*batch_first=*/true, /*norm_first=*/true));
      register_module("encoder" + std::to_string(i), encoders_.back());
    }
    norm_ = std::make_shared<tg::nn::LayerNorm<float>>(tg::Shape{d_model});
    register_module("norm", norm_);
    classifier_ = std::make_shared<tg::nn::Linear<float>>(d_model, 10);
    register_module("classifier", classifier_);
  }

  // x: (N, 1, 28, 28) images -> (N, 10) logits.
  tg::Variable<float> forward(const tg::Variable<float>& x) override {
    const std::size_t n = x.shape()[0];
    // (N, 1, 28, 28) -> (N, grid row, pixel row, grid column, pixel column) -> (N, 16 tokens, 49 pixels)
    tg::Variable<float> patches = tg::reshape(x, tg::Shape{n, kGrid, kPatch, kGrid, kPatch});
    patches = tg::reshape(tg::permute(patches, tg::Shape{0, 1, 3, 2, 4}), tg::Shape{n, kTokens, kPatch * kPatch});
    tg::Variable<float> tokens = (*embed_)(patches) + positions_;  // (N, 16, d_model)
    for (auto& encoder : encoders_) tokens = (*encoder)(tokens);
    return (*classifier_)((*norm_)(tg::mean(tokens, tg::Axes{1})));  // mean over the tokens
  }

  std::string describe() const override {
    return "PatchTransformer(16 patches of 7x7, " + embed_->describe() + ", " + std::to_string(encoders_.size()) + " x " +
           encoders_.front()->describe() + ", mean over tokens, " + norm_->describe() + ", " + classifier_->describe() + ")";
  }

 private:
  std::shared_ptr<tg::nn::Linear<float>> embed_;
  tg::Variable<float> positions_;
  std::vector<std::shared_ptr<tg::nn::TransformerEncoderLayer<float>>> encoders_;
  std::shared_ptr<tg::nn::LayerNorm<float>> norm_;
  std::shared_ptr<tg::nn::Linear<float>> classifier_;
};

// mnist_transformer: d_model 64, 4 heads, feed-forward 128, 2 layers; Adam lr 1e-3, batch 128.
inline constexpr std::size_t kMnistTransformerBatch = 128;
inline constexpr double kMnistTransformerLr = 1e-3;
inline std::shared_ptr<tg::nn::Module<float>> make_mnist_transformer() {
  return std::make_shared<PatchTransformer>(/*d_model=*/64, /*heads=*/4, /*feedforward=*/128, /*layers=*/2);
}

// relu(main(x) + shortcut(x)), main = Conv-BN-ReLU-Conv-BN; the shortcut is the identity when
// shapes match, else a strided 1x1 Conv-BN. The convolutions have no bias: BatchNorm adds one.
class ResidualBlock : public tg::nn::Module<float> {
 public:
  ResidualBlock(std::size_t in, std::size_t out, std::size_t stride) : in_(in), out_(out), stride_(stride) {
    using tg::nn::BatchNorm2d;
    using tg::nn::Conv2d;
    using tg::nn::ReLU;
    using tg::nn::Sequential;
    main_ = std::make_shared<Sequential<float>>(
        Conv2d(in, out, 3, stride, /*padding=*/1, /*dilation=*/1, /*groups=*/1, /*bias=*/false), BatchNorm2d(out), ReLU(),
        Conv2d(out, out, 3, 1, /*padding=*/1, 1, 1, /*bias=*/false), BatchNorm2d(out));
    register_module("main", main_);
    if (stride != 1 || in != out) {
      shortcut_ = std::make_shared<Sequential<float>>(Conv2d(in, out, 1, stride, 0, 1, 1, /*bias=*/false), BatchNorm2d(out));
      register_module("shortcut", shortcut_);
    }
  }

  tg::Variable<float> forward(const tg::Variable<float>& x) override {
    return tg::relu((*main_)(x) + (shortcut_ ? (*shortcut_)(x) : x));
  }

  std::string describe() const override {
    return fmt::format("ResidualBlock({}, {}, stride={}{})", in_, out_, stride_, shortcut_ ? ", 1x1 shortcut" : "");
  }

 private:
  std::size_t in_, out_, stride_;
  std::shared_ptr<tg::nn::Sequential<float>> main_, shortcut_;
};

// fashion_resnet: 16 channels at 28x28, 32 at 14x14, 64 at 7x7, global average pooling, linear;
// Adam lr 2e-3, batch 128, on Fashion-MNIST.
inline constexpr std::size_t kFashionResnetBatch = 128;
inline constexpr double kFashionResnetLr = 2e-3;
inline std::shared_ptr<tg::nn::Module<float>> make_fashion_resnet() {
  using namespace tg::nn;
  auto net = std::make_shared<Sequential<float>>(
      Conv2d(1, 16, 3, 1, /*padding=*/1, 1, 1, /*bias=*/false), BatchNorm2d(16), ReLU());
  net->push_back(std::make_shared<ResidualBlock>(16, 16, 1));
  net->push_back(std::make_shared<ResidualBlock>(16, 32, 2));
  net->push_back(std::make_shared<ResidualBlock>(32, 64, 2));
  net->push_back(std::make_shared<ResidualBlock>(64, 64, 1));
  net->push_back(std::make_shared<AdaptiveAvgPool2d<float>>(tg::Shape{1, 1}));
  net->push_back(std::make_shared<Flatten<float>>());
  net->push_back(std::make_shared<Linear<float>>(64, 10));
  // Each block's Conv-BN-ReLU-Conv-BN trains as one op whose inner values stay in oneDNN's layout
  // (the stem and the 1x1 shortcuts, on im2col, run their modules one by one).
  fuse_conv_batch_norm(*net);
  return net;
}

}  // namespace example
