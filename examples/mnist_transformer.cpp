// A small vision transformer on MNIST: each digit is cut into 16 patches of 7x7 pixels, each
// patch becomes a token by one linear layer plus a learned position, two transformer encoder
// layers mix the tokens, and the mean token goes through a linear classifier.
// Run with --help for the options.
#include "mnist_training.hpp"

#include <nn/transformer.hpp>  // not yet part of <tapegrad/tapegrad.hpp>

namespace {

constexpr std::size_t kPatch = 7, kSide = 28, kGrid = kSide / kPatch, kTokens = kGrid * kGrid;

class PatchTransformer : public tg::nn::Module<float> {
 public:
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

  // The line summary() prints: the embedding, the number and kind of encoder layers, the classifier.
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

}  // namespace

int main(int argc, char** argv) {
  example::Config defaults;
  defaults.epochs = 10;
  defaults.lr = 1e-3;
  defaults.batch_size = 128;
  return example::run(argc, argv, "mnist_transformer",
                      "Trains a 2-layer transformer on 7x7 patches of MNIST digits (16 tokens).", defaults,
                      [] { return std::make_shared<PatchTransformer>(/*d_model=*/64, /*heads=*/4, /*feedforward=*/128, /*layers=*/2); });
}
