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
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "epoch_harness.hpp"
#include "models.hpp"

namespace {

namespace epoch = bench::epoch;

constexpr std::size_t kInferBatch = 1000;
constexpr std::uint64_t kShuffleSeed = 1;

epoch::Options parse(int argc, char** argv) {
  epoch::CommandLine cl{"epoch_bench",
                        "epoch_bench --model mlp|cnn|lstm|transformer|resnet [--threads N] [--epochs K] "
                        "[--steps S] [--warmup W] [--data DIR] [--fashion-data DIR] [--orders FILE] [--infer-reps R]\n"
                        "       epoch_bench --write-orders FILE [--epochs K]"};
  cl.fashion_data = cl.write_orders = true;
  epoch::Options defaults;
  defaults.model = "mlp";
  defaults.threads = 2;
  const epoch::Options o = epoch::parse(cl, defaults, argc, argv);
  if (!bench::is_model(o.model)) epoch::usage(cl, "--model must be mlp, cnn, lstm, transformer or resnet");
  if (o.epochs < 1 || o.infer_reps < 0) epoch::usage(cl, "--epochs must be positive and --infer-reps not negative");
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const epoch::Options opt = parse(argc, argv);
  tg::set_num_threads(opt.threads);  // first: the allocator settings then hold for the data sets too
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
  std::vector<std::vector<std::size_t>> orders;
  if (!opt.orders.empty())
    for (const auto& o : epoch::read_orders(opt.orders, train_set.size())) orders.emplace_back(o.begin(), o.end());
  auto order_of = [&](int e) {
    return orders.empty() ? shuffler.order(static_cast<std::size_t>(e)) : orders[static_cast<std::size_t>(e) % orders.size()];
  };

  tg::manual_seed(1);
  auto model = bench::make_model(opt.model);
  auto optimizer = bench::make_optimizer(opt.model, *model);
  tg::data::DataLoader<float> loader(train_set, batch_size);  // batches are taken in the given order
  const std::size_t batches = loader.num_batches();
  const std::size_t steps = opt.steps == 0 ? batches : std::min(static_cast<std::size_t>(opt.steps), batches);
  const double scale = opt.steps == 0 ? 1.0 : static_cast<double>(train_set.size()) / static_cast<double>(steps * batch_size);

  tg::data::Batch<float> batch;
  auto step = [&](const std::vector<std::size_t>& order, std::int64_t s) {
    loader.fill_batch(order, static_cast<std::size_t>(s), batch);
    return bench::train_step(*model, *optimizer, batch.images, batch.labels);
  };
  {
    const auto order = order_of(0);
    for (std::size_t s = 0; s < static_cast<std::size_t>(opt.warmup); ++s) step(order, static_cast<std::int64_t>(s % batches));
  }
  const epoch::EpochTimes times =
      epoch::time_epochs(opt.epochs, static_cast<std::int64_t>(steps), scale, opt.steps != 0, order_of, step);

  const double train_rss = bench::peak_rss_mib();  // the training run's peak, before inference adds its batches
  epoch::Inference inference;
  {
    tg::NoGradGuard no_grad;
    model->eval();
    tg::data::DataLoader<float> test_loader(test_set, kInferBatch);
    inference = epoch::time_inference(opt.infer_reps, static_cast<std::int64_t>(test_set.size()), [&] {
      std::int64_t correct = 0;
      for (auto& b : test_loader) {
        const tg::Variable<float> logits = (*model)(b.images);
        const float* p = logits.value().data();
        for (std::size_t i = 0; i < b.size(); ++i, p += 10)
          correct += static_cast<std::int64_t>(std::max_element(p, p + 10) - p) == b.labels[i];
      }
      return correct;
    });
  }
  const double rss = bench::peak_rss_mib();
  const double infer_s = bench::median(inference.seconds);
  std::printf("%s, %d threads: %.3f s per epoch (median of %d%s), inference %.4f s, test accuracy %.2f%%, peak RSS "
              "%.1f MiB training, %.1f MiB with inference\n",
              opt.model.c_str(), tg::get_num_threads(), bench::median(times.seconds), opt.epochs,
              opt.steps ? fmt::format(", {} steps each", steps).c_str() : "", infer_s, inference.accuracy, train_rss, rss);
  std::printf("RESULT {\"framework\": \"tapegrad\", \"model\": \"%s\", \"threads\": %d, \"steps\": %zu, "
              "\"batch\": %zu, \"dataset\": \"%s\", \"epoch_cpu_s\": %.4f, \"epoch_s\": [%s], \"infer_s\": %.5f, \"train_rss_mib\": %.1f, \"rss_mib\": %.1f, \"accuracy\": %.2f, \"loss\": %.4f}\n",
              opt.model.c_str(), opt.threads, steps, batch_size, fashion ? "fashion" : "mnist",
              bench::median(times.cpu_seconds), epoch::join_seconds(times.seconds).c_str(), infer_s, train_rss, rss,
              inference.accuracy, times.last_loss);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "epoch_bench: %s\n", e.what());
  return 1;
}
