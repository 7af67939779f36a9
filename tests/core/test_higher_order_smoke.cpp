// Second derivatives of the core ops through tg::grad with create_graph (smoke test).
#include "test_util.hpp"

using namespace tg;
using V = std::vector<Variable<double>>;

TEST_CASE("gradgradcheck smoke over the converted ops") {
  Generator gen(5);
  auto a = test::param(test::uniform({3, 4}, gen)), b = test::param(test::away_from_zero({4}, gen, 0.5));
  auto m = test::param(test::uniform({4, 2}, gen));
  auto pos = test::param(test::uniform({3, 4}, gen, 0.5, 2.0));
  test::require_grad_and_gradgrad([](const V& v) { return v[0] * v[1] + v[0] / v[1] - v[1]; }, {a, b});
  test::require_grad_and_gradgrad([](const V& v) { return tanh(matmul(v[0], v[1])); }, {a, m});
  test::require_grad_and_gradgrad([](const V& v) { return sigmoid(v[0]) * exp(v[0]); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return log(v[0]) + sqrt(v[0]) + pow(v[0], 3.0); }, {pos});
  test::require_grad_and_gradgrad([](const V& v) { return softmax(v[0], 1); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return log_softmax(v[0], 0); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return elu(v[0]) + leaky_relu(v[0] * 2.0) + relu(v[0]); },
                                  {test::param(test::away_from_zero({3, 4}, gen))});
  test::require_grad_and_gradgrad([](const V& v) { return sum(v[0] * v[0], {1}); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return mean(v[0] * v[0], {0}, true); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return max(v[0] * v[0], 1); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return permute(reshape(v[0] * v[0], {2, 6}), {1, 0}); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return concat({v[0] * v[0], v[0]}, 1); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return linear(v[0] * v[0], v[1], v[2]); },
                                  {a, test::param(test::uniform({5, 4}, gen)), test::param(test::uniform({5}, gen))});
  test::require_grad_and_gradgrad([](const V& v) { return cross_entropy(v[0] * v[0], Labels{1, 0, 3}); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return nll_loss(log_softmax(v[0] * v[0]), Labels{1, 0, 3}); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return mse_loss(v[0] * v[0], v[1]); }, {a, b});
  test::require_grad_and_gradgrad([](const V& v) { return binary_cross_entropy_with_logits(v[0] * v[0], v[1]); },
                                  {a, test::param(test::uniform({3, 4}, gen, 0.0, 1.0))});
  test::require_grad_and_gradgrad([](const V& v) { return expand(v[0], {2, 3, 4}) * v[0]; }, {b});
  test::require_grad_and_gradgrad([](const V& v) { return slice(v[0] * v[0], 1, -3, 10, 2); }, {a});
  test::require_grad_and_gradgrad([](const V& v) { return stack({v[0], v[0] * v[0]}, -1); }, {a});
}
