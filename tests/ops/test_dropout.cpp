#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

std::size_t count_zeros(const Tensor<double>& t) {
  std::size_t zeros = 0;
  for (double v : t) zeros += v == 0.0;
  return zeros;
}

}  // namespace

TEST_CASE("dropout in training zeroes a fraction p and scales survivors by 1/(1-p)") {
  Generator gen(31);
  Variable<double> x(xt::ones<double>({100, 100}));
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    INFO("p = " << p);
    Tensor<double> y = dropout(x, p, true, gen).value();
    // 10,000 Bernoulli draws: the standard deviation of the fraction is at most 0.005.
    const double dropped = static_cast<double>(count_zeros(y)) / 10000.0;
    CHECK(dropped == Approx(p).margin(0.025));
    for (double v : y) {
      if (v != 0.0) REQUIRE(v == 1.0 / (1.0 - p));
    }
    double total = 0;
    for (double v : y) total += v;
    CHECK(total / 10000.0 == Approx(1.0).margin(0.1));  // unbiased in expectation
    // No region is favoured: the first 50 rows drop about p too.
    std::size_t top_zeros = 0;
    for (std::size_t i = 0; i < 5000; ++i) top_zeros += y.data()[i] == 0.0;
    CHECK(static_cast<double>(top_zeros) / 5000.0 == Approx(p).margin(0.035));
  }
}

TEST_CASE("dropout: the same seed gives the same mask another seed another mask") {
  Variable<double> x(xt::ones<double>({20, 30}));
  Generator a(5), b(5), c(6);
  Tensor<double> ya = dropout(x, 0.5, true, a).value();
  Tensor<double> yb = dropout(x, 0.5, true, b).value();
  Tensor<double> yc = dropout(x, 0.5, true, c).value();
  CHECK(bool(ya == yb));
  CHECK(bool(ya != yc));
  // A second draw from the same generator is a fresh mask.
  CHECK(bool(dropout(x, 0.5, true, a).value() != ya));
}

TEST_CASE("dropout's gradient is the mask times 1/(1-p)") {
  Generator gen(32);
  auto x = test::param(test::away_from_zero({8, 16}, gen));
  const double p = 0.4;
  Variable<double> y = dropout(x, p, true, gen);
  Tensor<double> seed = test::uniform({8, 16}, gen);
  y.backward(seed);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double kept = y.value().data()[i] != 0.0 ? 1.0 / (1.0 - p) : 0.0;
    REQUIRE(y.value().data()[i] == x.value().data()[i] * kept);
    REQUIRE(x.grad().data()[i] == seed.data()[i] * kept);
  }
  CHECK(count_zeros(x.grad()) > 0);
  CHECK(count_zeros(x.grad()) < x.size());
}

TEST_CASE("dropout passes gradcheck and gradgradcheck with a fixed mask") {
  Generator gen(33);
  auto x = test::param(test::uniform({4, 5}, gen));
  test::require_higher_order(
      [](auto& v) {
        Generator fixed(99);  // a fresh generator per call: the same mask every time
        return dropout(v[0], 0.3, true, fixed);
      },
      {x});
}

TEST_CASE("dropout in eval mode or with p = 0 is the identity and draws nothing") {
  auto x = test::param(Tensor<double>{{1.0, -2.0, 3.0}});
  Generator gen(34);
  for (auto [p, training] : {std::pair<double, bool>{0.5, false}, {0.0, true}, {0.0, false}}) {
    INFO("p = " << p << ", training = " << training);
    Variable<double> y = dropout(x, p, training, gen);
    CHECK(bool(y.value() == x.value()));
    x.zero_grad();
    y.backward(Tensor<double>{{1.0, 2.0, 3.0}});
    CHECK(bool(x.grad() == Tensor<double>{{1.0, 2.0, 3.0}}));  // still differentiable: gradient 1
  }
  Generator fresh(34);
  CHECK(gen.next() == fresh.next());  // the generator was not advanced
}

TEST_CASE("dropout with p = 1 gives zeros and a zero gradient like PyTorch") {
  Generator gen(35);
  auto x = test::param(Tensor<double>{1.0, 2.0, 3.0});
  Variable<double> y = dropout(x, 1.0, true, gen);
  CHECK(bool(y.value() == Tensor<double>{0.0, 0.0, 0.0}));
  y.backward(Tensor<double>{1.0, 1.0, 1.0});
  CHECK(bool(x.grad() == Tensor<double>{0.0, 0.0, 0.0}));
}

TEST_CASE("dropout works on float with a double literal for p") {
  Generator gen(36);
  Variable<float> x(xt::ones<float>({50, 50}), true);
  Variable<float> y = dropout(x, 0.25, true, gen);
  std::size_t zeros = 0;
  for (float v : y.value()) {
    zeros += v == 0.0f;
    if (v != 0.0f) REQUIRE(v == 1.0f / 0.75f);
  }
  CHECK(static_cast<double>(zeros) / 2500.0 == Approx(0.25).margin(0.04));
}

TEST_CASE("dropout rejects p outside [0 1] naming the function and the value") {
  Generator gen(37);
  Variable<double> x(xt::ones<double>({3}));
  CHECK_THAT(message_of<std::invalid_argument>([&] { dropout(x, 1.5, true, gen); }),
             Contains("dropout") && Contains("1.5"));
  CHECK_THAT(message_of<std::invalid_argument>([&] { dropout(x, -0.1, true, gen); }),
             Contains("dropout") && Contains("-0.1"));
  CHECK_THAT(message_of<std::invalid_argument>([&] { dropout(x, std::nan(""), false, gen); }),
             Contains("dropout") && Contains("nan"));
}

TEST_CASE("dropout: the second derivative of sum(dropout(x)^2) is 2 mask^2, third derivatives check") {
  auto x = test::param(Tensor<double>{{0.5, -1.0, 2.0, 0.25}, {1.5, -0.5, 0.75, -2.0}});
  Generator g1(7), g2(7);
  const Tensor<double> mask = dropout(Variable<double>(Tensor<double>(xt::ones<double>({2, 4}))), 0.5, true, g1).value();
  REQUIRE(count_zeros(mask) > 0);
  REQUIRE(count_zeros(mask) < mask.size());
  Variable<double> d = dropout(x, 0.5, true, g2);  // the same draws: the same mask
  Variable<double> g = grad<double>({sum(d * d)}, {x}, {}, std::nullopt, true)[0];
  test::require_close(g.value(), Tensor<double>(2.0 * mask * mask * x.value()), 1e-12);
  test::require_close(grad<double>({sum(g)}, {x})[0].value(), Tensor<double>(2.0 * mask * mask), 1e-12);
  test::require_grad_and_gradgrad(test::gradient_of([](auto& v) {
    Generator fixed(99);
    const Variable<double> y = dropout(v[0], 0.3, true, fixed);
    return y * y * y;
  }), {x});
}
