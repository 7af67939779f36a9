// fuse_conv_batch_norm and conv_batch_norm_chain: a Conv2d, BatchNorm2d[, ReLU] run trained as one op
// gives the modules' values, gradients and running statistics (float, oneDNN's blocked chain), keeps
// their names, falls back to them in eval, differentiates twice, and reports bad shapes as they do.
#include <algorithm>
#include <cmath>
#include <string>

#include "test_prelude.hpp"

namespace {

// Conv(16->16) BN ReLU Conv(16->32, stride 2) BN, as a ResNet block's main path; weights from `seed`.
std::shared_ptr<nn::Sequential<float>> block(std::uint64_t seed, bool conv_bias = false) {
  auto net = std::make_shared<nn::Sequential<float>>(
      nn::Conv2d(16, 16, 3, 1, 1, 1, 1, conv_bias), nn::BatchNorm2d(16), nn::ReLU(),
      nn::Conv2d(16, 32, 3, 2, 1, 1, 1, conv_bias), nn::BatchNorm2d(32, 1e-3, 0.2));
  Generator gen(seed);
  for (auto& [name, p] : net->named_parameters()) p.value() = test::uniform<float>(shape_of(p.value()), gen, -0.3, 0.3);
  return net;
}

float max_abs(const Tensor<float>& a) {
  float m = 0;
  for (const float v : a) m = std::max(m, std::abs(v));
  return m;
}

float max_difference(const Tensor<float>& a, const Tensor<float>& b) {
  REQUIRE(format_shape(a.shape()) == format_shape(b.shape()));
  float m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

// Forward and backward of sum(y * y) on both models from the same x; compares every value.
void check_step(nn::Sequential<float>& fused, nn::Sequential<float>& plain, const Tensor<float>& input) {
  Variable<float> xf(input, true), xp(input, true);
  const Variable<float> yf = fused(xf), yp = plain(xp);
  CHECK(max_difference(yf.value(), yp.value()) < 2e-4f);
  sum(yf * yf).backward();
  sum(yp * yp).backward();
  CHECK(max_difference(xf.grad(), xp.grad()) < 2e-3f);
  const auto pf = fused.named_parameters(), pp = plain.named_parameters();
  REQUIRE(pf.size() == pp.size());
  // Relative to the model's largest gradient: a convolution bias before a batch normalisation has
  // gradient 0 exactly, which both compute as rounding noise.
  float scale = 1;
  for (const auto& [name, p] : pp) scale = std::max(scale, max_abs(p.grad()));
  for (std::size_t i = 0; i < pf.size(); ++i) {
    INFO(pf[i].first);
    CHECK(max_difference(pf[i].second.grad(), pp[i].second.grad()) / scale < 1e-4f);
  }
  const auto bf = fused.named_buffers(), bp = plain.named_buffers();
  REQUIRE(bf.size() == bp.size());
  for (std::size_t i = 0; i < bf.size(); ++i) {
    INFO(bf[i].first);
    CHECK(bf[i].first == bp[i].first);
    CHECK(max_difference(bf[i].second.value(), bp[i].second.value()) < 1e-5f);
  }
}

}  // namespace

TEST_CASE("fuse_conv_batch_norm: one op in training with the modules' values, gradients and statistics") {
  for (const bool conv_bias : {false, true}) {
    INFO("conv bias " << conv_bias);
    auto fused = block(7, conv_bias), plain = block(7, conv_bias);
    REQUIRE(nn::fuse_conv_batch_norm(*fused) == 1);
    Generator gen(3);
    const Tensor<float> x = test::uniform<float>({6, 16, 10, 10}, gen, -2, 2);
    const std::string dot = to_dot((*fused)(Variable<float>(x, true)));
    // In float with oneDNN the whole run is one node; its layers are not recorded one by one.
    CHECK(dot.find("conv_batch_norm_chain") != std::string::npos);
    CHECK(dot.find("\"relu\"") == std::string::npos);
    fused = block(7, conv_bias);
    nn::fuse_conv_batch_norm(*fused);
    check_step(*fused, *plain, x);
    CHECK(fused->named_buffers().back().second.value()() == 1.0f);  // num_batches_tracked
  }
}

TEST_CASE("fuse_conv_batch_norm: names, parameters and buffers stay, eval runs the modules, a second pass fuses nothing") {
  auto fused = block(11), plain = block(11);
  std::vector<std::string> before;
  for (const auto& [name, p] : fused->named_parameters()) before.push_back(name);
  for (const auto& [name, b] : fused->named_buffers()) before.push_back(name);
  REQUIRE(nn::fuse_conv_batch_norm(*fused) == 1);
  CHECK(nn::fuse_conv_batch_norm(*fused) == 0);  // already fused
  std::vector<std::string> after;
  for (const auto& [name, p] : fused->named_parameters()) after.push_back(name);
  for (const auto& [name, b] : fused->named_buffers()) after.push_back(name);
  CHECK(after == before);
  CHECK(after.front() == "0.weight");
  Generator gen(5);
  const Tensor<float> x = test::uniform<float>({4, 16, 8, 8}, gen, -2, 2);
  check_step(*fused, *plain, x);
  fused->eval();
  plain->eval();
  const Variable<float> ye = (*fused)(Variable<float>(x)), yp = (*plain)(Variable<float>(x));
  // The same modules one by one, on running statistics that differ by rounding only.
  CHECK(max_difference(ye.value(), yp.value()) < 1e-5f);
}

TEST_CASE("fuse_conv_batch_norm: runs inside a module's Sequentials, and only exact Conv2d-BatchNorm2d pairs") {
  nn::Sequential<float> outer(nn::Conv2d(3, 16, 3), nn::ReLU(), nn::BatchNorm2d(16));  // no Conv2d-BatchNorm2d pair
  outer.push_back(block(1));
  outer.push_back(nn::Sequential<float>(nn::Conv2d(16, 32, 3), nn::BatchNorm2d(32), nn::Conv2d(32, 16, 1),
                                        nn::BatchNorm2d(16), nn::ReLU()));
  CHECK(nn::fuse_conv_batch_norm(outer) == 2);
}

TEST_CASE("conv_batch_norm_chain: second derivatives through the fused op equal the modules' ones") {
  auto fused = block(13), plain = block(13);
  nn::fuse_conv_batch_norm(*fused);
  Generator gen(9);
  const Tensor<float> input = test::uniform<float>({4, 16, 6, 6}, gen, -2, 2);
  const auto penalty = [&](nn::Sequential<float>& net) {
    Variable<float> x(input, true);
    const Variable<float> g = grad<float>({sum(net(x) * net(x))}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    sum(g * g).backward();
    return net.named_parameters();
  };
  const auto pf = penalty(*fused), pp = penalty(*plain);
  for (std::size_t i = 0; i < pf.size(); ++i) {
    INFO(pf[i].first);
    const float scale = 1 + max_abs(pp[i].second.grad());
    CHECK(max_difference(pf[i].second.grad(), pp[i].second.grad()) / scale < 1e-3f);
  }
}

TEST_CASE("conv_batch_norm_chain: gradcheck and gradgradcheck in double, values of the ops one by one") {
  Generator gen(21);
  const auto chain = [](const std::vector<Variable<double>>& v) {
    std::vector<ConvBatchNormLayer<double>> layers(2);
    layers[0].weight = v[1];
    layers[0].scale = v[2];
    layers[0].shift = v[3];
    layers[0].relu = true;
    layers[0].padding = 1;
    layers[1].weight = v[4];
    layers[1].bias = v[5];
    layers[1].stride = 2;
    return conv_batch_norm_chain(v[0], layers);
  };
  const std::vector<Variable<double>> inputs{
      test::param(test::uniform({2, 2, 4, 4}, gen)), test::param(test::uniform({3, 2, 3, 3}, gen)),
      test::param(test::uniform({3}, gen, 0.5, 1.5)), test::param(test::uniform({3}, gen)),
      test::param(test::uniform({2, 3, 2, 2}, gen)), test::param(test::uniform({2}, gen))};
  test::require_grad_and_gradgrad(chain, inputs);
  const Variable<double> expected =
      batch_norm(conv2d(relu(batch_norm(conv2d(inputs[0], inputs[1], Variable<double>(), 1, 1), nullptr, nullptr,
                                        inputs[2], inputs[3], true)),
                        inputs[4], inputs[5], 2),
                 nullptr, nullptr, Variable<double>(), Variable<double>(), true);
  test::require_close(chain(inputs).value(), expected.value(), 1e-12);
}

TEST_CASE("conv_batch_norm_chain: bad shapes are reported as conv2d and batch_norm report them") {
  nn::Sequential<float> wrong(nn::Conv2d(16, 16, 3), nn::BatchNorm2d(8));
  REQUIRE(nn::fuse_conv_batch_norm(wrong) == 1);
  const std::string m = test::message_of<std::invalid_argument>(
      [&] { wrong(Variable<float>(Tensor<float>(xt::zeros<float>({2, 16, 5, 5})))); });
  CHECK(m.find("batch_norm") != std::string::npos);
  const std::string c = test::message_of<std::invalid_argument>(
      [&] { wrong(Variable<float>(Tensor<float>(xt::zeros<float>({2, 3, 5, 5})))); });
  CHECK(c.find("conv2d") != std::string::npos);
  CHECK(c.find("16") != std::string::npos);
}

TEST_CASE("Sequential::run_through: refuses runs past the end or overlapping another") {
  nn::Sequential<float> net{nn::Identity<float>(), nn::Identity<float>(), nn::Identity<float>()};
  net.run_through(0, 2, std::make_shared<nn::Identity<float>>());
  CHECK(test::message_of<std::invalid_argument>([&] { net.run_through(1, 2, std::make_shared<nn::Identity<float>>()); })
            .find("overlap the run at [0, 2)") != std::string::npos);
  CHECK(test::message_of<std::invalid_argument>([&] { net.run_through(2, 2, std::make_shared<nn::Identity<float>>()); })
            .find("[2, 4) of 3") != std::string::npos);
  CHECK(net.in_run(1));
  CHECK_FALSE(net.in_run(2));
}

TEST_CASE("fuse_conv_batch_norm: a chain ending in a ReLU, or in a normalisation without scale and shift") {
  for (const bool affine : {true, false}) {
    for (const std::size_t side : {8, 7}) {  // 64 positions per plane, a whole number of 16; 49, not
      INFO("affine " << affine << ", side " << side);
      const auto make = [affine] {
        auto net = std::make_shared<nn::Sequential<float>>(nn::Conv2d(16, 32, 3, 1, 1), nn::BatchNorm2d(32),
                                                           nn::ReLU(), nn::Conv2d(32, 16, 3, 1, 1),
                                                           nn::BatchNorm2d(16, 1e-5, 0.1, affine), nn::ReLU());
        Generator gen(17);
        for (auto& [name, p] : net->named_parameters()) p.value() = test::uniform<float>(shape_of(p.value()), gen, -0.3, 0.3);
        return net;
      };
      auto fused = make(), plain = make();
      REQUIRE(nn::fuse_conv_batch_norm(*fused) == 1);
      Generator gen(19);
      check_step(*fused, *plain, test::uniform<float>({5, 16, side, side}, gen, -2, 2));
    }
  }
}
