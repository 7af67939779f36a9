// A short training run on synthetic images: the loss must fall and the classes be learnt.
#include "test_util.hpp"
#include "two_class_images.hpp"

using namespace tg;


TEST_CASE("an MLP trained on synthetic images: the loss falls and the classes are learnt") {
  manual_seed(5);
  nn::Sequential net{nn::Flatten(), nn::Linear(64, 16), nn::ReLU(), nn::Linear(16, 2)};
  optim::SGDOptions options;
  options.lr = 0.1;
  options.momentum = 0.9;
  optim::SGD sgd(net.parameters(), options);
  auto loader = test::two_class_images(256, 9, 25);

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
  auto test = test::two_class_images(64, 77, 25);
  std::size_t correct = 0;
  for (auto& batch : test) {
    const Tensor<float>& logits = net(batch.images).value();
    for (std::size_t i = 0; i < batch.size(); ++i) correct += (logits(i, 1) > logits(i, 0)) == (batch.labels[i] == 1);
  }
  CHECK(correct >= 60);
}
