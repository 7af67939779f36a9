// Generator: the one source of randomness; every random draw in tapegrad takes one, so runs repeat.
//
// Thread safety: every Generator, the default one included, has a lock. uniform(), normal(),
// next() and seed() take it for one draw; draws() takes it for as long as the returned object
// lives, so a library function filling a tensor (an initialiser, a dropout mask) locks once and its
// numbers come out in one unbroken run. Several threads may therefore share a generator (the
// default one, say) without a data race; which thread gets which numbers then depends on timing,
// so a run that must repeat gives each thread a Generator of its own, as a module's `Generator&`
// constructor allows. engine() is the raw engine, unsynchronised: use it on a generator no other
// thread touches, or through draws().
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace tg {

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : engine_(seed) {}
  Generator(const Generator& other) : engine_(other.state()) {}
  Generator& operator=(const Generator& other) {
    if (this != &other) {
      const std::mt19937_64 copy = other.state();
      std::lock_guard<std::mutex> lock(mutex_);
      engine_ = copy;
    }
    return *this;
  }

  // Exclusive use of the generator while alive: many draws under one lock.
  class Draws {
   public:
    double uniform(double low = 0.0, double high = 1.0) {
      return std::uniform_real_distribution<double>(low, high)(*engine_);
    }
    double normal(double mean = 0.0, double stddev = 1.0) {
      return std::normal_distribution<double>(mean, stddev)(*engine_);
    }
    std::uint64_t next() { return (*engine_)(); }
    std::mt19937_64& engine() { return *engine_; }

   private:
    friend class Generator;
    Draws(std::mutex& mutex, std::mt19937_64& engine) : lock_(mutex), engine_(&engine) {}
    std::unique_lock<std::mutex> lock_;
    std::mt19937_64* engine_;
  };
  Draws draws() { return Draws(mutex_, engine_); }

  double uniform(double low = 0.0, double high = 1.0) { return draws().uniform(low, high); }
  double normal(double mean = 0.0, double stddev = 1.0) { return draws().normal(mean, stddev); }
  std::uint64_t next() { return draws().next(); }
  void seed(std::uint64_t seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    engine_.seed(seed);
  }
  std::mt19937_64& engine() { return engine_; }  // unsynchronised, see above

 private:
  std::mt19937_64 state() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return engine_;
  }
  mutable std::mutex mutex_;
  std::mt19937_64 engine_;
};

// The generator that draws when none is passed (module initialisation, nn::Dropout(p)): one for
// the whole process, seeded with 0 at start-up, reseeded by manual_seed (like torch.manual_seed,
// which reseeds it for every thread). Safe to use from several threads (see above).
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace tg
