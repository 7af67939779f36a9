// A long WGAN-GP-style run: every step differentiates a gradient penalty through tg::grad with
// create_graph; no node outlives a step and resident memory stays flat.
#include "resident_memory.hpp"
#include "test_util.hpp"

#include <optional>

using namespace tg;

TEST_CASE("10000 gradient-penalty steps: live nodes stay at the baseline and resident memory stays flat") {
  // Where RSS is no measure (ASan), fewer steps keep the sanitizer run short.
  constexpr int kSteps = test::kResidentMemoryIsMeasure ? 10000 : 1000;
  constexpr int kWarmup = test::kResidentMemoryIsMeasure ? 1000 : 100;
  set_num_threads(1);
  manual_seed(21);
  nn::Sequential<float> critic{nn::Linear(4, 16), nn::Tanh(), nn::Linear(16, 16), nn::Tanh(), nn::Linear(16, 1)};
  optim::AdamOptions options;
  options.lr = 1e-3;
  optim::Adam<float> adam(critic.parameters(), options);
  Generator gen(22);
  const Tensor<float> x_data = test::uniform<float>({8, 4}, gen);
  const std::size_t baseline_nodes = tape_stats().live_nodes;

  test::ResidentMemoryWatch memory(kWarmup);
  int leaked_steps = 0, graph_in_grad = 0;
  double first_penalty = 0, last_penalty = 0;
  for (int step = 0; step < kSteps; ++step) {
    {
      Variable<float> x(x_data, true);
      adam.zero_grad();
      // penalty = mean((||d critic / dx|| - 1)^2) over the batch, differentiated to the parameters
      Variable<float> g = grad<float>({sum(critic(x))}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
      Variable<float> norm = sqrt(sum(g * g, {1}));
      Variable<float> penalty = mean(pow(norm - 1.0f, 2.0f));
      penalty.backward();
      adam.step();
      last_penalty = penalty.item();
      if (step == 0) first_penalty = last_penalty;
      for (const auto& p : critic.parameters()) {
        // (the last bias gets none: d critic / dx does not depend on it)
        if (p.has_grad() && p.grad_variable().requires_grad()) ++graph_in_grad;
      }
    }
    if (tape_stats().live_nodes != baseline_nodes) ++leaked_steps;  // a REQUIRE per step would dominate
    memory.at(step);
  }
  memory.finish();
  INFO("steps " << kSteps << ", penalty " << first_penalty << " -> " << last_penalty << ", RSS after warm-up "
                << memory.baseline() / 1024 << " KiB, peak after " << memory.peak() / 1024 << " KiB, growth "
                << memory.growth_kib() << " KiB");
  REQUIRE(leaked_steps == 0);
  REQUIRE(graph_in_grad == 0);
  CHECK(tape_stats().live_nodes == baseline_nodes);
  CHECK(last_penalty < 0.5 * first_penalty);
  if (test::kResidentMemoryIsMeasure) CHECK(memory.stayed_flat());
  set_num_threads(0);
}
