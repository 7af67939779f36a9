// What bench/epoch_bench.cpp (tapegrad) and its libtorch peers (bench/peers/torch_mlp_cnn.cpp,
// torch_layer_models.cpp) share: the command line, the sample orders file, and the timed epochs and
// inference passes. No tapegrad or torch here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "measure.hpp"

namespace bench::epoch {

// A program's defaults are set in the Options it passes to parse().
struct Options {
  std::string model;
  int threads = 1;
  int epochs = 3;
  std::int64_t steps = 0;  // 0: whole epochs
  std::int64_t warmup = 5;
  int infer_reps = 3;
  std::string data = "data/mnist";
  std::string fashion_data = "/usr/share/datasets/fashion-mnist";
  std::string orders;
  std::string write_orders;
};

// A program's name, its usage text (after "usage: "), and the optional flags it takes.
struct CommandLine {
  const char* program;
  const char* usage;
  bool fashion_data = false;
  bool write_orders = false;
};

[[noreturn]] inline void usage(const CommandLine& cl, const std::string& message) {
  bench::usage(cl.program, cl.usage, message);
}

// The flags into `o`; the program checks the values it depends on.
inline Options parse(const CommandLine& cl, Options o, int argc, char** argv) {
  parse_flags(cl.program, cl.usage, argc, argv, [&](const std::string& flag, auto value) {
    if (flag == "--model") o.model = value();
    else if (flag == "--threads") o.threads = std::atoi(value().c_str());
    else if (flag == "--epochs") o.epochs = std::atoi(value().c_str());
    else if (flag == "--steps") o.steps = std::atol(value().c_str());
    else if (flag == "--warmup") o.warmup = std::atol(value().c_str());
    else if (flag == "--infer-reps") o.infer_reps = std::atoi(value().c_str());
    else if (flag == "--data") o.data = value();
    else if (flag == "--fashion-data" && cl.fashion_data) o.fashion_data = value();
    else if (flag == "--orders") o.orders = value();
    else if (flag == "--write-orders" && cl.write_orders) o.write_orders = value();
    else return false;
    return true;
  });
  return o;
}

// The permutations of an orders file (written by `epoch_bench --write-orders`: K x n
// little-endian uint32), one per epoch.
inline std::vector<std::vector<std::uint32_t>> read_orders(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.empty() || raw.size() % (4 * n) != 0) throw std::runtime_error(path + " is not K x 60000 uint32");
  std::vector<std::vector<std::uint32_t>> orders(raw.size() / (4 * n), std::vector<std::uint32_t>(n));
  for (std::size_t e = 0; e < orders.size(); ++e) std::memcpy(orders[e].data(), raw.data() + e * n * 4, n * 4);
  return orders;
}

struct EpochTimes {
  std::vector<double> seconds, cpu_seconds;  // per epoch, scaled to a whole epoch
  double last_loss = 0;                      // the last epoch's mean loss per step
};

// Epochs 0 .. epochs-1, each `steps` calls step(order_of(e), s) (which returns the step's loss),
// timed and multiplied by `scale` (`scaled`: the steps are part of an epoch); prints a line per
// epoch. order_of(e) runs before the clock starts.
template <class OrderOf, class Step>
EpochTimes time_epochs(int epochs, std::int64_t steps, double scale, bool scaled, OrderOf order_of, Step step) {
  EpochTimes t;
  for (int e = 0; e < epochs; ++e) {
    decltype(auto) order = order_of(e);
    double loss_sum = 0;
    const double cpu_start = cpu_seconds();
    const auto start = clock_type::now();
    for (std::int64_t s = 0; s < steps; ++s) loss_sum += step(order, s);
    t.seconds.push_back(seconds_since(start) * scale);
    t.cpu_seconds.push_back((cpu_seconds() - cpu_start) * scale);
    t.last_loss = loss_sum / static_cast<double>(steps);
    std::printf("epoch %d: %.3f s per epoch%s, mean loss %.4f\n", e + 1, t.seconds.back(), scaled ? " (scaled)" : "",
                t.last_loss);
    std::fflush(stdout);
  }
  return t;
}

struct Inference {
  std::vector<double> seconds;  // per pass over the test set
  double accuracy = 0;          // percent correct
};

// `reps` timed calls of count_correct(), which classifies the `images` test images and returns
// how many it got right.
template <class CountCorrect>
Inference time_inference(int reps, std::int64_t images, CountCorrect count_correct) {
  Inference r;
  for (int i = 0; i < reps; ++i) {
    const auto start = clock_type::now();
    const std::int64_t correct = count_correct();
    r.seconds.push_back(seconds_since(start));
    r.accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(images);
  }
  return r;
}

// "a, b, c" with four decimals, for the RESULT line's epoch_s list.
inline std::string join_seconds(const std::vector<double>& seconds) {
  std::string all;
  for (double s : seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.4f", all.empty() ? "" : ", ", s);
    all += buf;
  }
  return all;
}

}  // namespace bench::epoch
