// A long training run: the tape is released after every step and resident memory stays flat.
#include "test_util.hpp"

#include <unistd.h>

#include <fstream>

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

TEST_CASE("20000 training steps: no node outlives a step and resident memory stays flat") {
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine, so RSS is no measure there (LeakSanitizer checks leaks);
  // fewer steps keep the sanitizer run short.
  constexpr int kSteps = 2000, kWarmup = 200;
  constexpr bool kCheckMemory = false;
#else
  constexpr int kSteps = 20000, kWarmup = 1000;
  constexpr bool kCheckMemory = true;
#endif
  constexpr std::size_t kBound = std::size_t(4) << 20;  // 4 MiB
  set_num_threads(1);
  manual_seed(11);
  nn::Sequential<float> net{nn::Linear(8, 16), nn::ReLU(), nn::Linear(16, 4)};
  optim::AdamOptions options;
  options.lr = 1e-3;
  optim::Adam<float> adam(net.parameters(), options);
  Generator gen(12);
  const Tensor<float> x_data = test::uniform<float>({4, 8}, gen);
  Labels y{0, 1, 2, 3};

  std::size_t baseline = 0, peak = 0;
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
    if (step == kWarmup) baseline = resident_bytes();
    if (step > kWarmup && step % 100 == 0) peak = std::max(peak, resident_bytes());
  }
  peak = std::max(peak, resident_bytes());
  INFO("steps " << kSteps << ", RSS after warm-up " << baseline / 1024 << " KiB, peak after " << peak / 1024
                << " KiB, growth " << (static_cast<double>(peak) - static_cast<double>(baseline)) / 1024 << " KiB");
  REQUIRE(leaked_steps == 0);
  REQUIRE(tape_stats().live_nodes == 0);
  CHECK(last_loss < first_loss);
  if (kCheckMemory) CHECK(peak < baseline + kBound);
  set_num_threads(0);
}
