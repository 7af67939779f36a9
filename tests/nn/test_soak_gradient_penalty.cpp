// A long WGAN-GP-style run: every step differentiates a gradient penalty through tg::grad with
// create_graph; no node outlives a step and resident memory stays flat.
#include "test_util.hpp"

#include <unistd.h>

#include <fstream>
#include <optional>

using namespace tg;

namespace {

// Resident set size in bytes, from /proc/self/statm (second field, in pages).
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("10000 gradient-penalty steps: live nodes stay at the baseline and resident memory stays flat") {
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine makes RSS no measure (LeakSanitizer checks leaks); fewer steps keep it short.
  constexpr int kSteps = 1000, kWarmup = 100;
  constexpr bool kCheckMemory = false;
#else
  constexpr int kSteps = 10000, kWarmup = 1000;
  constexpr bool kCheckMemory = true;
#endif
  constexpr std::size_t kBound = std::size_t(4) << 20;  // 4 MiB
  set_num_threads(1);
  manual_seed(21);
  nn::Sequential<float> critic{nn::Linear(4, 16), nn::Tanh(), nn::Linear(16, 16), nn::Tanh(), nn::Linear(16, 1)};
  optim::AdamOptions options;
  options.lr = 1e-3;
  optim::Adam<float> adam(critic.parameters(), options);
  Generator gen(22);
  const Tensor<float> x_data = test::uniform<float>({8, 4}, gen);
  const std::size_t baseline_nodes = tape_stats().live_nodes;

  std::size_t baseline_rss = 0, peak = 0;
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
    if (step == kWarmup) baseline_rss = resident_bytes();
    if (step > kWarmup && step % 100 == 0) peak = std::max(peak, resident_bytes());
  }
  peak = std::max(peak, resident_bytes());
  INFO("steps " << kSteps << ", penalty " << first_penalty << " -> " << last_penalty << ", RSS after warm-up "
                << baseline_rss / 1024 << " KiB, peak after " << peak / 1024 << " KiB, growth "
                << (static_cast<double>(peak) - static_cast<double>(baseline_rss)) / 1024 << " KiB");
  REQUIRE(leaked_steps == 0);
  REQUIRE(graph_in_grad == 0);
  CHECK(tape_stats().live_nodes == baseline_nodes);
  CHECK(last_penalty < 0.5 * first_penalty);
  if (kCheckMemory) CHECK(peak < baseline_rss + kBound);
  set_num_threads(0);
}
