// A long training run: the tape is released after every step and resident memory stays flat.
#include "resident_memory.hpp"
#include "test_util.hpp"

using namespace tg;

TEST_CASE("20000 training steps: no node outlives a step and resident memory stays flat") {
  // Where RSS is no measure (ASan), fewer steps keep the sanitizer run short.
  constexpr int kSteps = test::kResidentMemoryIsMeasure ? 20000 : 2000;
  constexpr int kWarmup = test::kResidentMemoryIsMeasure ? 1000 : 200;
  set_num_threads(1);
  manual_seed(11);
  nn::Sequential<float> net{nn::Linear(8, 16), nn::ReLU(), nn::Linear(16, 4)};
  optim::AdamOptions options;
  options.lr = 1e-3;
  optim::Adam<float> adam(net.parameters(), options);
  Generator gen(12);
  const Tensor<float> x_data = test::uniform<float>({4, 8}, gen);
  Labels y{0, 1, 2, 3};

  test::ResidentMemoryWatch memory(kWarmup);
  int leaked_steps = 0;
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < kSteps; ++step) {
    Variable<float> x(x_data);
    adam.zero_grad();
    auto loss = cross_entropy(net(x), y);
    loss.backward();
    adam.step();
    last_loss = loss.item();
    if (step == 0) first_loss = last_loss;
    if (tape_stats().live_nodes != 0) ++leaked_steps;  // a REQUIRE per step would dominate the run time
    memory.at(step);
  }
  memory.finish();
  INFO("steps " << kSteps << ", RSS after warm-up " << memory.baseline() / 1024 << " KiB, peak after "
                << memory.peak() / 1024 << " KiB, growth " << memory.growth_kib() << " KiB");
  REQUIRE(leaked_steps == 0);
  REQUIRE(tape_stats().live_nodes == 0);
  CHECK(last_loss < first_loss);
  if (test::kResidentMemoryIsMeasure) CHECK(memory.stayed_flat());
  set_num_threads(0);
}
