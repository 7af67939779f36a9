// The libtorch peer of bench/second_order_bench.cpp: the same WGAN-GP critic step and the same
// Hessian-vector product of the MNIST MLP's loss, from the same inputs and initial weights
// (bench/second_order_data.hpp), written with libtorch's C++ frontend (Debian's libtorch-dev 1.13)
// and torch::autograd::grad(create_graph = true).
//
//   build/bench/torch_second_order --bench wgan|hvp [--threads N] [--steps S] [--warmup W]
//
// --threads sets torch::set_num_threads (the intra-op pool); OpenBLAS, which libtorch calls for
// linear layers, takes its threads from OPENBLAS_NUM_THREADS. Last line: RESULT {json}.
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../second_order_data.hpp"

namespace {

namespace so = bench::second_order;

torch::Tensor tensor_of(const std::vector<float>& values, std::vector<std::int64_t> shape) {
  return torch::from_blob(const_cast<float*>(values.data()), shape, torch::kFloat32).clone();
}

// Gives every parameter of `model` (Linear weights (out, in) and biases, in order) the values
// both programs use.
void set_parameters(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  auto params = model.parameters();
  std::size_t fan_in = 1;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].dim() == 2) fan_in = static_cast<std::size_t>(params[i].size(1));
    const auto n = static_cast<std::size_t>(params[i].numel());
    params[i].copy_(tensor_of(so::parameter_values(i, n, fan_in), params[i].sizes().vec()));
  }
}

so::Timing run_wgan(const so::Options& opt) {
  namespace nn = torch::nn;
  const auto n = static_cast<std::int64_t>(so::kGanBatch), pixels = static_cast<std::int64_t>(so::kPixels),
             hidden = static_cast<std::int64_t>(so::kCriticHidden);
  nn::Sequential critic(nn::Linear(pixels, hidden), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(so::kLeakySlope)),
                        nn::Linear(hidden, hidden), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(so::kLeakySlope)),
                        nn::Linear(hidden, 1));
  set_parameters(*critic);
  torch::optim::Adam optimizer(critic->parameters(),
                               torch::optim::AdamOptions(so::kAdamLr).betas({so::kAdamBeta1, so::kAdamBeta2}));

  std::vector<torch::Tensor> real, fake, alpha;
  for (std::size_t k = 0; k < so::kGanSets; ++k) {
    real.push_back(tensor_of(so::real_images(k), {n, pixels}));
    fake.push_back(tensor_of(so::fake_images(k), {n, pixels}));
    alpha.push_back(tensor_of(so::alphas(k), {n, 1}));
  }
  const torch::Tensor ones = torch::ones({n, 1});

  return so::time_steps(opt, [&](int s) {
    const std::size_t k = static_cast<std::size_t>(s) % so::kGanSets;
    optimizer.zero_grad();
    const torch::Tensor d_real = critic->forward(real[k]);
    const torch::Tensor d_fake = critic->forward(fake[k]);
    const torch::Tensor x_hat = (alpha[k] * real[k] + (1 - alpha[k]) * fake[k]).requires_grad_(true);
    const torch::Tensor d_hat = critic->forward(x_hat);
    const torch::Tensor g = torch::autograd::grad({d_hat}, {x_hat}, {ones}, /*retain_graph=*/true,
                                                  /*create_graph=*/true)[0];
    const torch::Tensor norm = (g * g).sum(1).sqrt();
    const torch::Tensor penalty = (norm - 1).pow(2).mean();
    torch::Tensor loss = d_fake.mean() - d_real.mean() + penalty * so::kPenaltyWeight;
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  });
}

so::Timing run_hvp(const so::Options& opt) {
  namespace nn = torch::nn;
  nn::Sequential mlp(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                     nn::Linear(128, 10));
  set_parameters(*mlp);
  const std::vector<torch::Tensor> params = mlp->parameters();
  std::vector<torch::Tensor> v;
  for (std::size_t i = 0; i < params.size(); ++i)
    v.push_back(tensor_of(so::hvp_direction(i, static_cast<std::size_t>(params[i].numel())), params[i].sizes().vec()));
  const torch::Tensor images =
      tensor_of(so::hvp_images(), {static_cast<std::int64_t>(so::kHvpBatch), static_cast<std::int64_t>(so::kPixels)});
  const std::vector<std::int64_t> label_values = so::hvp_labels();
  const torch::Tensor labels = torch::tensor(label_values, torch::kInt64);

  std::vector<torch::Tensor> hv;
  so::Timing t = so::time_steps(opt, [&](int) {
    const torch::Tensor loss = torch::nn::functional::cross_entropy(mlp->forward(images), labels);
    const std::vector<torch::Tensor> g = torch::autograd::grad({loss}, params, {}, /*retain_graph=*/true,
                                                               /*create_graph=*/true);
    torch::Tensor g_dot_v = (g[0] * v[0]).sum();
    for (std::size_t i = 1; i < g.size(); ++i) g_dot_v = g_dot_v + (g[i] * v[i]).sum();
    hv = torch::autograd::grad({g_dot_v}, params);
    return loss.item<float>();
  });
  for (std::size_t i = 0; i < hv.size(); ++i) t.checksum += (hv[i] * v[i]).sum().item<double>();  // vᵀ H v
  return t;
}

}  // namespace

int main(int argc, char** argv) try {
  const so::Options opt = so::parse("torch_second_order", argc, argv);
  torch::set_num_threads(opt.threads);
  const so::Timing t = opt.bench == "wgan" ? run_wgan(opt) : run_hvp(opt);
  so::report(opt, t, "libtorch",
             "torch threads " + std::to_string(torch::get_num_threads()) +
                 ", OPENBLAS_NUM_THREADS=" + bench::openblas_threads("(unset)"),
             std::string("\"blas_threads\": \"") + bench::openblas_threads("") + "\", ");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_second_order: %s\n", e.what());
  return 1;
}
