// The libtorch peer of bench/epoch_bench.cpp: the same MNIST MLP (SGD lr 0.01, momentum 0.9) and
// CNN (Adam lr 1e-3), batch 128, the same sample order, the same measurements, written with
// libtorch's C++ frontend (Debian's libtorch-dev 1.13).
//
//   build/bench/torch_mlp_cnn --model mlp|cnn [--threads N] [--epochs K] [--steps S] [--warmup W]
//                             [--data DIR] [--orders FILE] [--infer-reps R]
//
// --threads sets torch::set_num_threads (the intra-op pool); OpenBLAS, which libtorch calls for
// linear layers, takes its threads from OPENBLAS_NUM_THREADS. The orders file is written by
// `epoch_bench --write-orders` (K x 60000 little-endian uint32); without it the data is taken in
// file order. The images stay bytes and each batch is converted to float / 255, as tapegrad's
// DataLoader does. The last line is `RESULT {json}`.
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::int64_t kBatch = 128, kInferBatch = 1000, kPixels = 28 * 28;

struct Options {
  std::string model = "mlp";
  int threads = 1;
  int epochs = 3;
  std::int64_t steps = 0;
  std::int64_t warmup = 5;
  int infer_reps = 3;
  std::string data = "data/mnist";
  std::string orders;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "torch_mlp_cnn: %s\nusage: torch_mlp_cnn --model mlp|cnn [--threads N] [--epochs K] [--steps S] "
               "[--warmup W] [--data DIR] [--orders FILE] [--infer-reps R]\n",
               message.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--model") o.model = value();
    else if (arg == "--threads") o.threads = std::atoi(value().c_str());
    else if (arg == "--epochs") o.epochs = std::atoi(value().c_str());
    else if (arg == "--steps") o.steps = std::atol(value().c_str());
    else if (arg == "--warmup") o.warmup = std::atol(value().c_str());
    else if (arg == "--infer-reps") o.infer_reps = std::atoi(value().c_str());
    else if (arg == "--data") o.data = value();
    else if (arg == "--orders") o.orders = value();
    else usage("unknown argument " + arg);
  }
  if (o.model != "mlp" && o.model != "cnn") usage("--model must be mlp or cnn");
  if (o.epochs < 1 || o.infer_reps < 1) usage("--epochs and --infer-reps must be positive");
  return o;
}

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + " (raw idx files expected; scripts/fetch_mnist.sh)");
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An idx split: images as bytes (n x 784), labels as int64.
struct Split {
  std::vector<std::uint8_t> images;
  std::vector<std::int64_t> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

Split read_split(const std::string& dir, const std::string& prefix) {
  Split s;
  std::vector<std::uint8_t> images = read_file(dir + "/" + prefix + "-images-idx3-ubyte");
  std::vector<std::uint8_t> labels = read_file(dir + "/" + prefix + "-labels-idx1-ubyte");
  if (images.size() < 16 || labels.size() < 8) throw std::runtime_error("short idx file in " + dir);
  s.images.assign(images.begin() + 16, images.end());
  for (auto it = labels.begin() + 8; it != labels.end(); ++it) s.labels.push_back(*it);
  if (s.images.size() != s.labels.size() * kPixels) throw std::runtime_error("idx sizes differ in " + dir);
  return s;
}

std::vector<std::vector<std::uint32_t>> read_orders(const std::string& path, std::size_t n) {
  std::vector<std::uint8_t> raw = read_file(path);
  if (raw.empty() || raw.size() % (4 * n) != 0) throw std::runtime_error(path + " is not K x 60000 uint32");
  std::vector<std::vector<std::uint32_t>> orders(raw.size() / (4 * n), std::vector<std::uint32_t>(n));
  for (std::size_t e = 0; e < orders.size(); ++e) std::memcpy(orders[e].data(), raw.data() + e * n * 4, n * 4);
  return orders;
}

// Images order[first, first + count) as a (count, 1, 28, 28) float tensor in [0, 1], and their labels.
void make_batch(const Split& s, const std::vector<std::uint32_t>& order, std::int64_t first, std::int64_t count,
                torch::Tensor& images, torch::Tensor& labels) {
  images = torch::empty({count, 1, 28, 28}, torch::kFloat32);
  labels = torch::empty({count}, torch::kInt64);
  float* x = images.data_ptr<float>();
  std::int64_t* y = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < count; ++i) {
    const std::uint32_t k = order[static_cast<std::size_t>(first + i)];
    const std::uint8_t* src = s.images.data() + static_cast<std::size_t>(k) * kPixels;
    for (std::int64_t p = 0; p < kPixels; ++p) x[i * kPixels + p] = static_cast<float>(src[p]) / 255.0f;
    y[i] = s.labels[k];
  }
}

torch::nn::Sequential make_mlp() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

torch::nn::Sequential make_cnn() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(32, 64, 3)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Flatten(), nn::Linear(1600, 128), nn::ReLU(), nn::Linear(128, 10));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  torch::set_num_threads(opt.threads);
  torch::manual_seed(1);
  const Split train = read_split(opt.data, "train"), test = read_split(opt.data, "t10k");
  const std::size_t n = train.labels.size();
  std::vector<std::vector<std::uint32_t>> orders;
  if (!opt.orders.empty()) {
    orders = read_orders(opt.orders, n);
  } else {
    orders.emplace_back(n);
    std::iota(orders[0].begin(), orders[0].end(), 0u);
  }

  const bool cnn = opt.model == "cnn";
  torch::nn::Sequential model = cnn ? make_cnn() : make_mlp();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (cnn) {
    optimizer = std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  }
  model->train();
  const std::int64_t batches = (train.size() + kBatch - 1) / kBatch;
  const std::int64_t steps = opt.steps == 0 ? batches : std::min(opt.steps, batches);
  const double scale = opt.steps == 0 ? 1.0 : static_cast<double>(train.size()) / static_cast<double>(steps * kBatch);
  auto step = [&](const std::vector<std::uint32_t>& order, std::int64_t b) {
    torch::Tensor x, y;
    const std::int64_t first = b * kBatch;
    make_batch(train, order, first, std::min(kBatch, train.size() - first), x, y);
    optimizer->zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer->step();
    return loss.item<float>();
  };

  for (std::int64_t s = 0; s < opt.warmup; ++s) step(orders[0], s % batches);
  std::vector<double> epoch_seconds;
  double last_loss = 0;
  for (int e = 0; e < opt.epochs; ++e) {
    const auto& order = orders[static_cast<std::size_t>(e) % orders.size()];
    double loss_sum = 0;
    const auto start = clock_type::now();
    for (std::int64_t s = 0; s < steps; ++s) loss_sum += step(order, s);
    epoch_seconds.push_back(seconds_since(start) * scale);
    last_loss = loss_sum / static_cast<double>(steps);
    std::printf("epoch %d: %.3f s per epoch%s, mean loss %.4f\n", e + 1, epoch_seconds.back(),
                opt.steps ? " (scaled)" : "", last_loss);
    std::fflush(stdout);
  }

  const double train_rss = peak_rss_mib();  // the training run's peak, before inference adds its batches
  std::vector<double> infer_seconds;
  double accuracy = 0;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    std::vector<std::uint32_t> identity(test.labels.size());
    std::iota(identity.begin(), identity.end(), 0u);
    for (int r = 0; r < opt.infer_reps; ++r) {
      std::int64_t correct = 0;
      const auto start = clock_type::now();
      for (std::int64_t first = 0; first < test.size(); first += kInferBatch) {
        torch::Tensor x, y;
        make_batch(test, identity, first, std::min(kInferBatch, test.size() - first), x, y);
        correct += model->forward(x).argmax(1).eq(y).sum().item<std::int64_t>();
      }
      infer_seconds.push_back(seconds_since(start));
      accuracy = 100.0 * static_cast<double>(correct) / static_cast<double>(test.size());
    }
  }
  const double rss = peak_rss_mib();
  const char* blas_env = std::getenv("OPENBLAS_NUM_THREADS");
  std::printf("%s, torch threads %d, OPENBLAS_NUM_THREADS=%s: %.3f s per epoch (median of %d), inference %.4f s, "
              "test accuracy %.2f%%, peak RSS %.1f MiB training, %.1f MiB with inference\n",
              opt.model.c_str(), torch::get_num_threads(), blas_env ? blas_env : "(unset)", median(epoch_seconds),
              opt.epochs, median(infer_seconds), accuracy, train_rss, rss);
  std::string all;
  for (double s : epoch_seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.4f", all.empty() ? "" : ", ", s);
    all += buf;
  }
  std::printf("RESULT {\"framework\": \"libtorch\", \"model\": \"%s\", \"threads\": %d, \"blas_threads\": \"%s\", "
              "\"steps\": %lld, \"epoch_s\": [%s], \"infer_s\": %.5f, \"train_rss_mib\": %.1f, "
              "\"rss_mib\": %.1f, \"accuracy\": %.2f, \"loss\": %.4f}\n",
              opt.model.c_str(), opt.threads, blas_env ? blas_env : "", static_cast<long long>(steps), all.c_str(),
              median(infer_seconds), train_rss, rss, accuracy, last_loss);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_mlp_cnn: %s\n", e.what());
  return 1;
}
