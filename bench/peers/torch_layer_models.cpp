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
#include <torch/torch.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "torch_peer.hpp"

namespace {

bench::epoch::Options parse(int argc, char** argv) {
  bench::epoch::CommandLine cl{"torch_layer_models",
                               "torch_layer_models --model lstm|transformer|resnet [--threads N] [--epochs K] "
                               "[--steps S] [--warmup W] [--data DIR] [--fashion-data DIR] [--orders FILE] [--infer-reps R]"};
  cl.fashion_data = true;
  bench::epoch::Options defaults;
  defaults.model = "lstm";
  const bench::epoch::Options o = bench::epoch::parse(cl, defaults, argc, argv);
  if (o.model != "lstm" && o.model != "transformer" && o.model != "resnet") bench::epoch::usage(cl, "--model must be lstm, transformer or resnet");
  if (o.epochs < 1 || o.infer_reps < 1) bench::epoch::usage(cl, "--epochs and --infer-reps must be positive");
  return o;
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

}  // namespace

int main(int argc, char** argv) try {
  const bench::epoch::Options opt = parse(argc, argv);
  torch::set_num_threads(opt.threads);
  torch::manual_seed(1);
  const bool fashion = opt.model == "resnet" && (bench::peer::exists(opt.fashion_data + "/train-images-idx3-ubyte.gz") ||
                                                 bench::peer::exists(opt.fashion_data + "/train-images-idx3-ubyte"));
  if (opt.model == "resnet" && !fashion)
    std::printf("note: no Fashion-MNIST in %s; timing the ResNet on MNIST images\n", opt.fashion_data.c_str());
  const std::string dir = fashion ? opt.fashion_data : opt.data;
  const bench::peer::Split train = bench::peer::read_split(dir, "train"), test = bench::peer::read_split(dir, "t10k");

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
  const bench::peer::Run r = bench::peer::run(opt, train, test, batch, *module, forward, optimizer);
  char extra[128];
  std::snprintf(extra, sizeof extra, "\"batch\": %lld, \"dataset\": \"%s\", \"epoch_cpu_s\": %.4f, ",
                static_cast<long long>(batch), fashion ? "fashion" : "mnist", bench::median(r.epochs.cpu_seconds));
  bench::peer::print_result(opt, r, extra);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_layer_models: %s\n", e.what());
  return 1;
}
