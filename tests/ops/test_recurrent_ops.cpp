// lstm_cell_pointwise: values and gradients against PyTorch, first and second derivatives, errors.
#include <utility>

#include "test_util.hpp"

using namespace tg;
using tg::test::message_of;

namespace {

// Two rows, H = 2: gates (2, 8) in the order i, f, g, o, and the cell state (2, 2).
template <class T>
Tensor<T> cell_gates() {
  return Tensor<T>{{0.5, -1.0, 0.25, 2.0, -0.3, 0.8, 1.5, -2.0}, {-0.7, 0.1, 3.0, -0.4, 0.9, -1.2, 0.6, 0.2}};
}
template <class T>
Tensor<T> cell_state() {
  return Tensor<T>{{0.3, -0.6}, {1.1, -0.2}};
}

}  // namespace

// Expected values: torch 1.13 (float64), i, f, g, o = gates.chunk(4, 1);
// c2 = sigmoid(f) * c + sigmoid(i) * tanh(g); h2 = sigmoid(o) * tanh(c2); then
// ((h2 * w1).sum() + (c2 * w2).sum()).backward() with w1 = [[1, -2], [0.5, 3]], w2 = [[-1, 0.25], [2, 0.5]].
TEMPLATE_TEST_CASE("lstm_cell_pointwise matches torch, values and gradients", "[recurrent-ops]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  Variable<T> gates(cell_gates<T>(), true), c(cell_state<T>(), true);
  auto [h2, c2] = lstm_cell_pointwise(gates, c);
  test::require_close(std::as_const(h2).value(),
                      Tensor<T>{{-0.010364084680475212, -0.04008545124092264}, {0.5539379278979798, -0.2617695126232187}},
                      tol);
  test::require_close(std::as_const(c2).value(),
                      Tensor<T>{{-0.012677303651542904, -0.34989125394895315}, {1.285507931606613, -0.5179137862048259}},
                      tol);
  const Variable<T> w1(Tensor<T>{{1.0, -2.0}, {0.5, 3.0}}), w2(Tensor<T>{{-1.0, 0.25}, {2.0, 0.5}});
  (sum(h2 * w1) + sum(c2 * w2)).backward();
  test::require_close(gates.grad(),
                      Tensor<T>{{0.012497762743006466, 0.00503351000608412, -0.013480042938646717, -0.002428750769155635,
                                 -0.10399090161989206, 0.00579670629499595, -0.0018906735766091238, 0.07061429664485908},
                                {0.3311563546954393, -0.36914103822207295, 0.10362280049994695, -0.08532263646323653,
                                 0.3368962441821275, 0.2843294519699617, 0.0981422057464996, -0.35351920536916565}},
                      tol);
  test::require_close(c.grad(),
                      Tensor<T>{{-0.10262920229970406, 0.033958210754612604}, {1.9863112600234067, 0.7125805503257766}},
                      tol);
}

// torch 1.13 (float64): the same with c = 0: c2 = sigmoid(i) * tanh(g), h2 = sigmoid(o) * tanh(c2).
TEMPLATE_TEST_CASE("lstm_cell_pointwise with an undefined cell state starts from zeros", "[recurrent-ops]", float,
                   double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  auto [h2, c2] = lstm_cell_pointwise(Variable<T>(cell_gates<T>()), Variable<T>());
  test::require_close(std::as_const(h2).value(),
                      Tensor<T>{{-0.14664721383468393, 0.021064625843972094}, {0.1506314917576943, -0.22636431126245504}},
                      tol);
  test::require_close(std::as_const(c2).value(),
                      Tensor<T>{{-0.18133025391728233, 0.1785869928377762}, {0.23767639210193608, -0.4376513182273163}},
                      tol);
}

TEST_CASE("lstm_cell_pointwise gradcheck, gradgradcheck and third order", "[recurrent-ops]") {
  Generator gen(11);
  // Leading axes beyond the batch, as the multi-layer LSTM passes (1, N, 4H) steps.
  std::vector<Variable<double>> inputs{test::param(test::uniform({1, 2, 12}, gen, -2.0, 2.0)),
                                       test::param(test::uniform({1, 2, 3}, gen, -1.0, 1.0))};
  auto both = [](const std::vector<Variable<double>>& v) {
    auto [h, c] = lstm_cell_pointwise(v[0], v[1]);
    return concat({h, c}, -1);
  };
  auto h_only = [](const std::vector<Variable<double>>& v) { return lstm_cell_pointwise(v[0], v[1]).first; };
  auto c_only = [](const std::vector<Variable<double>>& v) { return lstm_cell_pointwise(v[0], v[1]).second; };
  // y * y makes the gradient entering each backward op depend on the inputs, so the backward ops'
  // derivatives in that gradient are checked too.
  test::require_higher_order(both, inputs);
  test::require_higher_order(h_only, inputs);
  test::require_higher_order(c_only, inputs);
  test::require_grad_and_gradgrad(test::gradient_of(both), inputs);

  const std::vector<Variable<double>> gates_only{inputs[0]};
  test::require_higher_order(
      [](const std::vector<Variable<double>>& v) {
        auto [h, c] = lstm_cell_pointwise(v[0], Variable<double>());
        return concat({h, c}, -1);
      },
      gates_only);
}

TEST_CASE("lstm_cell_pointwise rejects bad shapes, naming them", "[recurrent-ops]") {
  const Variable<float> gates(Tensor<float>(xt::zeros<float>({2, 8})));
  std::string msg = message_of<std::invalid_argument>([&] { lstm_cell_pointwise(Variable<float>(), Variable<float>()); });
  CHECK(msg.find("lstm_cell_pointwise") != std::string::npos);
  CHECK(msg.find("undefined") != std::string::npos);

  msg = message_of<std::invalid_argument>(
      [&] { lstm_cell_pointwise(Variable<float>(Tensor<float>(xt::zeros<float>({2, 6}))), Variable<float>()); });
  CHECK(msg.find("lstm_cell_pointwise") != std::string::npos);
  CHECK(msg.find("(2, 6)") != std::string::npos);
  CHECK(msg.find("4 * hidden_size") != std::string::npos);

  msg = message_of<std::invalid_argument>(
      [&] { lstm_cell_pointwise(Variable<float>(Tensor<float>(xt::zeros<float>({2, 0}))), Variable<float>()); });
  CHECK(msg.find("(2, 0)") != std::string::npos);

  msg = message_of<std::invalid_argument>(
      [&] { lstm_cell_pointwise(gates, Variable<float>(Tensor<float>(xt::zeros<float>({2, 3})))); });
  CHECK(msg.find("lstm_cell_pointwise") != std::string::npos);
  CHECK(msg.find("(2, 3)") != std::string::npos);
  CHECK(msg.find("expected (2, 2)") != std::string::npos);
  CHECK(msg.find("(2, 8)") != std::string::npos);
}

TEST_CASE("lstm_cell_pointwise: no graph under NoGradGuard, and an edited input stops its backward",
          "[recurrent-ops]") {
  Variable<double> gates(cell_gates<double>(), true), c(cell_state<double>(), true);
  {
    NoGradGuard no_grad;
    auto [h, c2] = lstm_cell_pointwise(gates, c);
    CHECK_FALSE(h.requires_grad());
    CHECK_FALSE(c2.requires_grad());
  }
  auto [h, c2] = lstm_cell_pointwise(gates, c);
  Variable<double> loss = sum(h);
  gates.value()(0, 0) += 1.0;  // a write through the non-const value() bumps the version
  std::string msg = message_of<std::logic_error>([&] { loss.backward(); });
  CHECK(msg.find("lstm_cell") != std::string::npos);
}

// Expected values worked out by hand: projected + h·W_hhᵀ with h (2, 2), W_hh (3, 2).
//   row 0: h = (1, -2): h·W_hhᵀ = (1·0.5 - 2·1, 1·(-1) - 2·0, 1·2 - 2·(-0.5)) = (-1.5, -1, 3)
//   row 1: h = (0.5, 3): (0.25 + 3, -0.5 + 0, 1 - 1.5) = (3.25, -0.5, -0.5)
// and with the loss sum(out · w), w = [[1, 2, 3], [4, 5, 6]]: dprojected = w, dh = w·W_hh,
// dW_hh = wᵀ·h.
TEMPLATE_TEST_CASE("recurrent_gates adds the hidden projection to the input's, values and gradients",
                   "[recurrent-ops]", float, double) {
  using T = TestType;
  Variable<T> projected(Tensor<T>{{0.1, 0.2, 0.3}, {-1, 0, 1}}, true);
  Variable<T> h(Tensor<T>{{1, -2}, {0.5, 3}}, true);
  Variable<T> w(Tensor<T>{{0.5, 1}, {-1, 0}, {2, -0.5}}, true);
  const Variable<T> out = recurrent_gates(projected, h, w);
  CHECK(out.op() == "recurrent_gates");
  test::require_close(out.value(), Tensor<T>{{-1.4, -0.8, 3.3}, {2.25, -0.5, 0.5}}, 1e-6);
  const Tensor<T> weights{{1, 2, 3}, {4, 5, 6}};
  sum(out * Variable<T>(weights)).backward();
  test::require_close(projected.grad(), weights, 0);
  // dh row 0: (1·0.5 + 2·(-1) + 3·2, 1·1 + 2·0 + 3·(-0.5)) = (4.5, -0.5); row 1: (2 - 5 + 12, 4 - 3) = (9, 1)
  test::require_close(h.grad(), Tensor<T>{{4.5, -0.5}, {9, 1}}, 1e-6);
  // dW_hh row j: weights(0, j)·h row 0 + weights(1, j)·h row 1
  test::require_close(w.grad(), Tensor<T>{{3, 10}, {4.5, 11}, {6, 12}}, 1e-6);
}

TEST_CASE("recurrent_gates gradcheck and gradgradcheck, batched steps of any rank", "[recurrent-ops]") {
  Generator gen(71);
  test::require_higher_order(
      [](const std::vector<Variable<double>>& v) { return tanh(recurrent_gates(v[0], v[1], v[2])); },
      {test::param(test::uniform({1, 3, 8}, gen)), test::param(test::uniform({1, 3, 2}, gen)),
       test::param(test::uniform({8, 2}, gen))});
}

TEST_CASE("recurrent_gates rejects shapes that do not fit, naming them", "[recurrent-ops]") {
  Variable<double> projected(xt::zeros<double>({2, 8})), h(xt::zeros<double>({2, 2}));
  std::string msg = message_of<std::invalid_argument>(
      [&] { recurrent_gates(projected, h, Variable<double>(xt::zeros<double>({8, 3}))); });
  CHECK_THAT(msg, Catch::Matchers::Contains("recurrent_gates:") && Catch::Matchers::Contains("(2, 2)") &&
                      Catch::Matchers::Contains("(8, 3)"));
  msg = message_of<std::invalid_argument>(
      [&] { recurrent_gates(Variable<double>(xt::zeros<double>({2, 6})), h, Variable<double>(xt::zeros<double>({8, 2}))); });
  CHECK_THAT(msg, Catch::Matchers::Contains("recurrent_gates:") && Catch::Matchers::Contains("projected has shape (2, 6)") &&
                      Catch::Matchers::Contains("expected (2, 8)"));
}

// ProjectedSequence reads step t's rows of a projection and adds h·W_hhᵀ: the same values as
// recurrent_gates on a slice of the projection (checked above against hand-worked values).
TEST_CASE("ProjectedSequence gives each step its rows plus the hidden projection", "[recurrent-ops]") {
  Generator gen(72);
  for (int time_axis : {0, 1}) {
    INFO("time axis " << time_axis);
    const Shape shape = time_axis == 0 ? Shape{5, 3, 8} : Shape{3, 5, 8};
    const Shape step = time_axis == 0 ? Shape{1, 3, 2} : Shape{3, 1, 2};
    Variable<double> projected(test::uniform(shape, gen), true), h(test::uniform(step, gen), true);
    Variable<double> w(test::uniform({8, 2}, gen), true);
    const ProjectedSequence<double> sequence(projected, time_axis, w);
    REQUIRE(sequence.length() == 5);
    for (std::size_t t = 0; t < 5; ++t) {
      const auto at = static_cast<std::int64_t>(t);
      test::require_close(sequence.gates(t, h).value(),
                          recurrent_gates(slice(projected, time_axis, at, at + 1), h, w).value(), 1e-15);
      test::require_close(sequence.gates(t, Variable<double>()).value(),
                          slice(projected, time_axis, at, at + 1).value(), 0);
    }
  }
}

// Steps 2 (from no state), 0 (from h) and 3 (from step 2's result) of a sequence; step 1 unused.
static Variable<double> three_steps(const std::vector<Variable<double>>& v) {
  const ProjectedSequence<double> sequence(v[0] * 1.0, 1, v[2]);
  const Variable<double> first = tanh(sequence.gates(2, Variable<double>()));
  const Variable<double> second = sequence.gates(0, v[1]);
  const Variable<double> third = sequence.gates(3, slice(first, -1, 0, 2));
  return concat({first, second * second, third}, 1);
}

TEST_CASE("ProjectedSequence gradcheck and gradgradcheck, steps used in any order", "[recurrent-ops]") {
  Generator gen(73);
  test::require_higher_order(three_steps, {test::param(test::uniform({2, 4, 6}, gen)),
                                           test::param(test::uniform({2, 1, 2}, gen)),
                                           test::param(test::uniform({6, 2}, gen))});
}

TEST_CASE("ProjectedSequence: W_hh's gradient summed in one buffer equals the recorded sum", "[recurrent-ops]") {
  // First order sums the steps' products in one GEMM buffer; create_graph records each product.
  Generator gen(74);
  std::vector<Variable<double>> v{Variable<double>(test::uniform({2, 4, 6}, gen), true),
                                  Variable<double>(test::uniform({2, 1, 2}, gen), true),
                                  Variable<double>(test::uniform({6, 2}, gen), true)};
  const Variable<double> loss = sum(three_steps(v) * three_steps(v));
  const auto first_order = grad<double>({loss}, v, {}, true, false);
  const auto recorded = grad<double>({loss}, v, {}, true, true);
  for (std::size_t k = 0; k < 3; ++k) test::require_close(first_order[k].value(), recorded[k].value(), 1e-13);
  // W_hh alone: the projection needs no gradient
  Variable<double> w(test::uniform({6, 2}, gen), true), h(test::uniform({2, 1, 2}, gen));
  const ProjectedSequence<double> frozen(Variable<double>(test::uniform({2, 3, 6}, gen)), 1, w);
  sum(frozen.gates(1, h)).backward();
  Tensor<double> want = Tensor<double>::from_shape({6, 2});  // column sums of h over the batch, per row
  for (std::size_t j = 0; j < 6; ++j) {
    for (std::size_t k = 0; k < 2; ++k) want(j, k) = h.value()(0, 0, k) + h.value()(1, 0, k);
  }
  test::require_close(w.grad(), want, 1e-15);
}

TEST_CASE("ProjectedSequence rejects a bad step, state, weight or axis, naming them", "[recurrent-ops]") {
  Variable<double> projected(xt::zeros<double>({4, 2, 8}));
  Variable<double> w(xt::zeros<double>({8, 3}));
  const ProjectedSequence<double> sequence(projected, 0, w);
  std::string msg = message_of<std::invalid_argument>([&] { sequence.gates(4, Variable<double>()); });
  CHECK_THAT(msg, Catch::Matchers::Contains("step 4 is out of range for a sequence of 4 steps"));
  msg = message_of<std::invalid_argument>([&] { sequence.gates(0, Variable<double>(xt::zeros<double>({2, 3}))); });
  CHECK_THAT(msg, Catch::Matchers::Contains("recurrent_gates:") && Catch::Matchers::Contains("h of shape (2, 3)") &&
                      Catch::Matchers::Contains("expected (1, 2, 3)"));
  msg = message_of<std::invalid_argument>([&] { ProjectedSequence<double>(projected, 0, Variable<double>(xt::zeros<double>({6, 3}))); });
  CHECK_THAT(msg, Catch::Matchers::Contains("ProjectedSequence:") && Catch::Matchers::Contains("weight_hh of shape (6, 3)") &&
                      Catch::Matchers::Contains("expected (8, H)"));
  msg = message_of<std::invalid_argument>([&] { ProjectedSequence<double>(projected, 2, w); });
  CHECK_THAT(msg, Catch::Matchers::Contains("ProjectedSequence:") && Catch::Matchers::Contains("feature axis"));
  msg = message_of<std::invalid_argument>([&] { ProjectedSequence<double>(projected, 3, w); });
  CHECK_THAT(msg, Catch::Matchers::Contains("ProjectedSequence") && Catch::Matchers::Contains("axis 3"));
}
