// AnomalyGuard: the first op making a NaN or Inf, forward or backward, throws naming it.
#include <cmath>
#include <thread>

#include "test_util.hpp"

using Catch::Matchers::Contains;

TEST_CASE("anomaly mode throws at the first op whose forward output is not finite") {
  tg::AnomalyGuard anomaly;
  tg::Variable<double> x(tg::Tensor<double>{1.0, -2.0, 3.0}, true);
  tg::Variable<double> y = x * 2.0;  // finite: passes
  CHECK_THAT(tg::test::message_of<std::runtime_error>([&] { tg::sqrt(tg::log(y)); }),
             Contains("op 'log'") && Contains("forward") && Contains("input shapes: (3,)") &&
                 Contains("1 NaN and 0 Inf of 3 elements") && Contains("flat index 1"));
}

TEST_CASE("anomaly mode checks ops on inputs that need no gradient") {
  tg::AnomalyGuard anomaly;
  tg::Variable<float> x(tg::Tensor<float>{0.0f, 1.0f});
  CHECK_THAT(tg::test::message_of<std::runtime_error>([&] {
               tg::Variable<float>(tg::Tensor<float>{1.0f, 1.0f}) / x;
             }),
             Contains("op 'div'") && Contains("forward") && Contains("input shapes: (2,), (2,)"));
  // max_pool2d skips record_op when nothing needs a gradient.
  tg::Tensor<float> image = xt::zeros<float>({1, 1, 2, 2});
  image(0, 0, 1, 1) = std::nanf("");
  CHECK_THAT(tg::test::message_of<std::runtime_error>([&] { tg::max_pool2d(tg::Variable<float>(image), 2); }),
             Contains("op 'max_pool2d'") && Contains("forward") && Contains("(1, 1, 2, 2)"));
}

TEST_CASE("anomaly mode throws at the first op whose backward gradient is not finite") {
  tg::Variable<double> x(tg::Tensor<double>{0.0, 4.0}, true);
  tg::Variable<double> loss;
  {
    tg::AnomalyGuard anomaly;
    loss = tg::sum(tg::sqrt(x) * 3.0);  // forward is finite: sqrt(0) = 0
  }
  tg::AnomalyGuard anomaly;  // on for backward only: the guard need not span the forward pass
  CHECK_THAT(tg::test::message_of<std::runtime_error>([&] { loss.backward(); }),
             Contains("op 'sqrt'") && Contains("backward") && Contains("input shapes: (2,)") &&
                 Contains("gradient for input 0 (shape (2,))") && Contains("0 NaN and 1 Inf"));
}

TEST_CASE("without a guard non-finite values pass silently") {
  CHECK_FALSE(tg::anomaly_enabled());
  tg::Variable<double> x(tg::Tensor<double>{-1.0}, true);
  CHECK(std::isnan(tg::log(x).item()));
  tg::Variable<double> z(tg::Tensor<double>{0.0}, true);
  tg::sum(tg::sqrt(z)).backward();
  CHECK(std::isinf(z.grad()(0)));
}

TEST_CASE("anomaly guards nest and restore the previous state") {
  tg::Variable<double> bad(tg::Tensor<double>{-1.0});
  CHECK_FALSE(tg::anomaly_enabled());
  {
    tg::AnomalyGuard outer;
    CHECK(tg::anomaly_enabled());
    {
      tg::AnomalyGuard inner;
      CHECK(tg::anomaly_enabled());
    }
    CHECK(tg::anomaly_enabled());  // the inner guard restored "on", not "off"
    {
      tg::AnomalyGuard off(false);
      CHECK_FALSE(tg::anomaly_enabled());
      CHECK_NOTHROW(tg::log(bad));
    }
    CHECK_THROWS_AS(tg::log(bad), std::runtime_error);
    bool other_thread = true;
    std::thread([&other_thread] { other_thread = tg::anomaly_enabled(); }).join();
    CHECK_FALSE(other_thread);  // the flag is per thread
  }
  CHECK_FALSE(tg::anomaly_enabled());
  CHECK_NOTHROW(tg::log(bad));
}

TEST_CASE("anomaly mode does not change finite results") {
  tg::Generator gen(7);
  const tg::Tensor<double> xv = tg::test::uniform<double>({4, 5}, gen), wv = tg::test::uniform<double>({3, 5}, gen),
                           bv = tg::test::uniform<double>({3}, gen);
  const tg::Labels labels{0, 2, 1, 2};
  auto step = [&](bool anomaly) {
    tg::AnomalyGuard guard(anomaly);
    tg::Variable<double> x(xv, true), w(wv, true), b(bv, true);
    tg::Variable<double> loss = tg::cross_entropy(tg::tanh(tg::linear(x, w, b)), labels) + tg::mean(tg::exp(x));
    loss.backward();
    return std::vector<tg::Tensor<double>>{loss.value(), x.grad(), w.grad(), b.grad()};
  };
  const auto off = step(false), on = step(true);
  REQUIRE(off.size() == on.size());
  for (std::size_t i = 0; i < off.size(); ++i) CHECK(off[i] == on[i]);  // bitwise equal
}
