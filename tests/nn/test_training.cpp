// A short training run on synthetic images: the loss must fall and the classes be learnt.
#include "test_util.hpp"

using namespace tg;

namespace {

// Two classes of 8x8 images: bright top half or bright bottom half, with noise.
data::DataLoader<float> synthetic_loader(std::size_t n, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<std::uint8_t> images(n * 64);
  Labels labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int64_t>(i % 2);
    for (std::size_t p = 0; p < 64; ++p) {
      const bool top = p < 32;
      const double base = (top == (labels[i] == 0)) ? 180 : 60;
      images[i * 64 + p] = static_cast<std::uint8_t>(std::clamp(base + gen.normal(0, 25), 0.0, 255.0));
    }
  }
  data::DataLoaderOptions options;
  options.batch_size = 16;
  options.shuffle = true;
  options.seed = seed;
  return data::DataLoader<float>(std::move(images), std::move(labels), 8, 8, options);
}

}  // namespace

TEST_CASE("an MLP trained on synthetic images: the loss falls and the classes are learnt") {
  manual_seed(5);
  nn::Sequential net{nn::Flatten(), nn::Linear(64, 16), nn::ReLU(), nn::Linear(16, 2)};
  optim::SGDOptions options;
  options.lr = 0.1;
  options.momentum = 0.9;
  optim::SGD sgd(net.parameters(), options);
  auto loader = synthetic_loader(256, 9);

  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 5; ++epoch) {
    double total = 0;
    for (auto& batch : loader) {
      sgd.zero_grad();
      auto loss = cross_entropy(net(batch.images), batch.labels);
      loss.backward();
      sgd.step();
      total += loss.item();
      REQUIRE(tape_stats().live_nodes == 0);
    }
    epoch_loss.push_back(total / static_cast<double>(loader.num_batches()));
  }
  INFO("first epoch " << epoch_loss.front() << ", last " << epoch_loss.back());
  CHECK(epoch_loss.back() < 0.5 * epoch_loss.front());
  CHECK(epoch_loss.back() < 0.1);

  NoGradGuard no_grad;
  auto test = synthetic_loader(64, 77);
  std::size_t correct = 0;
  for (auto& batch : test) {
    const Tensor<float>& logits = net(batch.images).value();
    for (std::size_t i = 0; i < batch.size(); ++i) correct += (logits(i, 1) > logits(i, 0)) == (batch.labels[i] == 1);
  }
  CHECK(correct >= 60);
}
