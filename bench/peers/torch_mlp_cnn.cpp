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
// DataLoader does (bench/peers/torch_peer.hpp). The last line is `RESULT {json}`.
#include <torch/torch.h>

#include <cstdio>
#include <memory>
#include <string>

#include "torch_peer.hpp"

namespace {

constexpr std::int64_t kBatch = 128;

bench::epoch::Options parse(int argc, char** argv) {
  const bench::epoch::CommandLine cl{"torch_mlp_cnn",
                                     "torch_mlp_cnn --model mlp|cnn [--threads N] [--epochs K] [--steps S] [--warmup W] "
                                     "[--data DIR] [--orders FILE] [--infer-reps R]"};
  bench::epoch::Options defaults;
  defaults.model = "mlp";
  const bench::epoch::Options o = bench::epoch::parse(cl, defaults, argc, argv);
  if (o.model != "mlp" && o.model != "cnn") bench::epoch::usage(cl, "--model must be mlp or cnn");
  if (o.epochs < 1 || o.infer_reps < 1) bench::epoch::usage(cl, "--epochs and --infer-reps must be positive");
  return o;
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

}  // namespace

int main(int argc, char** argv) try {
  const bench::epoch::Options opt = parse(argc, argv);
  torch::set_num_threads(opt.threads);
  torch::manual_seed(1);
  const bench::peer::Split train = bench::peer::read_split(opt.data, "train"), test = bench::peer::read_split(opt.data, "t10k");

  const bool cnn = opt.model == "cnn";
  torch::nn::Sequential model = cnn ? make_cnn() : make_mlp();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (cnn) {
    optimizer = std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  } else {
    optimizer = std::make_unique<torch::optim::SGD>(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  }
  const bench::peer::Run r = bench::peer::run(
      opt, train, test, kBatch, *model, [&](torch::Tensor x) { return model->forward(x); }, *optimizer);
  bench::peer::print_result(opt, r, "");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_mlp_cnn: %s\n", e.what());
  return 1;
}
