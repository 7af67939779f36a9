#include "test_util.hpp"

#include <limits>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using Vars = std::vector<Variable<double>>;

// A (2, 3, 4) tensor with ties along axes 1 and 2 (e.g. x[0, 1:3, 0] = 5, 5 and x[0, 2, :] = 5, 3, 5, -8).
Tensor<double> x_values() {
  return {{{3, -1, 4, 1}, {5, 9, -2, 6}, {5, 3, 5, -8}}, {{9, 7, -9, 3}, {2, 3, 8, 4}, {-6, 2, 6, 4}}};
}

using ReduceAll = std::function<Variable<double>(const Variable<double>&)>;
using ReduceAxes = std::function<Variable<double>(const Variable<double>&, const Axes&, bool keepdim)>;

// require_higher_order of a reduction over all elements of a (2, 3, 4) input, then, keepdim false
// and true, over each of `axes3` of that input and each of `axes4` of a (2, 3, 2, 3) one; the
// inputs are drawn in that order from Generator(seed).
void check_reduction_higher_order(const ReduceAll& reduce_all, const ReduceAxes& reduce, std::uint64_t seed,
                                  const std::vector<Axes>& axes3, const std::vector<Axes>& axes4) {
  Generator gen(seed);
  const Tensor<double> x3 = test::uniform({2, 3, 4}, gen);
  const Tensor<double> x4 = test::uniform({2, 3, 2, 3}, gen);
  test::require_higher_order([reduce_all](const Vars& v) { return reduce_all(v[0]); }, {test::param(x3)});
  for (bool keep : {false, true}) {
    INFO("keepdim " << keep);
    for (const Axes& axes : axes3) {
      INFO("axes " << fmt::format("{}", fmt::join(axes, ",")));
      test::require_higher_order([reduce, axes, keep](const Vars& v) { return reduce(v[0], axes, keep); },
                                 {test::param(x3)});
    }
    for (const Axes& axes : axes4) {
      INFO("4-D, axes " << fmt::format("{}", fmt::join(axes, ",")));
      test::require_higher_order([reduce, axes, keep](const Vars& v) { return reduce(v[0], axes, keep); },
                                 {test::param(x4)});
    }
  }
}

Tensor<double> reshaped(Tensor<double> t, const Shape& shape) {
  t.reshape(shape);
  return t;
}

}  // namespace

// Expected values below were printed by numpy 1.24 (/usr/bin/python3) for x_values().
TEST_CASE("sum: forward values full and over axes keepdim") {
  Variable<double> x(x_values());
  auto full = sum(x);
  CHECK(full.shape() == Shape{});
  CHECK(full.item() == 63.0);
  test::require_close(sum(x, {1}).value(), Tensor<double>{{13, 11, 7, -1}, {5, 12, 5, 11}});
  test::require_close(sum(x, {-1}, true).value(), reshaped({7, 18, 5, 10, 17, 6}, {2, 3, 1}));
  test::require_close(sum(x, {0, 2}, true).value(), reshaped({17, 35, 11}, {1, 3, 1}));
  test::require_close(sum(x, {1, 0}).value(), Tensor<double>{18, 23, 12, 10});  // order does not matter
  test::require_close(sum(x, {}, true).value(), reshaped({63}, {1, 1, 1}));      // empty = every axis
  CHECK(sum(x, {}).shape() == Shape{});
}

TEST_CASE("mean: forward values full and over axes keepdim") {
  Variable<double> x(x_values());
  auto full = mean(x);
  CHECK(full.shape() == Shape{});
  CHECK(full.item() == 2.625);
  test::require_close(mean(x, {0}).value(),
                      Tensor<double>{{6, 3, -2.5, 2}, {3.5, 6, 3, 5}, {-0.5, 2.5, 5.5, -2}});
  test::require_close(mean(x, {-1, -3}).value(), Tensor<double>{2.125, 4.375, 1.375});
  test::require_close(mean(x, {1, 2}, true).value(), reshaped({2.5, 2.75}, {2, 1, 1}));
}

TEST_CASE("max: forward values along an axis keepdim") {
  Variable<double> x(x_values());
  test::require_close(max(x, 0).value(), Tensor<double>{{9, 7, 4, 3}, {5, 9, 8, 6}, {5, 3, 6, 4}});
  test::require_close(max(x, 1).value(), Tensor<double>{{5, 9, 5, 6}, {9, 7, 8, 4}});
  test::require_close(max(x, -1, true).value(), reshaped({4, 9, 5, 9, 8, 6}, {2, 3, 1}));
  CHECK(max(x, -1).shape() == Shape{2, 3});
}

TEST_CASE("max: with ties the gradient goes to the first maximal element") {
  // numpy's argmax (first maximum) along axis 1 is [[1, 1, 2, 1], [0, 0, 1, 1]]; along -1 it is
  // [[2, 1, 0], [0, 2, 2]]. Seeds with distinct values show which element got which gradient.
  Variable<double> x(x_values(), true);
  max(x, 1).backward(Tensor<double>{{1, 2, 3, 4}, {5, 6, 7, 8}});
  test::require_close(x.grad(), Tensor<double>{{{0, 0, 0, 0}, {1, 2, 0, 4}, {0, 0, 3, 0}},
                                               {{5, 6, 0, 0}, {0, 0, 7, 8}, {0, 0, 0, 0}}});
  x.zero_grad();
  max(x, -1, true).backward(reshaped({1, 2, 3, 4, 5, 6}, {2, 3, 1}));
  test::require_close(x.grad(), Tensor<double>{{{0, 0, 1, 0}, {0, 2, 0, 0}, {3, 0, 0, 0}},
                                               {{4, 0, 0, 0}, {0, 0, 5, 0}, {0, 0, 6, 0}}});
  x.zero_grad();
  Variable<double> all_equal(Tensor<double>{{2, 2, 2}}, true);
  max(all_equal, 1).backward(Tensor<double>{1});
  test::require_close(all_equal.grad(), Tensor<double>{{1, 0, 0}});
}

TEST_CASE("max: a NaN is the maximum (the first NaN gets the gradient) as in PyTorch") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Variable<double> x(Tensor<double>{1, nan, 3, nan}, true);
  auto m = max(x, 0);
  CHECK(std::isnan(m.item()));
  m.backward();
  test::require_close(x.grad(), Tensor<double>{0, 1, 0, 0});
}

TEST_CASE("sum: gradcheck and gradgradcheck full keepdim true/false negative and several axes") {
  check_reduction_higher_order([](const Variable<double>& x) { return sum(x); },
                               [](const Variable<double>& x, const Axes& axes, bool keep) { return sum(x, axes, keep); },
                               31, {Axes{0}, Axes{1}, Axes{-1}, Axes{-3, -2}, Axes{2, 0}, Axes{}},
                               {Axes{0, 2}, Axes{1, -1}, Axes{0, 1, 3}});  // 4-D: non-adjacent runs
}

TEST_CASE("mean: gradcheck and gradgradcheck full keepdim true/false negative and several axes") {
  check_reduction_higher_order([](const Variable<double>& x) { return mean(x); },
                               [](const Variable<double>& x, const Axes& axes, bool keep) { return mean(x, axes, keep); },
                               32, {Axes{0}, Axes{-2}, Axes{-1, 0}, Axes{1, 2}}, {Axes{0, 2}, Axes{-3, -1}});
}

TEST_CASE("max: gradcheck and gradgradcheck along each axis negative axes keepdim true/false") {
  Generator gen(33);  // uniform values: ties have probability 0, gaps far above eps
  const Tensor<double> x = test::uniform({3, 4, 5}, gen);
  for (bool keep : {false, true}) {
    for (int axis : {0, 1, 2, -1, -3}) {
      INFO("axis " << axis << ", keepdim " << keep);
      test::require_higher_order([axis, keep](const Vars& v) { return max(v[0], axis, keep); }, {test::param(x)});
    }
  }
  // composed with other reductions
  test::require_higher_order([](const Vars& v) { return mean(max(v[0], 1), {0}); }, {test::param(x)});
}

TEST_CASE("reductions of a 0-d tensor: axis 0 and -1 are accepted as in PyTorch") {
  Variable<double> s(Tensor<double>(2.5), true);
  CHECK(sum(s).shape() == Shape{});
  CHECK(sum(s, {0}).item() == 2.5);
  CHECK(mean(s, {-1}, true).shape() == Shape{});
  CHECK(max(s, 0).item() == 2.5);
  test::require_higher_order([](const Vars& v) { return max(v[0], -1) * sum(v[0], {0}) + mean(v[0]); },
                          {test::param(Tensor<double>(0.7))});
}

TEST_CASE("reductions of empty tensors: sum 0 mean NaN max over a non-empty axis") {
  Variable<double> e(xt::zeros<double>({0, 3}));
  test::require_close(sum(e, {0}).value(), Tensor<double>{0, 0, 0});
  CHECK(sum(e).item() == 0.0);
  CHECK(std::isnan(mean(e).item()));
  CHECK(max(e, 1).shape() == Shape{0});
}

TEST_CASE("float reductions: accumulation keeps a million-element sum accurate") {
  Variable<float> x(xt::ones<float>({1000, 1000}) * 0.1f, true);
  CHECK(sum(x).item() == Approx(100000.0).epsilon(1e-6));
  test::require_close(sum(x, {0}).value(), Tensor<float>(xt::ones<float>({1000}) * 100.0f), 1e-5);
  auto m = mean(x);
  CHECK(m.item() == Approx(0.1).epsilon(1e-6));
  m.backward();
  CHECK(x.grad()(3, 7) == Approx(1e-6));
  Variable<float> y(Tensor<float>{{1, 5, 5}, {7, -1, 0}}, true);
  test::require_close(max(y, 1).value(), Tensor<float>{5, 7});
  max(y, -1).backward(Tensor<float>{1, 1});
  test::require_close(y.grad(), Tensor<float>{{0, 1, 0}, {1, 0, 0}});
}

TEST_CASE("reductions release their graph after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Variable<double> x(x_values(), true);
    auto y = sum(max(x, 1, true)) + mean(x, {0, 2}).value().size() * mean(sum(x, {-1}));
    y.backward();
    CHECK(tape_stats().live_nodes == before);
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("sum and mean: an axis out of range names the function the axis and the shape") {
  Variable<double> x(xt::zeros<double>({2, 3, 4}));
  for (const Axes& axes : {Axes{3}, Axes{0, -4}}) {
    const std::string bad = std::to_string(axes.back());
    std::string msg = message_of<std::invalid_argument>([&] { sum(x, axes); });
    CHECK_THAT(msg, Contains("sum:") && Contains("axis " + bad) && Contains("(2, 3, 4)"));
    msg = message_of<std::invalid_argument>([&] { mean(x, axes, true); });
    CHECK_THAT(msg, Contains("mean:") && Contains("axis " + bad) && Contains("(2, 3, 4)"));
  }
  std::string msg = message_of<std::invalid_argument>([] { sum(Variable<double>(Tensor<double>(1.0)), {1}); });
  CHECK_THAT(msg, Contains("sum:") && Contains("axis 1") && Contains("()"));
}

TEST_CASE("sum and mean: a repeated axis names the function the axes and the shape") {
  Variable<double> x(xt::zeros<double>({2, 3, 4}));
  std::string msg = message_of<std::invalid_argument>([&] { sum(x, {1, -2}); });
  CHECK_THAT(msg, Contains("sum:") && Contains("repeated") && Contains("[1, -2]") && Contains("(2, 3, 4)"));
  msg = message_of<std::invalid_argument>([&] { mean(x, {0, 0}); });
  CHECK_THAT(msg, Contains("mean:") && Contains("repeated") && Contains("[0, 0]") && Contains("(2, 3, 4)"));
}

TEST_CASE("max: an axis out of range or an empty axis names the function the axis and the shape") {
  Variable<double> x(xt::zeros<double>({2, 3}));
  std::string msg = message_of<std::invalid_argument>([&] { max(x, 2); });
  CHECK_THAT(msg, Contains("max:") && Contains("axis 2") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { max(x, -3); });
  CHECK_THAT(msg, Contains("max:") && Contains("axis -3") && Contains("(2, 3)"));
  Variable<double> e(xt::zeros<double>({2, 0}));
  msg = message_of<std::invalid_argument>([&] { max(e, -1); });
  CHECK_THAT(msg, Contains("max:") && Contains("axis -1") && Contains("(2, 0)") && Contains("empty"));
}

TEST_CASE("reductions: third derivatives pass gradcheck and gradgradcheck") {
  Generator gen(35);
  const Tensor<double> x = test::uniform({2, 3, 4}, gen);
  using Fn = std::function<Variable<double>(const Vars&)>;
  const std::vector<std::pair<std::string, Fn>> fs = {
      {"sum over an axis", [](const Vars& v) { return pow(sum(v[0], {1}), 3.0); }},
      {"sum over two axes keepdim", [](const Vars& v) { return pow(sum(v[0], {0, 2}, true), 3.0) * v[0]; }},
      {"full sum", [](const Vars& v) { return pow(sum(v[0] * v[0]), 2.0); }},
      {"mean over the last axis", [](const Vars& v) { return pow(mean(v[0], {-1}), 3.0); }},
      {"mean over two axes keepdim", [](const Vars& v) { return pow(mean(v[0], {-3, -1}, true), 3.0) * v[0]; }},
      {"full mean", [](const Vars& v) { return pow(mean(v[0]), 3.0); }},
      {"max", [](const Vars& v) { return pow(max(v[0], 1), 3.0); }},
      {"max keepdim", [](const Vars& v) { return max(v[0] * v[0], -1, true) * v[0]; }},
  };
  for (const auto& [name, f] : fs) {
    INFO(name);
    test::require_grad_and_gradgrad(test::gradient_of(f), {test::param(x)});
  }
}

TEST_CASE("reductions: second derivatives by hand") {
  // f = sum(x)^2: H = 2 everywhere; f = mean(x, {1})^2 summed over rows: H = 2 / n^2 within a row;
  // f = max(x, 1)^2 summed: H = 2 at each row's argmax, 0 elsewhere.
  const Tensor<double> x{{0.5, -1.0, 2.0}, {3.0, 0.25, -0.5}};
  const Tensor<double> H1 = functional::hessian([](const Variable<double>& v) { return pow(sum(v), 2.0); }, x);
  test::require_close(H1, Tensor<double>(2.0 * xt::ones<double>({2, 3, 2, 3})), 1e-12);
  const Tensor<double> H2 = functional::hessian([](const Variable<double>& v) { return sum(pow(mean(v, {1}), 2.0)); }, x);
  const Tensor<double> H3 = functional::hessian([](const Variable<double>& v) { return sum(pow(max(v, 1), 2.0)); }, x);
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 2; ++k)
        for (std::size_t l = 0; l < 3; ++l) {
          INFO(i << j << k << l);
          REQUIRE(H2(i, j, k, l) == Approx(i == k ? 2.0 / 9.0 : 0.0).margin(1e-12));
          const bool at_max = i == k && j == l && j == (i == 0 ? 2u : 0u);  // argmax: column 2, then 0
          REQUIRE(H3(i, j, k, l) == (at_max ? 2.0 : 0.0));
        }
}
