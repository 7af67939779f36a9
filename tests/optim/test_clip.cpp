// clip_grad_norm: the norm returned is the one before clipping; gradients scale by
// max_norm / (total + 1e-6) only when that is below 1 (torch.nn.utils.clip_grad_norm_).
#include "test_util.hpp"

#include <cmath>
#include <limits>

using namespace tg;
using tg::test::message_of;
using Catch::Matchers::Contains;

namespace {
template <class T>
Variable<T> with_grad(Tensor<T> value, Tensor<T> grad) {
  Variable<T> v(std::move(value), true);
  v.backward(grad);
  return v;
}
}  // namespace

TEST_CASE("clip_grad_norm: returns the total 2-norm over all gradients and scales them down to max_norm") {
  // Gradients (3, 4) and (12,): total norm sqrt(9 + 16 + 144) = 13, by hand.
  auto a = with_grad<double>({0.0, 0.0}, {3.0, 4.0});
  auto b = with_grad<double>({0.0}, {12.0});
  auto none = Variable<double>(Tensor<double>{5.0}, true);  // no gradient: skipped
  double total = optim::clip_grad_norm<double>({a, b, none}, 6.5);
  CHECK(total == Approx(13.0).epsilon(1e-15));
  const double coef = 6.5 / (13.0 + 1e-6);
  CHECK(a.grad()(0) == Approx(3.0 * coef).epsilon(1e-15));
  CHECK(a.grad()(1) == Approx(4.0 * coef).epsilon(1e-15));
  CHECK(b.grad()(0) == Approx(12.0 * coef).epsilon(1e-15));
  CHECK_FALSE(none.has_grad());
  // The clipped gradients now have norm just below max_norm, and a second call returns that norm.
  CHECK(optim::clip_grad_norm<double>({a, b}, 6.5) == Approx(6.5).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm: below max_norm nothing changes (float gradients)") {
  auto a = with_grad<float>({1.0f, 1.0f}, {0.3f, -0.4f});
  double total = optim::clip_grad_norm(std::vector<Variable<float>>{a}, 1.0);
  CHECK(total == Approx(0.5).epsilon(1e-7));
  CHECK(a.grad()(0) == 0.3f);
  CHECK(a.grad()(1) == -0.4f);
  CHECK(optim::clip_grad_norm(std::vector<Variable<float>>{}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm: other norm orders") {
  auto make = [] { return with_grad<double>({0, 0, 0}, {1.0, -2.0, 2.0}); };
  auto a = make();
  CHECK(optim::clip_grad_norm<double>({a}, 100.0, 1.0) == Approx(5.0).epsilon(1e-15));
  auto b = make();
  CHECK(optim::clip_grad_norm<double>({b}, 1.0, std::numeric_limits<double>::infinity()) == 2.0);
  CHECK(b.grad()(1) == Approx(-2.0 / (2.0 + 1e-6)).epsilon(1e-15));
  auto c = make();
  CHECK(optim::clip_grad_norm<double>({c}, 100.0, 3.0) == Approx(std::cbrt(17.0)).epsilon(1e-14));
}

TEST_CASE("clip_grad_norm: bad arguments and non-finite norms") {
  auto a = with_grad<double>({0.0}, {std::numeric_limits<double>::quiet_NaN()});
  auto msg = message_of<std::invalid_argument>([&] { optim::clip_grad_norm<double>({a}, -1.0); });
  CHECK_THAT(msg, Contains("clip_grad_norm") && Contains("max_norm") && Contains("-1"));
  msg = message_of<std::invalid_argument>([&] { optim::clip_grad_norm<double>({a}, 1.0, 0.0); });
  CHECK_THAT(msg, Contains("clip_grad_norm") && Contains("norm_type") && Contains("0"));
  msg = message_of<std::runtime_error>([&] { optim::clip_grad_norm<double>({a}, 1.0, 2.0, true); });
  CHECK_THAT(msg, Contains("clip_grad_norm") && Contains("nan"));
  CHECK(std::isnan(optim::clip_grad_norm<double>({a}, 1.0)));
}
