// What bench/second_order_bench.cpp (tapegrad) and bench/peers/torch_second_order.cpp (libtorch)
// both need to do the same work from the same numbers: the shapes, a tiny portable generator for
// the inputs and initial weights (so both programs start from identical values and their printed
// losses and checksums can be compared), and the command line. No tapegrad or torch here.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench::second_order {

// WGAN-GP critic step: MNIST-shaped batches through an MLP critic 784-256-256-1, LeakyReLU(0.2).
constexpr std::size_t kGanBatch = 64, kPixels = 784, kCriticHidden = 256;
constexpr double kLeakySlope = 0.2, kPenaltyWeight = 10.0;
// Adam as in the WGAN-GP paper (lr 1e-4, beta1 0.5, beta2 0.9).
constexpr double kAdamLr = 1e-4, kAdamBeta1 = 0.5, kAdamBeta2 = 0.9;
// The critic's inputs cycle through this many precomputed (real, fake, alpha) sets.
constexpr std::size_t kGanSets = 4;

// Hessian-vector product: the MNIST MLP 784-256-128-10 (ReLU), batch 128, cross-entropy.
constexpr std::size_t kHvpBatch = 128, kClasses = 10;

// splitmix64: the same stream of values in every program and on every machine.
class Stream {
 public:
  explicit Stream(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // uniform in [lo, hi), from the top 24 bits, exactly representable in float
  float uniform(double lo, double hi) {
    const double u = static_cast<double>(next() >> 40) / 16777216.0;
    return static_cast<float>(lo + (hi - lo) * u);
  }

 private:
  std::uint64_t state_;
};

inline std::vector<float> uniform_values(std::size_t n, std::uint64_t seed, double lo, double hi) {
  Stream s(seed);
  std::vector<float> v(n);
  for (float& x : v) x = s.uniform(lo, hi);
  return v;
}

// The initial values of a Linear layer's weight (out x in) or bias (out): U(-1/sqrt(in), 1/sqrt(in)),
// PyTorch's default distribution; `index` is the parameter's position in the model's list.
inline std::vector<float> parameter_values(std::size_t index, std::size_t elements, std::size_t fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return uniform_values(elements, 1000 + index, -bound, bound);
}

// Input set k of the critic: real and fake images in [0, 1) (64 x 784) and one alpha per sample (64).
inline std::vector<float> real_images(std::size_t k) { return uniform_values(kGanBatch * kPixels, 10 + k, 0, 1); }
inline std::vector<float> fake_images(std::size_t k) { return uniform_values(kGanBatch * kPixels, 20 + k, 0, 1); }
inline std::vector<float> alphas(std::size_t k) { return uniform_values(kGanBatch, 30 + k, 0, 1); }

// The HVP's batch (128 x 784 in [0, 1)), its labels, and the direction v for parameter `index`.
inline std::vector<float> hvp_images() { return uniform_values(kHvpBatch * kPixels, 40, 0, 1); }
inline std::vector<std::int64_t> hvp_labels() {
  std::vector<std::int64_t> y(kHvpBatch);
  for (std::size_t i = 0; i < kHvpBatch; ++i) y[i] = static_cast<std::int64_t>((i * 7 + 3) % kClasses);
  return y;
}
inline std::vector<float> hvp_direction(std::size_t index, std::size_t elements) {
  return uniform_values(elements, 2000 + index, -1, 1);
}

struct Options {
  std::string bench = "wgan";  // wgan | hvp
  int threads = 2;
  int steps = 200;
  int warmup = 10;
};

[[noreturn]] inline void usage(const char* program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\nusage: %s --bench wgan|hvp [--threads N] [--steps S] [--warmup W]\n", program,
               message.c_str(), program);
  std::exit(2);
}

inline Options parse(const char* program, int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(program, "missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--bench") o.bench = value();
    else if (arg == "--threads") o.threads = std::atoi(value().c_str());
    else if (arg == "--steps") o.steps = std::atoi(value().c_str());
    else if (arg == "--warmup") o.warmup = std::atoi(value().c_str());
    else usage(program, "unknown argument " + arg);
  }
  if (o.bench != "wgan" && o.bench != "hvp") usage(program, "--bench must be wgan or hvp");
  if (o.threads < 1 || o.steps < 1 || o.warmup < 0) usage(program, "--threads and --steps must be positive");
  return o;
}

// CPU time of the whole process (every thread), user + system, in seconds.
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace bench::second_order
