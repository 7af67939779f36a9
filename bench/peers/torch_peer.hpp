// What the libtorch peers of epoch_bench (torch_mlp_cnn.cpp, torch_layer_models.cpp) share: the
// idx files as byte images and int64 labels, batches as float tensors, and the run itself
// (warm-up, timed epochs, timed inference, the summary line), the same as epoch_bench's.
#pragma once

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "../epoch_harness.hpp"

namespace bench::peer {

constexpr std::int64_t kInferBatch = 1000, kPixels = 28 * 28;

inline bool exists(const std::string& path) { return std::ifstream(path).good(); }

// The whole file, through zlib when it is gzip-compressed (gzread passes plain files through).
inline std::vector<std::uint8_t> read_file(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[1 << 16];
  int got;
  while ((got = gzread(f, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + got);
  gzclose(f);
  if (got < 0) throw std::runtime_error("cannot read " + path);
  return bytes;
}

// An idx split: images as bytes (n x 784), labels as int64.
struct Split {
  std::vector<std::uint8_t> images;
  std::vector<std::int64_t> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// An idx split from DIR/PREFIX-{images-idx3,labels-idx1}-ubyte[.gz].
inline Split read_split(const std::string& dir, const std::string& prefix) {
  auto path = [&](const std::string& name) {
    const std::string raw = dir + "/" + prefix + name;
    if (exists(raw)) return raw;
    if (exists(raw + ".gz")) return raw + ".gz";
    throw std::runtime_error("cannot open " + raw + " (raw or .gz idx files expected; scripts/fetch_mnist.sh)");
  };
  Split s;
  std::vector<std::uint8_t> images = read_file(path("-images-idx3-ubyte"));
  std::vector<std::uint8_t> labels = read_file(path("-labels-idx1-ubyte"));
  if (images.size() < 16 || labels.size() < 8) throw std::runtime_error("short idx file in " + dir);
  s.images.assign(images.begin() + 16, images.end());
  for (auto it = labels.begin() + 8; it != labels.end(); ++it) s.labels.push_back(*it);
  if (s.images.size() != s.labels.size() * kPixels) throw std::runtime_error("idx sizes differ in " + dir);
  return s;
}

// Images order[first, first + count) as a (count, 1, 28, 28) float tensor in [0, 1], and their
// labels: the images stay bytes until their batch, as tapegrad's DataLoader does.
inline void make_batch(const Split& s, const std::vector<std::uint32_t>& order, std::int64_t first, std::int64_t count,
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

struct Run {
  std::int64_t steps = 0;  // timed steps per epoch
  epoch::EpochTimes epochs;
  epoch::Inference inference;
  double train_rss = 0, rss = 0;  // peak MiB after training, and at the end
};

// opt.warmup untimed steps, opt.epochs timed epochs of `module` (called through `forward`) with
// cross-entropy and `optimizer`, batches of `batch` in the orders of opt.orders (else file
// order), then opt.infer_reps timed passes over `test` in eval mode without autograd; prints the
// summary line.
inline Run run(const epoch::Options& opt, const Split& train, const Split& test, std::int64_t batch,
               torch::nn::Module& module, const std::function<torch::Tensor(torch::Tensor)>& forward,
               torch::optim::Optimizer& optimizer) {
  const std::size_t n = train.labels.size();
  std::vector<std::vector<std::uint32_t>> orders;
  if (!opt.orders.empty()) {
    orders = epoch::read_orders(opt.orders, n);
  } else {
    orders.emplace_back(n);
    std::iota(orders[0].begin(), orders[0].end(), 0u);
  }
  Run r;
  module.train();
  const std::int64_t batches = (train.size() + batch - 1) / batch;
  r.steps = opt.steps == 0 ? batches : std::min(opt.steps, batches);
  const double scale = opt.steps == 0 ? 1.0 : static_cast<double>(train.size()) / static_cast<double>(r.steps * batch);
  auto step = [&](const std::vector<std::uint32_t>& order, std::int64_t b) {
    torch::Tensor x, y;
    const std::int64_t first = b * batch;
    make_batch(train, order, first, std::min(batch, train.size() - first), x, y);
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  for (std::int64_t s = 0; s < opt.warmup; ++s) step(orders[0], s % batches);
  auto order_of = [&](int e) -> const std::vector<std::uint32_t>& { return orders[static_cast<std::size_t>(e) % orders.size()]; };
  r.epochs = epoch::time_epochs(opt.epochs, r.steps, scale, opt.steps != 0, order_of, step);

  r.train_rss = bench::peak_rss_mib();  // the training run's peak, before inference adds its batches
  {
    torch::NoGradGuard no_grad;
    module.eval();
    std::vector<std::uint32_t> identity(test.labels.size());
    std::iota(identity.begin(), identity.end(), 0u);
    r.inference = epoch::time_inference(opt.infer_reps, test.size(), [&] {
      std::int64_t correct = 0;
      for (std::int64_t first = 0; first < test.size(); first += kInferBatch) {
        torch::Tensor x, y;
        make_batch(test, identity, first, std::min(kInferBatch, test.size() - first), x, y);
        correct += forward(x).argmax(1).eq(y).sum().item<std::int64_t>();
      }
      return correct;
    });
  }
  r.rss = bench::peak_rss_mib();
  std::printf("%s, torch threads %d, OPENBLAS_NUM_THREADS=%s: %.3f s per epoch (median of %d), inference %.4f s, "
              "test accuracy %.2f%%, peak RSS %.1f MiB training, %.1f MiB with inference\n",
              opt.model.c_str(), torch::get_num_threads(), openblas_threads("(unset)"), bench::median(r.epochs.seconds),
              opt.epochs, bench::median(r.inference.seconds), r.inference.accuracy, r.train_rss, r.rss);
  return r;
}

// The last line, `RESULT {json}`, for scripts/bench_peers.sh; `extra` ("\"key\": value, " each)
// stands between "steps" and "epoch_s".
inline void print_result(const epoch::Options& opt, const Run& r, const std::string& extra) {
  std::printf("RESULT {\"framework\": \"libtorch\", \"model\": \"%s\", \"threads\": %d, \"blas_threads\": \"%s\", "
              "\"steps\": %lld, %s\"epoch_s\": [%s], \"infer_s\": %.5f, \"train_rss_mib\": %.1f, \"rss_mib\": %.1f, "
              "\"accuracy\": %.2f, \"loss\": %.4f}\n",
              opt.model.c_str(), opt.threads, openblas_threads(""), static_cast<long long>(r.steps), extra.c_str(),
              epoch::join_seconds(r.epochs.seconds).c_str(), bench::median(r.inference.seconds), r.train_rss, r.rss,
              r.inference.accuracy, r.epochs.last_loss);
}

}  // namespace bench::peer
