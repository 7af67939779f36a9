// tapegrad's side of the peer comparison (scripts/bench_peers.sh): trains one model of
// bench/models.hpp (the MNIST MLP, CNN, row LSTM or patch transformer, or the Fashion-MNIST
// ResNet), at its example's batch size, and reports seconds per training epoch, seconds for inference over the 10,000
// test images, and the process's peak resident memory after training and at the end.
//
//   build/bench/epoch_bench --model mlp|cnn|lstm|transformer|resnet [--threads N] [--epochs K]
//                           [--steps S] [--warmup W] [--data DIR] [--fashion-data DIR]
//                           [--orders FILE] [--infer-reps R]
//   build/bench/epoch_bench --write-orders FILE [--epochs K]
//
// Each of the K timed epochs visits the training set in the order of a permutation: epoch e
// uses permutation e of FILE (--orders, written by --write-orders: K x 60000 little-endian uint32,
// tg::data::DataLoader's own shuffle with seed 1) or, without FILE, the DataLoader's order(e)
// directly, which is the same. With --steps S only the first S batches of each epoch run and
// the time is scaled to a whole epoch (x 60000 / (S x batch)). The ResNet reads Fashion-MNIST
// from --fashion-data (default Debian's /usr/share/datasets/fashion-mnist; raw or .gz idx files);
// when that folder has no training images it times MNIST's instead and says so (the time does
// not depend on the labels). W warm-up steps come first, untimed.
// Inference runs in eval mode without a tape, batches of 1000, R times; the median is reported.
// The last line is `RESULT {json}` for scripts.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "models.hpp"

namespace {

constexpr std::size_t kInferBatch = 1000;
constexpr std::uint64_t kShuffleSeed = 1;

struct Options {
  std::string model = "mlp";
  int threads = 2;
  int epochs = 3;
  std::size_t steps = 0;  // 0: whole epochs
  std::size_t warmup = 5;
  int infer_reps = 3;
  std::string data = "data/mnist";
  std::string fashion_data = "/usr/share/datasets/fashion-mnist";
  std::string orders;
  std::string write_orders;
};

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr,
               "epoch_bench: %s\nusage: epoch_bench --model mlp|cnn|lstm|transformer|resnet [--threads N] [--epochs K] "
               "[--steps S] [--warmup W] [--data DIR] [--fashion-data DIR] [--orders FILE] [--infer-reps R]\n"
               "       epoch_bench --write-orders FILE [--epochs K]\n",
               message);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--model") o.model = value();
    else if (arg == "--threads") o.threads = std::atoi(value().c_str());
    else if (arg == "--epochs") o.epochs = std::atoi(value().c_str());
    else if (arg == "--steps") o.steps = static_cast<std::size_t>(std::atol(value().c_str()));
    else if (arg == "--warmup") o.warmup = static_cast<std::size_t>(std::atol(value().c_str()));
    else if (arg == "--infer-reps") o.infer_reps = std::atoi(value().c_str());
    else if (arg == "--data") o.data = value();
    else if (arg == "--fashion-data") o.fashion_data = value();
    else if (arg == "--orders") o.orders = value();
    else if (arg == "--write-orders") o.write_orders = value();
    else usage(("unknown argument " + arg).c_str());
  }
  if (!bench::is_model(o.model)) usage("--model must be mlp, cnn, lstm, transformer or resnet");
  if (o.epochs < 1 || o.infer_reps < 0) usage("--epochs must be positive and --infer-reps not negative");
  return o;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// User plus system time of all the process's threads so far: on a loaded machine it tells
// work from waiting (spinning threads count as work).
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::vector<std::vector<std::size_t>> read_orders(const std::string& path, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("epoch_bench: cannot open " + path);
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  std::vector<std::uint32_t> raw(bytes / 4);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size() * 4));
  if (bytes == 0 || bytes % (4 * n) != 0) throw std::runtime_error("epoch_bench: " + path + " is not K x 60000 uint32");
  std::vector<std::vector<std::size_t>> orders(raw.size() / n);
  for (std::size_t e = 0; e < orders.size(); ++e) orders[e].assign(raw.begin() + e * n, raw.begin() + (e + 1) * n);
  return orders;
}

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  // The ResNet's data set is Fashion-MNIST when it is there; the orders are permutations of
  // 60000 either way.
  const bool fashion = opt.model == "resnet" && std::ifstream(opt.fashion_data + "/train-images-idx3-ubyte.gz").good();
  if (opt.model == "resnet" && !fashion)
    std::printf("note: no Fashion-MNIST in %s; timing the ResNet on MNIST images\n", opt.fashion_data.c_str());
  const std::string data_dir = fashion ? opt.fashion_data : opt.data;
  const auto kind = fashion ? tg::data::MnistKind::fashion : tg::data::MnistKind::mnist;
  const tg::data::MNIST train_set(data_dir, tg::data::Split::train, kind);
  const std::size_t batch_size = bench::batch_size(opt.model);
  tg::data::DataLoader<float> shuffler(train_set, batch_size, /*shuffle=*/true, kShuffleSeed);

  if (!opt.write_orders.empty()) {
    std::ofstream out(opt.write_orders, std::ios::binary | std::ios::trunc);
    for (int e = 0; e < opt.epochs; ++e) {
      const auto order = shuffler.order(static_cast<std::size_t>(e));
      std::vector<std::uint32_t> o(order.begin(), order.end());
      out.write(reinterpret_cast<const char*>(o.data()), static_cast<std::streamsize>(o.size() * 4));
    }
    if (!out.flush()) throw std::runtime_error("epoch_bench: cannot write " + opt.write_orders);
    std::printf("wrote %d orders of %zu samples to %s\n", opt.epochs, train_set.size(), opt.write_orders.c_str());
    return 0;
  }

  const tg::data::MNIST test_set(data_dir, tg::data::Split::test, kind);
  tg::set_num_threads(opt.threads);
  std::vector<std::vector<std::size_t>> orders;
  if (!opt.orders.empty()) orders = read_orders(opt.orders, train_set.size());
  auto order_of = [&](int e) {
    return orders.empty() ? shuffler.order(static_cast<std::size_t>(e)) : orders[static_cast<std::size_t>(e) % orders.size()];
  };

  tg::manual_seed(1);
  auto model = bench::make_model(opt.model);
  auto optimizer = bench::make_optimizer(opt.model, *model);
  tg::data::DataLoader<float> loader(train_set, batch_size);  // batches are taken in the given order
  const std::size_t batches = loader.num_batches();
  const std::size_t steps = opt.steps == 0 ? batches : std::min(opt.steps, batches);
  const double scale = opt.steps == 0 ? 1.0 : static_cast<double>(train_set.size()) / static_cast<double>(steps * batch_size);

  tg::data::Batch<float> batch;
  {
    const auto order = order_of(0);
    for (std::size_t s = 0; s < opt.warmup; ++s) {
      loader.fill_batch(order, s % batches, batch);
      bench::train_step(*model, *optimizer, batch.images, batch.labels);
    }
  }
  std::vector<double> epoch_seconds, epoch_cpu_seconds;
  double last_loss = 0;
  for (int e = 0; e < opt.epochs; ++e) {
    const auto order = order_of(e);
    double loss_sum = 0;
    const double cpu_start = cpu_seconds();
    const auto start = clock_type::now();
    for (std::size_t s = 0; s < steps; ++s) {
      loader.fill_batch(order, s, batch);
      loss_sum += bench::train_step(*model, *optimizer, batch.images, batch.labels);
    }
    epoch_seconds.push_back(seconds_since(start) * scale);
    epoch_cpu_seconds.push_back((cpu_seconds() - cpu_start) * scale);
    last_loss = loss_sum / static_cast<double>(steps);
    std::printf("epoch %d: %.3f s per epoch%s, mean loss %.4f\n", e + 1, epoch_seconds.back(),
                opt.steps ? " (scaled)" : "", last_loss);
    std::fflush(stdout);
  }

  const double train_rss = peak_rss_mib();  // the training run's peak, before inference adds its batches
  std::vector<double> infer_seconds;
  double accuracy = 0;
  {
    tg::NoGradGuard no_grad;
    model->eval();
    tg::data::DataLoader<float> test_loader(test_set, kInferBatch);
    for (int r = 0; r < opt.infer_reps; ++r) {
      std::size_t correct = 0;
      const auto start = clock_type::now();
      for (auto& b : test_loader) {
        const tg::Variable<float> logits = (*model)(b.images);
        const float* p = logits.value().data();
        for (std::size_t i = 0; i < b.size(); ++i, p += 10)
          correct += static_cast<std::int64_t>(std::max_element(p, p + 10) - p) == b.labels[i];
      }
      infer_seconds.push_back(seconds_since(start));
      accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(test_set.size());
    }
  }
  const double rss = peak_rss_mib();
  std::printf("%s, %d threads: %.3f s per epoch (median of %d%s), inference %.4f s, test accuracy %.2f%%, peak RSS "
              "%.1f MiB training, %.1f MiB with inference\n",
              opt.model.c_str(), tg::get_num_threads(), median(epoch_seconds), opt.epochs,
              opt.steps ? fmt::format(", {} steps each", steps).c_str() : "", median(infer_seconds), accuracy,
              train_rss, rss);
  std::string all;
  for (double s : epoch_seconds) all += (all.empty() ? "" : ", ") + fmt::format("{:.4f}", s);
  std::printf("RESULT {\"framework\": \"tapegrad\", \"model\": \"%s\", \"threads\": %d, \"steps\": %zu, "
              "\"batch\": %zu, \"dataset\": \"%s\", \"epoch_cpu_s\": %.4f, \"epoch_s\": [%s], \"infer_s\": %.5f, \"train_rss_mib\": %.1f, \"rss_mib\": %.1f, \"accuracy\": %.2f, \"loss\": %.4f}\n",
              opt.model.c_str(), opt.threads, steps, batch_size, fashion ? "fashion" : "mnist", median(epoch_cpu_seconds), all.c_str(), median(infer_seconds), train_rss, rss, accuracy,
              last_loss);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "epoch_bench: %s\n", e.what());
  return 1;
}
