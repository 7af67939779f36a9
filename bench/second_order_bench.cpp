// tapegrad's side of the second-order comparison (scripts/bench_peers.sh; peer:
// bench/peers/torch_second_order.cpp). Milliseconds per step of:
//
//   wgan  one WGAN-GP critic step: an MLP critic 784-256-256-1 (LeakyReLU 0.2) on real and fake
//         batches of 64 x 784; x_hat = alpha * real + (1 - alpha) * fake, one alpha per sample;
//         g = grad(critic(x_hat), x_hat, grad_outputs = ones, create_graph = true);
//         penalty = mean((sqrt(sum(g * g, 1)) - 1)^2);
//         loss = mean(critic(fake)) - mean(critic(real)) + 10 * penalty; backward; Adam step.
//   hvp   a Hessian-vector product of the MNIST MLP's loss (bench/models.hpp: 784-256-128-10, ReLU,
//         batch 128, cross-entropy) with respect to its six parameters: g = grad(loss, params,
//         create_graph = true), then H v = grad(sum_i sum(g_i * v_i), params).
//
//   build/bench/second_order_bench --bench wgan|hvp [--threads N] [--steps S] [--warmup W]
//
// Inputs, initial weights and v come from bench/second_order_data.hpp, the same numbers the
// libtorch peer uses, so the printed losses and checksum (vᵀ H v) agree between the two programs.
// W warm-up steps, then S timed steps; the median step time is reported. Last line: RESULT {json}.
#include <cstdio>
#include <string>
#include <vector>

#include "models.hpp"
#include "second_order_data.hpp"

namespace {

namespace so = bench::second_order;

tg::Tensor<float> tensor_of(const std::vector<float>& values, const tg::Shape& shape) {
  tg::Tensor<float> t = tg::Tensor<float>::from_shape(shape);
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}

// Gives every parameter of `model` (all of them Linear weights (out, in) and biases) the values
// both programs use.
void set_parameters(tg::nn::Module<float>& model) {
  auto params = model.parameters();
  std::size_t fan_in = 1;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const tg::Shape shape = tg::shape_of(std::as_const(params[i]).value());
    if (shape.size() == 2) fan_in = shape[1];  // a bias follows its weight
    params[i].value() = tensor_of(so::parameter_values(i, tg::element_count(shape), fan_in), shape);
  }
}

so::Timing run_wgan(const so::Options& opt) {
  using tg::nn::Linear;
  using tg::nn::LeakyReLU;
  auto critic = std::make_shared<tg::nn::Sequential<float>>(
      Linear(so::kPixels, so::kCriticHidden), LeakyReLU(so::kLeakySlope), Linear(so::kCriticHidden, so::kCriticHidden),
      LeakyReLU(so::kLeakySlope), Linear(so::kCriticHidden, 1));
  set_parameters(*critic);
  tg::optim::AdamOptions adam;
  adam.lr = so::kAdamLr;
  adam.beta1 = so::kAdamBeta1;
  adam.beta2 = so::kAdamBeta2;
  tg::optim::Adam<float> optimizer(critic->parameters(), adam);

  std::vector<tg::Variable<float>> real, fake, alpha;
  for (std::size_t k = 0; k < so::kGanSets; ++k) {
    real.emplace_back(tensor_of(so::real_images(k), {so::kGanBatch, so::kPixels}));
    fake.emplace_back(tensor_of(so::fake_images(k), {so::kGanBatch, so::kPixels}));
    alpha.emplace_back(tensor_of(so::alphas(k), {so::kGanBatch, 1}));
  }
  const tg::Variable<float> ones(tg::Tensor<float>(tg::Shape{so::kGanBatch, 1}, 1.0f));

  return so::time_steps(opt, [&](int s) {
    const std::size_t k = static_cast<std::size_t>(s) % so::kGanSets;
    optimizer.zero_grad();
    const tg::Variable<float> d_real = (*critic)(real[k]);
    const tg::Variable<float> d_fake = (*critic)(fake[k]);
    // x_hat is a leaf: the penalty differentiates with respect to it, nothing flows further back
    const tg::Variable<float> x_hat((alpha[k] * real[k] + (1.0f - alpha[k]) * fake[k]).value(), true);
    const tg::Variable<float> d_hat = (*critic)(x_hat);
    const tg::Variable<float> g = tg::grad<float>({d_hat}, {x_hat}, {ones}, std::nullopt, /*create_graph=*/true)[0];
    const tg::Variable<float> norm = tg::sqrt(tg::sum(g * g, {1}));
    const tg::Variable<float> penalty = tg::mean(tg::pow(norm - 1.0f, 2.0f));
    tg::Variable<float> loss = tg::mean(d_fake) - tg::mean(d_real) + penalty * static_cast<float>(so::kPenaltyWeight);
    loss.backward();
    optimizer.step();
    return loss.item();
  });
}

so::Timing run_hvp(const so::Options& opt) {
  auto mlp = bench::make_mlp();
  set_parameters(*mlp);
  const std::vector<tg::Variable<float>> params = mlp->parameters();
  std::vector<tg::Variable<float>> v;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const tg::Shape shape = tg::shape_of(params[i].value());
    v.emplace_back(tensor_of(so::hvp_direction(i, tg::element_count(shape)), shape));
  }
  const tg::Variable<float> images(tensor_of(so::hvp_images(), {so::kHvpBatch, so::kPixels}));
  const tg::Labels labels = so::hvp_labels();

  std::vector<tg::Variable<float>> hv;
  so::Timing t = so::time_steps(opt, [&](int) {
    const tg::Variable<float> loss = tg::cross_entropy((*mlp)(images), labels);
    const std::vector<tg::Variable<float>> g = tg::grad<float>({loss}, params, {}, std::nullopt, /*create_graph=*/true);
    tg::Variable<float> g_dot_v = tg::sum(g[0] * v[0]);
    for (std::size_t i = 1; i < g.size(); ++i) g_dot_v = g_dot_v + tg::sum(g[i] * v[i]);
    hv = tg::grad<float>({g_dot_v}, params);
    return loss.item();
  });
  for (std::size_t i = 0; i < hv.size(); ++i) t.checksum += tg::sum(hv[i] * v[i]).item();  // vᵀ H v
  return t;
}

}  // namespace

int main(int argc, char** argv) try {
  const so::Options opt = so::parse("second_order_bench", argc, argv);
  tg::set_num_threads(opt.threads);
  const so::Timing t = opt.bench == "wgan" ? run_wgan(opt) : run_hvp(opt);
  so::report(opt, t, "tapegrad", std::to_string(tg::get_num_threads()) + " threads", "");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "second_order_bench: %s\n", e.what());
  return 1;
}
