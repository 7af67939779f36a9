// The libtorch peer of `epoch_bench --model lstm|transformer|resnet`: the models of
// examples/layer_models.hpp written with libtorch's C++ frontend (Debian's libtorch-dev 1.13), with
// the same shapes, batch sizes, optimisers (Adam at the examples' rates), sample order and
// measurements. Parameter initialisation is libtorch's own.
//
//   build/bench/torch_layer_models --model lstm|transformer|resnet [--threads N] [--epochs K] [--steps S]
//                               [--warmup W] [--data DIR] [--fashion-data DIR] [--orders FILE]
//                               [--infer-reps R]
//
//   lstm         LSTM(28 -> 128, batch_first) over the 28 rows, last hidden state -> Linear(128, 10);
//                Adam 2e-3, batch 64
//   transformer  16 patches of 7x7 -> Linear(49, 64) + learned positions (1, 16, 64), two pre-norm
//                encoder layers (d_model 64, 4 heads, feed-forward 128, ReLU, no dropout), mean over
//                the tokens, LayerNorm, Linear(64, 10); Adam 1e-3, batch 128. libtorch 1.13's C++
//                TransformerEncoderLayer has no norm_first and its MultiheadAttention no
//                batch_first, so the layer is written out (x + attn(norm1 x), then x + ff(norm2 x))
//                on (tokens, batch, features), which is what PyTorch does inside for batch_first.
//   resnet       conv 1->16 3x3 + BN + ReLU, residual blocks (16,16,1) (16,32,2) (32,64,2) (64,64,1)
//                of Conv-BN-ReLU-Conv-BN plus the input (a strided 1x1 Conv-BN where the shape
//                changes), ReLU; adaptive average pool to 1x1, Linear(64, 10); bias-free convolutions;
//                Adam 2e-3, batch 128, on Fashion-MNIST (MNIST when --fashion-data has no files)
//
// --threads sets torch::set_num_threads; OpenBLAS takes its threads from OPENBLAS_NUM_THREADS.
// Data and orders as in torch_mlp_cnn (idx files raw or .gz). The last line is `RESULT {json}`.
#include <sys/resource.h>
#include <torch/torch.h>
#include <zlib.h>

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

constexpr std::int64_t kInferBatch = 1000, kPixels = 28 * 28;

struct Options {
  std::string model = "lstm";
  int threads = 1;
  int epochs = 3;
  std::int64_t steps = 0;
  std::int64_t warmup = 5;
  int infer_reps = 3;
  std::string data = "data/mnist";
  std::string fashion_data = "/usr/share/datasets/fashion-mnist";
  std::string orders;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr,
               "torch_layer_models: %s\nusage: torch_layer_models --model lstm|transformer|resnet [--threads N] [--epochs K] "
               "[--steps S] [--warmup W] [--data DIR] [--fashion-data DIR] [--orders FILE] [--infer-reps R]\n",
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
    else if (arg == "--fashion-data") o.fashion_data = value();
    else if (arg == "--orders") o.orders = value();
    else usage("unknown argument " + arg);
  }
  if (o.model != "lstm" && o.model != "transformer" && o.model != "resnet") usage("--model must be lstm, transformer or resnet");
  if (o.epochs < 1 || o.infer_reps < 1) usage("--epochs and --infer-reps must be positive");
  return o;
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// The whole file, through zlib when it is gzip-compressed (gzread passes plain files through).
std::vector<std::uint8_t> read_file(const std::string& path) {
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

struct Split {
  std::vector<std::uint8_t> images;
  std::vector<std::int64_t> labels;
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// An idx split from DIR/PREFIX-{images-idx3,labels-idx1}-ubyte[.gz].
Split read_split(const std::string& dir, const std::string& prefix) {
  auto path = [&](const std::string& name) {
    const std::string raw = dir + "/" + prefix + name;
    return exists(raw) ? raw : raw + ".gz";
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

namespace nn = torch::nn;

struct RowLSTMImpl : nn::Module {
  nn::LSTM lstm{nullptr};
  nn::Linear classifier{nullptr};
  RowLSTMImpl() {
    lstm = register_module("lstm", nn::LSTM(nn::LSTMOptions(28, 128).batch_first(true)));
    classifier = register_module("classifier", nn::Linear(128, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    auto outputs = std::get<0>(lstm->forward(x.reshape({x.size(0), 28, 28})));  // (N, 28, 128)
    return classifier->forward(outputs.select(1, 27));
  }
};
TORCH_MODULE(RowLSTM);

// A pre-norm encoder layer on (tokens, batch, features).
struct PreNormEncoderLayerImpl : nn::Module {
  nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  nn::MultiheadAttention attention{nullptr};
  nn::Linear ff1{nullptr}, ff2{nullptr};
  PreNormEncoderLayerImpl(std::int64_t d_model, std::int64_t heads, std::int64_t feedforward) {
    norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({d_model}).eps(1e-5)));
    norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({d_model}).eps(1e-5)));
    attention = register_module("self_attn", nn::MultiheadAttention(nn::MultiheadAttentionOptions(d_model, heads)));
    ff1 = register_module("linear1", nn::Linear(d_model, feedforward));
    ff2 = register_module("linear2", nn::Linear(feedforward, d_model));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor h = norm1->forward(x);
    x = x + std::get<0>(attention->forward(h, h, h, /*key_padding_mask=*/{}, /*need_weights=*/false));
    return x + ff2->forward(torch::relu(ff1->forward(norm2->forward(x))));
  }
};
TORCH_MODULE(PreNormEncoderLayer);

struct PatchTransformerImpl : nn::Module {
  nn::Linear embed{nullptr}, classifier{nullptr};
  torch::Tensor positions;
  std::vector<PreNormEncoderLayer> encoders;
  nn::LayerNorm norm{nullptr};
  PatchTransformerImpl() {
    embed = register_module("embed", nn::Linear(49, 64));
    positions = register_parameter("positions", torch::randn({1, 16, 64}) * 0.02);
    for (int i = 0; i < 2; ++i)
      encoders.push_back(register_module("encoder" + std::to_string(i), PreNormEncoderLayer(64, 4, 128)));
    norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({64})));
    classifier = register_module("classifier", nn::Linear(64, 10));
  }
  torch::Tensor forward(torch::Tensor x) {
    const std::int64_t n = x.size(0);
    torch::Tensor patches = x.reshape({n, 4, 7, 4, 7}).permute({0, 1, 3, 2, 4}).reshape({n, 16, 49});
    torch::Tensor tokens = (embed->forward(patches) + positions).transpose(0, 1);  // (16, N, 64)
    for (auto& encoder : encoders) tokens = encoder->forward(tokens);
    return classifier->forward(norm->forward(tokens.mean(0)));
  }
};
TORCH_MODULE(PatchTransformer);

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

struct ResidualBlockImpl : nn::Module {
  nn::Sequential main{nullptr}, shortcut{nullptr};
  ResidualBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride) {
    main = register_module("main", nn::Sequential(conv(in, out, 3, stride, 1), nn::BatchNorm2d(out), nn::ReLU(),
                                                  conv(out, out, 3, 1, 1), nn::BatchNorm2d(out)));
    if (stride != 1 || in != out)
      shortcut = register_module("shortcut", nn::Sequential(conv(in, out, 1, stride, 0), nn::BatchNorm2d(out)));
  }
  torch::Tensor forward(torch::Tensor x) {
    return torch::relu(main->forward(x) + (shortcut ? shortcut->forward(x) : x));
  }
};
TORCH_MODULE(ResidualBlock);

nn::Sequential make_resnet() {
  return nn::Sequential(conv(1, 16, 3, 1, 1), nn::BatchNorm2d(16), nn::ReLU(), ResidualBlock(16, 16, 1),
                        ResidualBlock(16, 32, 2), ResidualBlock(32, 64, 2), ResidualBlock(64, 64, 1),
                        nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), nn::Flatten(), nn::Linear(64, 10));
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

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  torch::set_num_threads(opt.threads);
  torch::manual_seed(1);
  const bool fashion = opt.model == "resnet" && (exists(opt.fashion_data + "/train-images-idx3-ubyte.gz") ||
                                                 exists(opt.fashion_data + "/train-images-idx3-ubyte"));
  if (opt.model == "resnet" && !fashion)
    std::printf("note: no Fashion-MNIST in %s; timing the ResNet on MNIST images\n", opt.fashion_data.c_str());
  const std::string dir = fashion ? opt.fashion_data : opt.data;
  const Split train = read_split(dir, "train"), test = read_split(dir, "t10k");
  const std::size_t n = train.labels.size();
  std::vector<std::vector<std::uint32_t>> orders;
  if (!opt.orders.empty()) {
    orders = read_orders(opt.orders, n);
  } else {
    orders.emplace_back(n);
    std::iota(orders[0].begin(), orders[0].end(), 0u);
  }

  std::shared_ptr<nn::Module> module;
  std::function<torch::Tensor(torch::Tensor)> forward;
  std::int64_t batch = 128;
  double lr = 1e-3;
  if (opt.model == "lstm") {
    RowLSTM m;
    module = m.ptr(), forward = [m](torch::Tensor x) mutable { return m->forward(x); }, batch = 64, lr = 2e-3;
  } else if (opt.model == "transformer") {
    PatchTransformer m;
    module = m.ptr(), forward = [m](torch::Tensor x) mutable { return m->forward(x); }, lr = 1e-3;
  } else {
    nn::Sequential m = make_resnet();
    module = m.ptr(), forward = [m](torch::Tensor x) mutable { return m->forward(x); }, lr = 2e-3;
  }
  torch::optim::Adam optimizer(module->parameters(), torch::optim::AdamOptions(lr));
  module->train();
  const std::int64_t batches = (train.size() + batch - 1) / batch;
  const std::int64_t steps = opt.steps == 0 ? batches : std::min(opt.steps, batches);
  const double scale = opt.steps == 0 ? 1.0 : static_cast<double>(train.size()) / static_cast<double>(steps * batch);
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
  std::vector<double> epoch_seconds, epoch_cpu_seconds;
  double last_loss = 0;
  for (int e = 0; e < opt.epochs; ++e) {
    const auto& order = orders[static_cast<std::size_t>(e) % orders.size()];
    double loss_sum = 0;
    const double cpu_start = cpu_seconds();
    const auto start = clock_type::now();
    for (std::int64_t s = 0; s < steps; ++s) loss_sum += step(order, s);
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
    torch::NoGradGuard no_grad;
    module->eval();
    std::vector<std::uint32_t> identity(test.labels.size());
    std::iota(identity.begin(), identity.end(), 0u);
    for (int r = 0; r < opt.infer_reps; ++r) {
      std::int64_t correct = 0;
      const auto start = clock_type::now();
      for (std::int64_t first = 0; first < test.size(); first += kInferBatch) {
        torch::Tensor x, y;
        make_batch(test, identity, first, std::min(kInferBatch, test.size() - first), x, y);
        correct += forward(x).argmax(1).eq(y).sum().item<std::int64_t>();
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
              "\"steps\": %lld, \"batch\": %lld, \"dataset\": \"%s\", \"epoch_cpu_s\": %.4f, \"epoch_s\": [%s], "
              "\"infer_s\": %.5f, \"train_rss_mib\": %.1f, \"rss_mib\": %.1f, \"accuracy\": %.2f, \"loss\": %.4f}\n",
              opt.model.c_str(), opt.threads, blas_env ? blas_env : "", static_cast<long long>(steps),
              static_cast<long long>(batch), fashion ? "fashion" : "mnist", median(epoch_cpu_seconds), all.c_str(),
              median(infer_seconds), train_rss, rss, accuracy, last_loss);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_layer_models: %s\n", e.what());
  return 1;
}
