// Determinism: with a fixed seed and a fixed thread count, two training runs (model initialisation,
// DataLoader shuffling, forward, backward, optimiser) give bit-identical losses.
#include "test_util.hpp"
#include "two_class_images.hpp"

#include <functional>

using namespace tg;

namespace {

// 96 two-class 8x8 images with noise, shuffled every epoch.
data::DataLoader<float> loader(std::uint64_t seed) { return test::two_class_images(96, seed, 40); }

using MakeNet = std::function<nn::Sequential<float>()>;

// Three epochs from seed `seed`; every batch's loss.
std::vector<float> run(const MakeNet& make, std::uint64_t seed, int threads) {
  set_num_threads(threads);
  manual_seed(seed);
  nn::Sequential<float> net = make();
  optim::AdamOptions options;
  options.lr = 0.01;
  optim::Adam<float> adam(net.parameters(), options);
  auto data = loader(seed);
  std::vector<float> losses;
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (auto& batch : data) {
      adam.zero_grad();
      auto loss = cross_entropy(net(batch.images), batch.labels);
      loss.backward();
      adam.step();
      losses.push_back(loss.item());
    }
  }
  set_num_threads(0);
  return losses;
}

nn::Sequential<float> mlp() { return nn::Sequential<float>{nn::Flatten(), nn::Linear(64, 32), nn::ReLU(), nn::Linear(32, 2)}; }

nn::Sequential<float> cnn() {
  return nn::Sequential<float>{nn::Conv2d(1, 4, 3, 1, 1), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(4, 8, 3),
                               nn::ReLU(), nn::Flatten(), nn::Linear(8 * 2 * 2, 2)};
}

void check_identical(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("batch " << i);
    REQUIRE(a[i] == b[i]);  // bit-identical, not approximately equal
  }
}

}  // namespace

TEST_CASE("one thread and a fixed seed: two MLP training runs give bit-identical losses") {
  const auto first = run(mlp, 21, 1), second = run(mlp, 21, 1);
  check_identical(first, second);
  CHECK(first.back() < first.front());
  CHECK(run(mlp, 22, 1) != first);  // another seed differs: the comparison can fail
}

TEST_CASE("one thread and a fixed seed: two CNN training runs give bit-identical losses") {
  const auto first = run(cnn, 31, 1), second = run(cnn, 31, 1);
  check_identical(first, second);
  CHECK(first.back() < first.front());
  CHECK(run(cnn, 32, 1) != first);
}

TEST_CASE("two threads and a fixed seed: two MLP and two CNN runs give bit-identical losses") {
  check_identical(run(mlp, 21, 2), run(mlp, 21, 2));
  check_identical(run(cnn, 31, 2), run(cnn, 31, 2));
}
