// Schedulers against PyTorch's closed forms, written out here per epoch.
#include "test_util.hpp"

#include <cmath>

using namespace tg;
using tg::test::message_of;
using Catch::Matchers::Contains;

namespace {
Variable<float> param() { return Variable<float>(Tensor<float>{1.0f, 2.0f}, true); }
}  // namespace

TEST_CASE("StepLR: lr = base * gamma^(epoch / step_size) set on the optimiser") {
  auto p = param();
  optim::SGDOptions o; o.lr = 0.5;
  optim::SGD sgd({p}, o);
  optim::StepLR sched(sgd, 3, 0.5);
  // Epochs 0..8 by hand: 0.5 for 0-2, 0.25 for 3-5, 0.125 for 6-8.
  const double expected[] = {0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125};
  for (std::size_t epoch = 0; epoch < 9; ++epoch) {
    INFO("epoch " << epoch);
    CHECK(sched.last_epoch() == epoch);
    CHECK(sched.get_last_lr() == Approx(expected[epoch]).epsilon(1e-15));
    CHECK(sgd.lr() == sched.get_last_lr());
    sched.step();
  }
  // The default gamma is 0.1.
  optim::Adam adam({p});
  optim::StepLR tenth(adam, 2);
  for (int i = 0; i < 4; ++i) tenth.step();
  CHECK(adam.lr() == Approx(1e-3 * 0.01).epsilon(1e-12));
}

TEST_CASE("CosineAnnealingLR: eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2") {
  auto p = param();
  optim::SGDOptions o; o.lr = 0.1;
  optim::SGD sgd({p}, o);
  optim::CosineAnnealingLR sched(sgd, 10, 0.001);
  const double pi = 3.14159265358979323846;
  for (std::size_t epoch = 0; epoch <= 25; ++epoch) {
    INFO("epoch " << epoch);
    const double expected = 0.001 + (0.1 - 0.001) * (1 + std::cos(pi * epoch / 10.0)) / 2;
    CHECK(sched.get_last_lr() == Approx(expected).epsilon(1e-13).margin(1e-15));
    CHECK(sgd.lr() == sched.get_last_lr());
    sched.step();
  }
  // Landmarks by hand: the start, half way, the minimum at T_max.
  optim::RMSprop rms({p});
  optim::CosineAnnealingLR c(rms, 4);
  CHECK(c.get_last_lr() == 0.01);
  c.step(); c.step();
  CHECK(c.get_last_lr() == Approx(0.005).epsilon(1e-14));
  c.step(); c.step();
  CHECK(c.get_last_lr() == Approx(0.0).margin(1e-17));
}

TEST_CASE("Schedulers reject degenerate settings") {
  auto p = param();
  optim::SGD sgd({p});
  auto msg = message_of<std::invalid_argument>([&] { optim::StepLR s(sgd, 0); });
  CHECK_THAT(msg, Contains("StepLR") && Contains("step_size"));
  msg = message_of<std::invalid_argument>([&] { optim::StepLR s(sgd, 2, -0.5); });
  CHECK_THAT(msg, Contains("StepLR") && Contains("gamma") && Contains("-0.5"));
  msg = message_of<std::invalid_argument>([&] { optim::CosineAnnealingLR s(sgd, 0); });
  CHECK_THAT(msg, Contains("CosineAnnealingLR") && Contains("T_max"));
  msg = message_of<std::invalid_argument>([&] { optim::CosineAnnealingLR s(sgd, 5, -1.0); });
  CHECK_THAT(msg, Contains("CosineAnnealingLR") && Contains("eta_min") && Contains("-1"));
}
