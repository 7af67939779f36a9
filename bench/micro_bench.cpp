// Google Benchmark micro-benchmarks of tapegrad's hot operations at the shapes of the MNIST MLP
// (784-256-128-10) and CNN (examples/mnist_cnn.cpp), batch 128, float32:
//
//   build/bench/tapegrad_micro_bench [--benchmark_filter=conv] [--threads N]
//
// --threads N (default 2) goes to tg::set_num_threads before anything runs. Each benchmark
// reports GFLOP/s where it is a GEMM or a convolution (counter "FLOPS", forward + backward).
#include <benchmark/benchmark.h>

#include "ops/detail/gemm.hpp"  // the internal GEMM wrapper, timed on its own
#include <tapegrad/tapegrad.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "models.hpp"

namespace {

constexpr std::size_t kBatch = 128;

tg::Tensor<float> random_tensor(const tg::Shape& shape, std::uint64_t seed, float lo = -1, float hi = 1) {
  tg::Generator gen(seed);
  tg::Tensor<float> t = tg::Tensor<float>::from_shape(shape);
  for (auto& e : t) e = static_cast<float>(gen.uniform(lo, hi));
  return t;
}

tg::Labels random_labels(std::size_t n, std::uint64_t seed) {
  tg::Generator gen(seed);
  tg::Labels labels(n);
  for (auto& l : labels) l = static_cast<std::int64_t>(gen.uniform(0, 10)) % 10;
  return labels;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iteration * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

// ---- GEMM ------------------------------------------------------------------------------------
// The MLP's layers as matmul(a, b) with a (M, K), b (K, N): args M, K, N.
void matmul_shapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 784, 256})->Args({128, 256, 128})->Args({128, 128, 10});
}

// Forward only (nothing needs a gradient, so nothing is recorded).
void BM_matmul_forward(benchmark::State& state) {
  const auto M = static_cast<std::size_t>(state.range(0)), K = static_cast<std::size_t>(state.range(1)),
             N = static_cast<std::size_t>(state.range(2));
  tg::Variable<float> a(random_tensor({M, K}, 1)), b(random_tensor({K, N}, 2));
  for (auto _ : state) {
    tg::Variable<float> c = tg::matmul(a, b);
    benchmark::DoNotOptimize(c.value().data());
  }
  set_flops(state, 2.0 * M * N * K);
}
BENCHMARK(BM_matmul_forward)->Apply(matmul_shapes)->ArgNames({"M", "K", "N"})->UseRealTime();

// Forward and backward: c = a·b, then dA = dC·bᵀ and dB = aᵀ·dC (three GEMMs).
void BM_matmul_forward_backward(benchmark::State& state) {
  const auto M = static_cast<std::size_t>(state.range(0)), K = static_cast<std::size_t>(state.range(1)),
             N = static_cast<std::size_t>(state.range(2));
  tg::Variable<float> a(random_tensor({M, K}, 1), true), b(random_tensor({K, N}, 2), true);
  const tg::Tensor<float> seed = random_tensor({M, N}, 3);
  for (auto _ : state) {
    a.zero_grad();
    b.zero_grad();
    tg::Variable<float> c = tg::matmul(a, b);
    c.backward(seed);
    benchmark::DoNotOptimize(b.grad().data());
  }
  set_flops(state, 3 * 2.0 * M * N * K);
}
BENCHMARK(BM_matmul_forward_backward)->Apply(matmul_shapes)->ArgNames({"M", "K", "N"})->UseRealTime();

// The raw kernel with the transpose flags the backward passes use, on preallocated buffers.
// args: M, N, K, trans_a, trans_b (op(A) is (M, K), op(B) is (K, N)).
void BM_gemm_kernel(benchmark::State& state) {
  const auto M = static_cast<std::size_t>(state.range(0)), N = static_cast<std::size_t>(state.range(1)),
             K = static_cast<std::size_t>(state.range(2));
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0;
  const tg::Tensor<float> A = random_tensor({M * K}, 1), B = random_tensor({K * N}, 2);
  std::vector<float> C(M * N);
  for (auto _ : state) {
    tg::detail::gemm<float>(ta, tb, M, N, K, 1.f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * M * N * K);
}
// y = x·Wᵀ (NT), dW = dYᵀ·x (TN), dX = dY·W (NN), for each linear layer of the MLP.
BENCHMARK(BM_gemm_kernel)
    ->ArgNames({"M", "N", "K", "tA", "tB"})
    ->Args({128, 256, 784, 0, 1})
    ->Args({256, 784, 128, 1, 0})
    ->Args({128, 128, 256, 0, 1})
    ->Args({128, 256, 128, 1, 0})
    ->Args({128, 256, 128, 0, 0})
    ->Args({128, 10, 128, 0, 1})
    ->Args({10, 128, 128, 1, 0})
    ->Args({128, 128, 10, 0, 0})
    ->UseRealTime();

// ---- convolution -----------------------------------------------------------------------------
// args: C_in, C_out, H (square input), input needs a gradient. 3x3 kernel, stride 1, no padding.
void conv_flops(double& forward, std::size_t C, std::size_t O, std::size_t H) {
  const double out = static_cast<double>((H - 2) * (H - 2));
  forward = 2.0 * kBatch * O * C * 9 * out;
}

void BM_conv2d_forward(benchmark::State& state) {
  const auto C = static_cast<std::size_t>(state.range(0)), O = static_cast<std::size_t>(state.range(1)),
             H = static_cast<std::size_t>(state.range(2));
  tg::Variable<float> x(random_tensor({kBatch, C, H, H}, 1, 0, 1)), w(random_tensor({O, C, 3, 3}, 2, -0.3f, 0.3f)),
      b(random_tensor({O}, 3));
  for (auto _ : state) {
    tg::Variable<float> y = tg::conv2d(x, w, b);
    benchmark::DoNotOptimize(y.value().data());
  }
  double f;
  conv_flops(f, C, O, H);
  set_flops(state, f);
}
BENCHMARK(BM_conv2d_forward)->ArgNames({"C", "O", "H"})->Args({1, 32, 28})->Args({32, 64, 13})->UseRealTime();

// Forward + backward as in training: dW and db always, dX only for the second layer.
void BM_conv2d_forward_backward(benchmark::State& state) {
  const auto C = static_cast<std::size_t>(state.range(0)), O = static_cast<std::size_t>(state.range(1)),
             H = static_cast<std::size_t>(state.range(2));
  const bool input_grad = C > 1;
  tg::Variable<float> x(random_tensor({kBatch, C, H, H}, 1, 0, 1), input_grad),
      w(random_tensor({O, C, 3, 3}, 2, -0.3f, 0.3f), true), b(random_tensor({O}, 3), true);
  const tg::Tensor<float> seed = random_tensor({kBatch, O, H - 2, H - 2}, 4);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    tg::Variable<float> y = tg::conv2d(x, w, b);
    y.backward(seed);
    benchmark::DoNotOptimize(w.grad().data());
  }
  double f;
  conv_flops(f, C, O, H);
  set_flops(state, f * (input_grad ? 3 : 2));
}
BENCHMARK(BM_conv2d_forward_backward)->ArgNames({"C", "O", "H"})->Args({1, 32, 28})->Args({32, 64, 13})->UseRealTime();

// ---- pooling ---------------------------------------------------------------------------------
// args: channels, H (square input); 2x2 max pooling, stride 2 (floor: 26 -> 13, 11 -> 5).
void BM_max_pool2d_forward(benchmark::State& state) {
  const auto C = static_cast<std::size_t>(state.range(0)), H = static_cast<std::size_t>(state.range(1));
  tg::Variable<float> x(random_tensor({kBatch, C, H, H}, 1));
  for (auto _ : state) {
    tg::Variable<float> y = tg::max_pool2d(x, 2);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * C * H * H * sizeof(float)));
}
BENCHMARK(BM_max_pool2d_forward)->ArgNames({"C", "H"})->Args({32, 26})->Args({64, 11})->UseRealTime();

void BM_max_pool2d_forward_backward(benchmark::State& state) {
  const auto C = static_cast<std::size_t>(state.range(0)), H = static_cast<std::size_t>(state.range(1));
  tg::Variable<float> x(random_tensor({kBatch, C, H, H}, 1), true);
  const tg::Tensor<float> seed = random_tensor({kBatch, C, H / 2, H / 2}, 2);
  for (auto _ : state) {
    x.zero_grad();
    tg::Variable<float> y = tg::max_pool2d(x, 2);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * C * H * H * sizeof(float)));
}
BENCHMARK(BM_max_pool2d_forward_backward)->ArgNames({"C", "H"})->Args({32, 26})->Args({64, 11})->UseRealTime();

// ---- batch normalisation ---------------------------------------------------------------------
// args: channels, H (square input): fashion_resnet's three stages. BatchNorm in training mode,
// forward + backward into the input, weight and bias.
void BM_batch_norm_forward_backward(benchmark::State& state) {
  const auto C = static_cast<std::size_t>(state.range(0)), H = static_cast<std::size_t>(state.range(1));
  tg::Variable<float> x(random_tensor({kBatch, C, H, H}, 1), true), weight(random_tensor({C}, 2), true),
      bias(random_tensor({C}, 3), true);
  tg::Tensor<float> running_mean = tg::Tensor<float>::from_shape({C}), running_var = running_mean;
  const tg::Tensor<float> seed = random_tensor({kBatch, C, H, H}, 4);
  for (auto _ : state) {
    x.zero_grad();
    weight.zero_grad();
    bias.zero_grad();
    tg::Variable<float> y = tg::batch_norm(x, &running_mean, &running_var, weight, bias, /*training=*/true);
    y.backward(seed);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBatch * C * H * H * sizeof(float)));
}
BENCHMARK(BM_batch_norm_forward_backward)
    ->ArgNames({"C", "H"})
    ->Args({16, 28})
    ->Args({32, 14})
    ->Args({64, 7})
    ->UseRealTime();

// ---- loss ------------------------------------------------------------------------------------
void BM_cross_entropy_forward_backward(benchmark::State& state) {
  tg::Variable<float> logits(random_tensor({kBatch, 10}, 1, -3, 3), true);
  const tg::Labels labels = random_labels(kBatch, 2);
  for (auto _ : state) {
    logits.zero_grad();
    tg::Variable<float> loss = tg::cross_entropy(logits, labels);
    loss.backward();
    benchmark::DoNotOptimize(logits.grad().data());
  }
}
BENCHMARK(BM_cross_entropy_forward_backward)->UseRealTime();

// ---- whole training steps ----------------------------------------------------------------------
// Random images in [0, 1) and labels; the same batch every step (the data pipeline is measured by
// bench/epoch_bench.cpp instead).
void training_step(benchmark::State& state, bool cnn) {
  tg::manual_seed(1);
  auto model = cnn ? bench::make_cnn() : bench::make_mlp();
  auto optimizer = bench::make_optimizer(cnn, *model);
  const tg::Variable<float> images(random_tensor({kBatch, 1, 28, 28}, 1, 0, 1));
  const tg::Labels labels = random_labels(kBatch, 2);
  for (int i = 0; i < 3; ++i) bench::train_step(*model, *optimizer, images, labels);  // warm-up: buffers, state
  for (auto _ : state) benchmark::DoNotOptimize(bench::train_step(*model, *optimizer, images, labels));
  // GEMM FLOPs per step, counted as in bench/gemm_floor.cpp.
  const double mlp = 2.0 * kBatch * (2 * 784 * 256 + 3 * 256 * 128 + 3 * 128 * 10);
  const double cnn_flops = 2.0 * kBatch * (2 * 32 * 9 * 676 + 3 * 64 * 288 * 121 + 3 * 1600 * 128 + 3 * 128 * 10);
  set_flops(state, cnn ? cnn_flops : mlp);
}

void BM_mlp_training_step(benchmark::State& state) { training_step(state, false); }
void BM_cnn_training_step(benchmark::State& state) { training_step(state, true); }
BENCHMARK(BM_mlp_training_step)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cnn_training_step)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

// Like BENCHMARK_MAIN, plus --threads N (taken out before Google Benchmark parses the rest).
int main(int argc, char** argv) {
  int threads = 2;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  tg::set_num_threads(threads);
  benchmark::AddCustomContext("tapegrad_threads", std::to_string(tg::get_num_threads()));
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
