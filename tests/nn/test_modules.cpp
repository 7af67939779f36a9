#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;

namespace {

nn::Sequential<float> mlp() {
  return nn::Sequential<float>{nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                               nn::Linear(128, 10)};
}

}  // namespace

TEST_CASE("the 784-256-128-10 MLP has PyTorch's parameter names shapes and 235146 parameters") {
  auto net = mlp();
  auto named = net.named_parameters();
  REQUIRE(named.size() == 6);
  const std::vector<std::pair<std::string, Shape>> expected{{"1.weight", {256, 784}}, {"1.bias", {256}},
                                                            {"3.weight", {128, 256}}, {"3.bias", {128}},
                                                            {"5.weight", {10, 128}},  {"5.bias", {10}}};
  std::size_t total = 0;
  for (std::size_t i = 0; i < named.size(); ++i) {
    CHECK(named[i].first == expected[i].first);
    CHECK(named[i].second.shape() == expected[i].second);
    CHECK(named[i].second.requires_grad());
    CHECK(named[i].second.name() == expected[i].first);  // leaves carry their names (graph export, reports)
    total += named[i].second.size();
  }
  CHECK(total == 235146);
  CHECK(net.parameters().size() == 6);
}

TEST_CASE("Linear initialises like PyTorch: weight and bias within 1/sqrt(in)") {
  manual_seed(3);
  nn::Linear fc(100, 50);
  const float bound = 1.0f / 10.0f;
  const float max_weight = xt::amax(xt::abs(fc.weight().value()))(), max_bias = xt::amax(xt::abs(fc.bias().value()))();
  CHECK(max_weight <= bound);
  CHECK(max_bias <= bound);
  CHECK(max_weight > 0.9f * bound);  // uniform on [-b, b]: the draws reach most of the range
  nn::Linear<double> no_bias(3, 2, false);
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK(!no_bias.bias().defined());
}

TEST_CASE("manual_seed makes module initialisation repeat") {
  manual_seed(7);
  nn::Linear a(5, 4);
  manual_seed(7);
  nn::Linear b(5, 4);
  nn::Linear c(5, 4);
  CHECK((a.weight().value() == b.weight().value()));
  CHECK((a.weight().value() != c.weight().value()));
}

TEST_CASE("Conv2d parameters: (out in/groups k k) and (out)") {
  nn::Conv2d conv(4, 6, 3, 1, 1, 1, 2);
  test::check_named_parameters(conv.named_parameters(), {{"weight", {6, 2, 3, 3}}, {"bias", {6}}});
  CHECK_THROWS_AS(nn::Conv2d(3, 6, 3, 1, 0, 1, 2), std::invalid_argument);
}

TEST_CASE("the example CNN has 225034 parameters and the right output shape") {
  nn::Sequential net{nn::Conv2d(1, 32, 3), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(32, 64, 3), nn::ReLU(),
                     nn::MaxPool2d(2), nn::Flatten(), nn::Linear(1600, 128), nn::ReLU(), nn::Linear(128, 10)};
  // 32*9+32 + 64*32*9+64 + 1600*128+128 + 128*10+10, counted by hand
  CHECK(nn::parameter_count(net) == 320 + 18496 + 204928 + 1290);
  Variable<float> x(Tensor<float>(xt::zeros<float>({2, 1, 28, 28})));
  CHECK(net(x).shape() == Shape{2, 10});
}

TEST_CASE("summary lists each layer with output shape and parameters and the totals") {
  auto net = mlp();
  std::string table = nn::summary(net, Shape{1, 1, 28, 28});
  INFO(table);
  CHECK_THAT(table, Contains("1 (Linear(784, 256))") && Contains("(1, 256)") && Contains("200,960"));
  CHECK_THAT(table, Contains("5 (Linear(128, 10))") && Contains("(1, 10)") && Contains("1,290"));
  CHECK_THAT(table, Contains("0 (Flatten(start_dim=1))") && Contains("(1, 784)"));
  CHECK_THAT(table, Contains("Total params: 235,146"));
  CHECK_THAT(table, Contains("Trainable params: 235,146"));
  CHECK(net.is_training());  // summary restores the mode
  CHECK(tape_stats().live_nodes == 0);
}

TEST_CASE("train() and eval() reach every child - Dropout is the identity in eval mode") {
  nn::Sequential<double> net{nn::Linear<double>(4, 4), nn::Dropout<double>(0.5)};
  Variable<double> x(Tensor<double>(xt::ones<double>({3, 4})));
  net.eval();
  CHECK(!net[1].is_training());
  CHECK((net(x).value() == net[0](x).value()));
  net.train();
  CHECK(net[1].is_training());
  CHECK((net(x).value() != net[0](x).value()));
}

TEST_CASE("zero_grad drops every parameter's gradient") {
  nn::Linear<double> fc(3, 2);
  Variable<double> x(Tensor<double>(xt::ones<double>({1, 3})));
  sum(fc(x)).backward();
  CHECK(fc.weight().has_grad());
  fc.zero_grad();
  CHECK(!fc.weight().has_grad());
  CHECK(!fc.bias().has_grad());
}

TEST_CASE("modules gradcheck in double with respect to inputs and parameters") {
  Generator gen(11);
  SECTION("Linear") {
    nn::Linear<double> fc(4, 3);
    auto x = test::param(test::uniform({2, 4}, gen));
    test::require_gradcheck([&](auto& v) { return fc(v[0]); }, {x, fc.weight(), fc.bias()});
  }
  SECTION("Conv2d with stride and padding") {
    nn::Conv2d<double> conv(2, 3, 3, 2, 1);
    auto x = test::param(test::uniform({1, 2, 5, 5}, gen));
    test::require_gradcheck([&](auto& v) { return conv(v[0]); }, {x, conv.weight(), conv.bias()});
  }
  SECTION("a small Sequential") {
    nn::Sequential<double> net{nn::Linear<double>(3, 5), nn::Tanh<double>(), nn::Linear<double>(5, 2),
                               nn::LogSoftmax<double>()};
    auto x = test::param(test::uniform({4, 3}, gen));
    std::vector<Variable<double>> inputs{x};
    for (auto& p : net.parameters()) inputs.push_back(p);
    test::require_gradcheck([&](auto& v) { return net(v[0]); }, inputs);
  }
}
