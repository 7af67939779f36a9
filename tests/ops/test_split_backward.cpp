// split's backward: its pieces hand their gradients to one node that joins them in one pass, per
// run of the engine. What could go wrong with that, and its cost: pieces no gradient reaches,
// repeated and concurrent runs through one graph, a run that stops half-way, and the number of
// whole-sized tensors a backward makes.
#include <mutex>
#include <set>
#include <thread>

#include "core/detail/graph.hpp"

#include "test_prelude.hpp"

namespace {

// Weights 1, 2, 3, ... of x's shape, so a gradient in the wrong place shows.
Variable<double> weights(const Shape& shape) { return Variable<double>(arange(element_count(shape), shape, 1.0)); }

// sum over pieces k of (piece_k · weights_k): the gradient of x is the weights in x's layout.
Variable<double> weighted_sum(const std::vector<Variable<double>>& pieces) {
  Variable<double> total;
  for (const auto& p : pieces) {
    const Variable<double> term = sum(p * weights(p.shape()));
    total = total.defined() ? total + term : term;
  }
  return total;
}

}  // namespace

TEST_CASE("split: pieces no gradient reaches get zeros in the input's gradient") {
  Variable<double> x(arange(12, {6, 2}), true);
  const std::vector<Variable<double>> p = split(x, 2, 0);
  sum(p[1] * 10.0).backward();
  test::require_close(x.grad(), Tensor<double>{{0, 0}, {0, 0}, {10, 10}, {10, 10}, {0, 0}, {0, 0}}, 0);
}

TEST_CASE("split: two backward runs through one graph each give the whole gradient") {
  Variable<double> x(arange(6, {3, 2}), true);
  Variable<double> loss = weighted_sum(split(x, 1, 0));
  loss.backward(true);
  test::require_close(x.grad(), Tensor<double>{{1, 2}, {1, 2}, {1, 2}}, 0);
  loss.backward();
  test::require_close(x.grad(), Tensor<double>{{2, 4}, {2, 4}, {2, 4}}, 0);
}

TEST_CASE("split: tg::grad of a non-leaf input, and of several roots through shared pieces") {
  Variable<double> x(arange(8, {2, 4}), true);
  const Variable<double> a = x * 3.0;
  const std::vector<Variable<double>> p = split(a, 2, 1);
  const Variable<double> first = sum(p[0] * p[1]), second = sum(p[1]);
  // d(first)/da = [p1, p0] along the columns; d(second)/da = [0, 1]
  const std::vector<Variable<double>> g = grad<double>({first, second}, {a});
  const Tensor<double> av = a.value();
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 2; ++c) {
      CHECK(g[0].value()(r, c) == av(r, c + 2));
      CHECK(g[0].value()(r, c + 2) == av(r, c) + 1);
    }
  }
}

TEST_CASE("split: runs on two threads through one graph do not mix their pieces' gradients") {
  Variable<double> x(arange(40, {10, 4}), true);
  const std::vector<Variable<double>> p = split(x, 1, 0);
  const Variable<double> loss_a = weighted_sum(p), loss_b = sum(p[3] * 5.0);
  Tensor<double> want_a = Tensor<double>::from_shape({10, 4}), want_b = xt::zeros<double>({10, 4});
  for (std::size_t r = 0; r < 10; ++r) {
    for (std::size_t c = 0; c < 4; ++c) want_a(r, c) = double(c + 1);
  }
  for (std::size_t c = 0; c < 4; ++c) want_b(3, c) = 5;
  bool all_right = true;
  auto run = [&all_right](const Variable<double>& loss, const Variable<double>& input, const Tensor<double>& want,
                          std::mutex& lock) {
    for (int k = 0; k < 200; ++k) {
      const Tensor<double> got = grad<double>({loss}, {input}, {}, true)[0].value();
      if (got != want) {
        const std::lock_guard<std::mutex> guard(lock);
        all_right = false;
      }
    }
  };
  std::mutex lock;
  std::thread a(run, std::cref(loss_a), std::cref(x), std::cref(want_a), std::ref(lock));
  std::thread b(run, std::cref(loss_b), std::cref(x), std::cref(want_b), std::ref(lock));
  a.join();
  b.join();
  CHECK(all_right);
}

TEST_CASE("split: a run stopped between the pieces and the join leaves nothing for the next run") {
  Variable<double> x(arange(6, {3, 2}), true);
  const std::vector<Variable<double>> p = split(x, 1, 0);
  Variable<double> loss = weighted_sum(p);
  // The second piece this run reaches throws from its hook, once the first has handed its gradient in.
  int calls = 0;
  std::size_t handed_in = 0;
  for (std::size_t k = 0; k < p.size(); ++k) {
    Variable<double> handle = p[k];
    handle.register_hook([&calls, &handed_in, k](const Tensor<double>& g) {
      if (++calls == 1) handed_in = k;
      if (calls == 2) throw std::runtime_error("stop here");
      return g;
    });
  }
  CHECK_THROWS_WITH(loss.backward(true), "stop here");
  CHECK_FALSE(x.has_grad());
  // A run through the other pieces only: the stopped run's gradient must not come back.
  std::vector<Variable<double>> others;
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (k != handed_in) others.push_back(p[k]);
  }
  weighted_sum(others).backward();
  Tensor<double> want = Tensor<double>{{1, 2}, {1, 2}, {1, 2}};
  want(handed_in, 0) = want(handed_in, 1) = 0;
  test::require_close(x.grad(), want, 0);
}

TEST_CASE("split: the backward of n pieces makes one tensor of the input's size, not n") {
  // With create_graph the backward's ops are recorded: count the nodes of the input's size.
  Variable<double> x(arange(64, {16, 4}), true);
  const Variable<double> gx = grad<double>({weighted_sum(split(x, 1, 0))}, {x}, {}, true, true)[0];
  std::size_t whole_sized = 0;
  std::vector<std::shared_ptr<detail::VariableImpl<double>>> todo{gx.impl()};
  std::set<const void*> seen;
  while (!todo.empty()) {
    const auto v = todo.back();
    todo.pop_back();
    if (!seen.insert(v.get()).second) continue;
    if (detail::value_shape(*v) == Tensor<double>::shape_type{16, 4}) ++whole_sized;
    if (!v->grad_fn) continue;
    for (const auto& input : v->grad_fn->inputs) {
      if (input.defined()) todo.push_back(input.impl());
    }
  }
  CHECK(whole_sized == 1);  // the join; cut by slices, each piece would make one
  Tensor<double> want = Tensor<double>::from_shape({16, 4});
  for (std::size_t r = 0; r < 16; ++r) {
    for (std::size_t c = 0; c < 4; ++c) want(r, c) = double(c + 1);
  }
  test::require_close(gx.value(), want, 0);
}

TEST_CASE("split: gradcheck and gradgradcheck with every piece used") {
  Generator gen(504);
  test::require_higher_order(
      [](const std::vector<Variable<double>>& v) {
        const std::vector<Variable<double>> q = split(v[0], 1, 1);
        return q[0] * q[2] + sin(q[1]) * q[3];
      },
      {test::param(test::uniform({3, 4}, gen))});
}
