// What bench/second_order_bench.cpp (tapegrad) and bench/peers/torch_second_order.cpp (libtorch)
// both need to do the same work from the same numbers: the shapes, a tiny portable generator for
// the inputs and initial weights (so both programs start from identical values and their printed
// losses and checksums can be compared), the command line, the timing of the steps and the
// report. No tapegrad or torch here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "measure.hpp"

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

inline Options parse(const char* program, int argc, char** argv) {
  const std::string usage_text = std::string(program) + " --bench wgan|hvp [--threads N] [--steps S] [--warmup W]";
  Options o;
  parse_flags(program, usage_text, argc, argv, [&](const std::string& flag, auto value) {
    if (flag == "--bench") o.bench = value();
    else if (flag == "--threads") o.threads = std::atoi(value().c_str());
    else if (flag == "--steps") o.steps = std::atoi(value().c_str());
    else if (flag == "--warmup") o.warmup = std::atoi(value().c_str());
    else return false;
    return true;
  });
  if (o.bench != "wgan" && o.bench != "hvp") usage(program, usage_text, "--bench must be wgan or hvp");
  if (o.threads < 1 || o.steps < 1 || o.warmup < 0) usage(program, usage_text, "--threads and --steps must be positive");
  return o;
}

struct Timing {
  std::vector<double> step_ms;
  double cpu_ms_per_step = 0;  // the process's CPU time (all threads, user + system) over the timed steps
  double first_loss = 0, last_loss = 0, checksum = 0;
};

// opt.warmup untimed calls of step(s), then opt.steps timed ones; step returns the step's loss.
template <class Step>
Timing time_steps(const Options& opt, Step step) {
  Timing t;
  double cpu_start = 0;
  for (int s = 0; s < opt.warmup + opt.steps; ++s) {
    if (s == opt.warmup) cpu_start = cpu_seconds();
    const auto start = clock_type::now();
    const float loss = step(s);
    const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    if (s == 0) t.first_loss = loss;
    if (s >= opt.warmup) t.step_ms.push_back(ms);
    t.last_loss = loss;
  }
  t.cpu_ms_per_step = (cpu_seconds() - cpu_start) * 1e3 / opt.steps;
  return t;
}

// The summary line and the last line, `RESULT {json}`: `threads` says how the program ran ("2
// threads"), and `extra_json` ("\"key\": value, " each) stands between "threads" and "steps".
inline void report(const Options& opt, const Timing& t, const char* framework, const std::string& threads,
                   const std::string& extra_json) {
  const double step_ms = median(t.step_ms);
  std::printf("%s, %s: %.3f ms per step (median of %d), loss first %.6f last %.6f, checksum %.6g; CPU %.3f ms per step\n",
              opt.bench.c_str(), threads.c_str(), step_ms, opt.steps, t.first_loss, t.last_loss, t.checksum,
              t.cpu_ms_per_step);
  std::printf("RESULT {\"kind\": \"second_order\", \"framework\": \"%s\", \"bench\": \"%s\", \"threads\": %d, %s"
              "\"steps\": %d, \"step_ms_median\": %.5f, \"first_loss\": %.6f, \"last_loss\": %.6f, "
              "\"checksum\": %.6g, \"cpu_ms_per_step\": %.4f}\n",
              framework, opt.bench.c_str(), opt.threads, extra_json.c_str(), opt.steps, step_ms, t.first_loss,
              t.last_loss, t.checksum, t.cpu_ms_per_step);
}

}  // namespace bench::second_order
