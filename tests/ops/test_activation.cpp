#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::all_finite;
using tg::test::message_of;

namespace {

using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// The gradient that reaches `x` when `y`'s gradient is `seed`.
template <class T>
Tensor<T> grad_through(const Variable<T>& x, Variable<T> y, const Tensor<T>& seed) {
  y.backward(seed);
  return x.grad();
}

}  // namespace

// ---------------------------------------------------------------- gradchecks (double, away from kinks)

TEST_CASE("elementwise activations pass gradcheck and gradgradcheck") {
  Generator gen(11);
  auto x = test::param(test::away_from_zero({3, 4}, gen, 0.1, 2.0));
  SECTION("sigmoid") { test::require_higher_order([](auto& v) { return sigmoid(v[0]); }, {x}); }
  SECTION("tanh") { test::require_higher_order([](auto& v) { return tg::tanh(v[0]); }, {x}); }
  SECTION("relu") { test::require_higher_order([](auto& v) { return relu(v[0]); }, {x}); }
  SECTION("leaky_relu default slope") { test::require_higher_order([](auto& v) { return leaky_relu(v[0]); }, {x}); }
  SECTION("leaky_relu slope 0.3") { test::require_higher_order([](auto& v) { return leaky_relu(v[0], 0.3); }, {x}); }
  SECTION("elu default alpha") { test::require_higher_order([](auto& v) { return elu(v[0]); }, {x}); }
  SECTION("elu alpha 1.7") { test::require_higher_order([](auto& v) { return elu(v[0], 1.7); }, {x}); }
}

TEST_CASE("softmax and log_softmax pass gradcheck and gradgradcheck over every axis of a 3-D input") {
  Generator gen(12);
  auto x = test::param(test::uniform({2, 3, 4}, gen, -2.0, 2.0));
  for (int axis : {0, 1, 2, -1, -2, -3}) {
    INFO("axis " << axis);
    test::require_higher_order([axis](auto& v) { return softmax(v[0], axis); }, {x});
    test::require_higher_order([axis](auto& v) { return log_softmax(v[0], axis); }, {x});
  }
}

TEST_CASE("softmax and log_softmax pass gradcheck and gradgradcheck on 1-D and 2-D inputs with the default axis") {
  Generator gen(13);
  auto v1 = test::param(test::uniform({5}, gen, -3.0, 3.0));
  auto v2 = test::param(test::uniform({4, 3}, gen, -3.0, 3.0));
  for (const auto& x : {v1, v2}) {
    test::require_higher_order([](auto& v) { return softmax(v[0]); }, {x});
    test::require_higher_order([](auto& v) { return log_softmax(v[0]); }, {x});
  }
}

TEST_CASE("gradcheck catches a wrong activation gradient (the checks can fail)") {
  // relu's derivative is 0 or 1; a function whose value is relu but whose gradient is doubled must fail.
  Generator gen(14);
  auto x = test::param(test::away_from_zero({4}, gen));
  Fn wrong = [](auto& v) {
    Variable<double> y = relu(v[0]);
    return record_op<double>("bad", y.value(), {v[0]}, [x = v[0]](const Tensor<double>& g) {
      return std::vector<Tensor<double>>{Tensor<double>(xt::where(x.value() > 0.0, 2.0 * g, 0.0))};
    });
  };
  CHECK_FALSE(gradcheck(wrong, {x}).ok);
}

// ---------------------------------------------------------------- forward values

TEST_CASE("elementwise activations match independently computed values") {
  Variable<double> x(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0});
  // numpy 1.24: 1/(1+exp(-x)), tanh(x), where(x>0, x, 1.5*expm1(x))
  test::require_close(sigmoid(x).value(), Tensor<double>{0.11920292202211755, 0.3775406687981454, 0.5,
                                                         0.7310585786300049, 0.9525741268224334}, 1e-14);
  test::require_close(tg::tanh(x).value(), Tensor<double>{-0.9640275800758169, -0.46211715726000974, 0.0,
                                                          0.7615941559557649, 0.9950547536867305}, 1e-14);
  test::require_close(elu(x, 1.5).value(),
                      Tensor<double>{-1.296997075145081, -0.5902040104310499, 0.0, 1.0, 3.0}, 1e-14);
  // by hand
  test::require_close(relu(x).value(), Tensor<double>{0.0, 0.0, 0.0, 1.0, 3.0}, 0);
  test::require_close(leaky_relu(x).value(), Tensor<double>{-0.02, -0.005, 0.0, 1.0, 3.0}, 1e-15);
  test::require_close(leaky_relu(x, 0.2).value(), Tensor<double>{-0.4, -0.1, 0.0, 1.0, 3.0}, 1e-15);
  test::require_close(elu(x).value(), Tensor<double>{std::expm1(-2.0), std::expm1(-0.5), 0.0, 1.0, 3.0}, 1e-15);
}

TEST_CASE("sigmoid keeps tiny values at very negative inputs and saturates at large ones") {
  Variable<double> x(Tensor<double>{-700.0, -40.0, 40.0, 700.0});
  Tensor<double> y = sigmoid(x).value();
  CHECK(y(0) == Approx(std::exp(-700.0)).epsilon(1e-12));
  CHECK(y(1) == Approx(std::exp(-40.0)).epsilon(1e-12));
  CHECK(y(2) == 1.0);
  CHECK(y(3) == 1.0);
}

TEST_CASE("activations accept a scalar parameter written as a double literal for float input") {
  Variable<float> x(Tensor<float>{-1.0f, 2.0f}, true);
  Variable<float> y = leaky_relu(x, 0.2);
  CHECK(y.value()(0) == Approx(-0.2f));
  Variable<float> z = elu(x, 2.0);
  CHECK(z.value()(0) == Approx(2.0 * std::expm1(-1.0)).epsilon(1e-6));
  CHECK(sigmoid(x).value()(1) == Approx(1.0 / (1.0 + std::exp(-2.0))).epsilon(1e-6));
  CHECK(tg::tanh(x).value()(1) == Approx(std::tanh(2.0)).epsilon(1e-6));
  CHECK(relu(x).value()(0) == 0.0f);
}

TEST_CASE("softmax and log_softmax match numpy on a 2-D input along both axes") {
  Variable<double> z(Tensor<double>{{1.0, 2.0, 3.0}, {-1.0, 0.5, 0.0}});
  // numpy 1.24: e = exp(z - z.max(axis, keepdims)); e / e.sum(axis, keepdims), and the log form
  test::require_close(softmax(z).value(), Tensor<double>{{0.09003057317038043, 0.24472847105479767, 0.6652409557748218},
                                                         {0.12195165230972885, 0.5465493872661796, 0.3314989604240915}},
                      1e-14);
  test::require_close(softmax(z, 0).value(),
                      Tensor<double>{{0.8807970779778825, 0.8175744761936437, 0.9525741268224334},
                                     {0.11920292202211755, 0.18242552380635632, 0.04742587317756678}},
                      1e-14);
  test::require_close(log_softmax(z, -1).value(),
                      Tensor<double>{{-2.4076059644443806, -1.4076059644443804, -0.40760596444438035},
                                     {-2.1041306053367284, -0.6041306053367284, -1.1041306053367284}},
                      1e-14);
  test::require_close(log_softmax(z, 0).value(),
                      Tensor<double>{{-0.1269280110429724, -0.20141327798275246, -0.04858735157374197},
                                     {-2.1269280110429722, -1.7014132779827524, -3.048587351573742}},
                      1e-14);
}

TEST_CASE("softmax and log_softmax match numpy along inner and outer axes of a 3-D input") {
  Variable<double> t(Tensor<double>{{{0.3, -1.2}, {1.1, 0.4}, {-0.7, 2.0}}, {{0.0, 0.5}, {-1.5, 1.0}, {0.8, -0.3}}});
  // numpy 1.24, same formulas as above
  test::require_close(softmax(t, 1).value(),
                      Tensor<double>{{{0.2782863948905397, 0.03280241248670941},
                                      {0.6193377616715132, 0.16247141264505494},
                                      {0.10237584343794708, 0.8047261748682356}},
                                     {{0.2899667652545243, 0.3227836620470283},
                                      {0.06470033076896418, 0.5321802894514172},
                                      {0.6453329039765114, 0.14503604850155455}}},
                      1e-14);
  test::require_close(log_softmax(t, -2).value(),
                      Tensor<double>{{{-1.2791044981327357, -3.417253214872745},
                                      {-0.47910449813273576, -1.8172532148727447},
                                      {-2.2791044981327357, -0.21725321487274465}},
                                     {{-1.2379889651395994, -1.1307729571044476},
                                      {-2.7379889651395994, -0.6307729571044475},
                                      {-0.43798896513959945, -1.9307729571044474}}},
                      1e-14);
  test::require_close(softmax(t, 0).value(),
                      Tensor<double>{{{0.574442516811659, 0.1544652650835347},
                                      {0.9308615796566533, 0.35434369377420455},
                                      {0.18242552380635632, 0.9088770389851438}},
                                     {{0.425557483188341, 0.8455347349164652},
                                      {0.0691384203433468, 0.6456563062257954},
                                      {0.8175744761936437, 0.09112296101485615}}},
                      1e-14);
}

TEST_CASE("softmax of a 0-d tensor is 1 like PyTorch") {
  Variable<double> s(Tensor<double>(2.5), true);
  Variable<double> y = softmax(s);
  CHECK(y.shape().empty());
  CHECK(y.item() == 1.0);
  CHECK(log_softmax(s, 0).item() == 0.0);
}

TEST_CASE("softmax on float rows sums to one") {
  Generator gen(15);
  Variable<float> x(test::uniform<float>({8, 10}, gen, -5.0, 5.0));
  Tensor<float> y = softmax(x).value();
  for (std::size_t r = 0; r < 8; ++r) {
    float s = 0;
    for (std::size_t c = 0; c < 10; ++c) s += y(r, c);
    CHECK(s == Approx(1.0f).epsilon(1e-6));
  }
}

// ---------------------------------------------------------------- numerical stability

TEST_CASE("softmax and log_softmax are finite and correct at logits of +-1000") {
  const Tensor<double> big{{1000.0, -1000.0, 0.0}, {-1000.0, -1000.0, 1000.0}};
  SECTION("softmax, double") {
    auto x = test::param(big);
    const Variable<double> y = softmax(x);
    test::require_close(y.value(), Tensor<double>{{1.0, 0.0, 0.0}, {0.0, 0.0, 1.0}}, 1e-300);
    Tensor<double> g = grad_through(x, y, Tensor<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    REQUIRE(all_finite(g));
    test::require_close(g, Tensor<double>(xt::zeros<double>({2, 3})), 1e-300);  // one-hot rows: y * (g - g.y) = 0
  }
  SECTION("log_softmax, double") {
    auto x = test::param(big);
    const Variable<double> y = log_softmax(x);
    // exact: 0 for the max, x - max elsewhere (the other exponentials vanish)
    test::require_close(y.value(), Tensor<double>{{0.0, -2000.0, -1000.0}, {-2000.0, -2000.0, 0.0}}, 1e-12);
    Tensor<double> g = grad_through(x, y, Tensor<double>(xt::ones<double>({2, 3})));
    REQUIRE(all_finite(g));
    // g - softmax * sum(g) = 1 - 3 * onehot
    test::require_close(g, Tensor<double>{{-2.0, 1.0, 1.0}, {1.0, 1.0, -2.0}}, 1e-12);
  }
  SECTION("float") {
    Variable<float> x(Tensor<float>(big), true);
    const Variable<float> y = log_softmax(x);
    CHECK(y.value()(0, 1) == -2000.0f);
    CHECK(y.value()(1, 2) == 0.0f);
    Tensor<float> g = grad_through(x, y, Tensor<float>(xt::ones<float>({2, 3})));
    for (float v : g) CHECK(std::isfinite(v));
    CHECK(g(0, 0) == Approx(-2.0f));
    Variable<float> x2(Tensor<float>(big), true);
    const Variable<float> s = softmax(x2, 1);
    for (float v : s.value()) CHECK(std::isfinite(v));
    CHECK(s.value()(0, 0) == 1.0f);
    Tensor<float> gs = grad_through(x2, s, Tensor<float>{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    for (float v : gs) CHECK(std::isfinite(v));
  }
  SECTION("along axis 0 (the strided path)") {
    auto x = test::param(Tensor<double>(xt::transpose(big)));
    Variable<double> y = log_softmax(x, 0);
    test::require_close(y.value(), Tensor<double>{{0.0, -2000.0}, {-2000.0, -2000.0}, {-1000.0, 0.0}}, 1e-12);
    Tensor<double> g = grad_through(x, softmax(x, 0), Tensor<double>(xt::ones<double>({3, 2})));
    REQUIRE(all_finite(g));
  }
}

// ---------------------------------------------------------------- kinks: PyTorch's conventions

TEST_CASE("gradients at exactly 0 follow PyTorch: relu 0 leaky_relu slope elu alpha") {
  const Tensor<double> at{-1.0, 0.0, 2.0};
  const Tensor<double> ones{1.0, 1.0, 1.0};
  SECTION("relu") {
    auto x = test::param(at);
    test::require_close(grad_through(x, relu(x), ones), Tensor<double>{0.0, 0.0, 1.0}, 0);
  }
  SECTION("leaky_relu") {
    auto x = test::param(at);
    test::require_close(grad_through(x, leaky_relu(x, 0.25), ones), Tensor<double>{0.25, 0.25, 1.0}, 0);
    auto x2 = test::param(at);
    test::require_close(grad_through(x2, leaky_relu(x2), ones), Tensor<double>{0.01, 0.01, 1.0}, 1e-15);
  }
  SECTION("elu") {
    auto x = test::param(at);
    test::require_close(grad_through(x, elu(x, 1.5), ones), Tensor<double>{1.5 * std::exp(-1.0), 1.5, 1.0}, 1e-15);
    auto x2 = test::param(at);
    test::require_close(grad_through(x2, elu(x2), ones), Tensor<double>{std::exp(-1.0), 1.0, 1.0}, 1e-15);
  }
  SECTION("float relu and leaky_relu") {
    Variable<float> x(Tensor<float>{-1.0f, 0.0f, 2.0f}, true);
    Tensor<float> g = grad_through(x, relu(x), Tensor<float>{1.f, 1.f, 1.f});
    CHECK(g(1) == 0.0f);
    Variable<float> x2(Tensor<float>{-1.0f, 0.0f, 2.0f}, true);
    Tensor<float> g2 = grad_through(x2, leaky_relu(x2, 0.5), Tensor<float>{1.f, 1.f, 1.f});
    CHECK(g2(1) == 0.5f);
  }
}

// ---------------------------------------------------------------- recording

TEST_CASE("activations record nothing when the input does not require grad") {
  Variable<double> x(Tensor<double>{{0.5, -0.5}});
  for (const auto& y : {sigmoid(x), tg::tanh(x), relu(x), leaky_relu(x), elu(x), softmax(x), log_softmax(x)}) {
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  auto p = test::param(Tensor<double>{{0.5, -0.5}});
  CHECK(softmax(p).op() == "softmax");
  CHECK(log_softmax(p).op() == "log_softmax");
}

// ---------------------------------------------------------------- errors

TEST_CASE("softmax and log_softmax reject an out-of-range axis naming the function and the axis") {
  Variable<double> x(xt::zeros<double>({2, 3}));
  for (int axis : {2, -3, 7}) {
    std::string msg = message_of<std::invalid_argument>([&] { softmax(x, axis); });
    CHECK_THAT(msg, Contains("softmax") && Contains("axis " + std::to_string(axis)) && Contains("2 dimensions"));
    std::string lmsg = message_of<std::invalid_argument>([&] { log_softmax(x, axis); });
    CHECK_THAT(lmsg, Contains("log_softmax") && Contains("axis " + std::to_string(axis)));
  }
  Variable<float> s(Tensor<float>(1.0f));
  CHECK_THAT(message_of<std::invalid_argument>([&] { softmax(s, 1); }), Contains("softmax") && Contains("axis 1"));
}

// ---------------------------------------------------------------- higher order

TEST_CASE("second derivatives by hand: elu, leaky_relu and relu") {
  // elu'' = alpha e^x for x < 0 and 0 for x > 0; leaky_relu'' = relu'' = 0 (also at the kink).
  const Tensor<double> xs{-1.5, -0.25, 0.0, 0.5, 2.0};
  const auto second = [&xs](const std::function<Variable<double>(const Variable<double>&)>& f) {
    Variable<double> x(xs, true);
    Variable<double> d1 = grad<double>({sum(f(x))}, {x}, {}, std::nullopt, true)[0];
    return Tensor<double>(grad<double>({sum(d1)}, {x}, {}, std::nullopt, false, true)[0].value());
  };
  // At exactly 0 elu's derivative is alpha (the left branch, as PyTorch), so its derivative is too.
  test::require_close(second([](const Variable<double>& x) { return elu(x, 1.7); }),
                      Tensor<double>{1.7 * std::exp(-1.5), 1.7 * std::exp(-0.25), 1.7, 0, 0}, 1e-12);
  test::require_close(second([](const Variable<double>& x) { return leaky_relu(x, 0.2) * x; }),
                      Tensor<double>{0.4, 0.4, 0.4, 2.0, 2.0}, 1e-12);  // (slope x^2 or x^2)'' = 2 slope or 2
  test::require_close(second([](const Variable<double>& x) { return relu(x) * 5.0; }), Tensor<double>{0, 0, 0, 0, 0}, 0);
}

TEST_CASE("the Hessian of -log_softmax(x)[k] is diag(p) - p p^T whatever k") {
  // d/dx_i (-log p_k) = p_i - [i == k]; d2/dx_i dx_j = p_i [i == j] - p_i p_j.
  const Tensor<double> x{0.3, -1.2, 2.0, 0.5};
  const Tensor<double> e = xt::exp(x);
  const Tensor<double> p = e / xt::sum(e)();
  Tensor<double> expected = Tensor<double>::from_shape({4, 4});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) expected(i, j) = (i == j ? p(i) : 0.0) - p(i) * p(j);
  for (std::int64_t k : {0, 2, 3}) {
    INFO("k = " << k);
    const Tensor<double> H = functional::hessian(
        [k](const Variable<double>& v) { return -slice(log_softmax(v, 0), 0, k, k + 1); }, x);
    test::require_close(H, expected, 1e-12);
    // through softmax: -log(softmax(x)[k]) has the same Hessian
    const Tensor<double> H2 = functional::hessian(
        [k](const Variable<double>& v) { return -log(slice(softmax(v, -1), 0, k, k + 1)); }, x);
    test::require_close(H2, expected, 1e-12);
  }
}

TEST_CASE("activations: third derivatives pass gradcheck and gradgradcheck") {
  Generator gen(16);
  const Tensor<double> x = test::away_from_zero({2, 3}, gen, 0.1, 2.0);
  const Tensor<double> w = test::uniform({2, 3}, gen);  // a weighted sum: sum(softmax) alone is constant
  const Variable<double> weights(w);
  using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;
  const std::vector<std::pair<std::string, Fn>> fs = {
      {"sigmoid", [](auto& v) { return sigmoid(v[0]); }},
      {"tanh", [](auto& v) { return tg::tanh(v[0]); }},
      {"elu", [](auto& v) { return elu(v[0], 1.3) * v[0]; }},
      {"leaky_relu", [](auto& v) { return leaky_relu(v[0], 0.3) * v[0] * v[0]; }},
      {"relu", [](auto& v) { return relu(v[0]) * v[0] * v[0]; }},
      {"softmax axis 1", [weights](auto& v) { return softmax(v[0], 1) * weights; }},
      {"softmax axis 0", [weights](auto& v) { return softmax(v[0], 0) * weights; }},
      {"log_softmax axis -1", [weights](auto& v) { return log_softmax(v[0], -1) * weights; }},
      {"log_softmax axis -2", [weights](auto& v) { return log_softmax(v[0], -2) * weights; }},
  };
  for (const auto& [name, f] : fs) {
    INFO(name);
    test::require_grad_and_gradgrad(test::gradient_of(f), {test::param(x)});
  }
}
