// Graph lifetime under create_graph: the nodes a higher-order backward records are freed like any
// others, so live_nodes returns to where it was.
#include "test_util.hpp"

#include <optional>

using namespace tg;

namespace {
using V = Variable<double>;
}  // namespace

TEST_CASE("after a create_graph grad and a backward through its result every node is freed") {
  const std::size_t before = tape_stats().live_nodes;
  Generator gen(401);
  V w(test::uniform({3, 4}, gen), true);
  {
    V x(test::uniform({2, 3}, gen), true);
    V out = sum(tg::tanh(matmul(x, w)));
    V g = grad<double>({out}, {x}, {}, std::nullopt, true)[0];
    CHECK(tape_stats().live_nodes > before);  // the forward graph (retained) and the gradient's
    V penalty = sum(g * g);
    penalty.backward();
    CHECK(w.has_grad());
    CHECK_FALSE(w.grad_variable().requires_grad());  // a plain backward leaves a plain gradient
  }
  CHECK(tape_stats().live_nodes == before);
  w.zero_grad();
}

TEST_CASE("after a create_graph backward the gradient's graph lives until it is used or dropped") {
  const std::size_t before = tape_stats().live_nodes;
  V x(Tensor<double>{0.5, -1.0, 2.0}, true);
  SECTION("a backward through the accumulated gradient frees it") {
    sum(x * x * x).backward(false, true);
    CHECK(tape_stats().live_nodes > before);
    sum(x.grad_variable() * x.grad_variable()).backward();
    CHECK(tape_stats().live_nodes == before);
    CHECK_FALSE(x.grad_variable().requires_grad());
  }
  SECTION("zero_grad frees it") {
    // The gradient's graph refers back to x, which holds the gradient: a reference cycle, as in
    // PyTorch, that zero_grad (or another backward through it) breaks.
    sum(tg::tanh(x) * x).backward(false, true);
    CHECK(tape_stats().live_nodes > before);
    x.zero_grad();
    CHECK(tape_stats().live_nodes == before);
  }
  SECTION("tg::grad results die with their handles") {
    {
      V g1 = grad<double>({sum(exp(x) * x)}, {x}, {}, std::nullopt, true)[0];
      V g2 = grad<double>({sum(g1)}, {x}, {}, std::nullopt, true)[0];
      V g3 = grad<double>({sum(g2 * g1)}, {x}, {}, std::nullopt, true)[0];
      CHECK(tape_stats().live_nodes > before);
    }
    CHECK(tape_stats().live_nodes == before);
  }
  x.zero_grad();
}
