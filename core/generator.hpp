// Generator: the one source of randomness; every random draw in tapegrad takes one, so runs repeat.
#pragma once

#include <cstdint>
#include <random>

namespace tg {

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : engine_(seed) {}

  double uniform(double low = 0.0, double high = 1.0) {
    return std::uniform_real_distribution<double>(low, high)(engine_);
  }
  double normal(double mean = 0.0, double stddev = 1.0) {
    return std::normal_distribution<double>(mean, stddev)(engine_);
  }
  std::uint64_t next() { return engine_(); }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

// The generator that draws when none is passed (module initialisation): seeded with 0 at start-up,
// reseeded by manual_seed, like torch.manual_seed.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace tg
