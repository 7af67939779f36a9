// The backward engine: deep graphs, graph release, accumulation, NoGradGuard, detach, lifetimes
// and the errors a user or an op author can run into.
#include "test_util.hpp"

#include <pthread.h>

#include <cmath>
#include <exception>
#include <functional>

#include <tapegrad/tapegrad.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using Grads = std::vector<Tensor<double>>;

// Runs `work` on a thread with a 1 MiB stack and rethrows what it threw. A recursion whose depth
// grows with the graph (a recursive destructor or topological sort) crashes here for any
// reasonable stack limit, whatever `ulimit -s` the tests run under.
void run_on_small_stack(const std::function<void()>& work) {
  struct Job {
    const std::function<void()>* work;
    std::exception_ptr error;
  } job{&work, nullptr};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  const int rc = pthread_create(
      &thread, &attr,
      [](void* p) -> void* {
        auto* j = static_cast<Job*>(p);
        try {
          (*j->work)();
        } catch (...) {
          j->error = std::current_exception();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attr);
  REQUIRE(rc == 0);
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

// y = s * x through record_op, with a closure that captures nothing but the scalar.
Variable<double> scale(const Variable<double>& x, double s) {
  return record_op<double>("scale", Tensor<double>(x.value() * s), {x},
                           [s](const Tensor<double>& g) { return Grads{Tensor<double>(g * s)}; });
}

std::size_t live() { return tape_stats().live_nodes; }

}  // namespace

TEST_CASE("a chain of 100000 recorded ops back-propagates without overflowing the stack") {
  const std::size_t before = live();
  const double c = 1.0000001;
  double grad = 0, value = 0;
  std::size_t live_during = 0, live_after = 0;
  run_on_small_stack([&] {
    Variable<double> x0(Tensor<double>(2.0), true);
    Variable<double> x = x0;
    for (int i = 0; i < 100000; ++i) x = x * c;
    live_during = live();
    value = x.item();
    x.backward();
    live_after = live();
    grad = x0.grad()();
  });
  CHECK(live_during - before == 100000);
  CHECK(live_after == before);
  // The engine multiplies the seed by c once per op, so it must match this loop to the last bit
  // or nearly so; the closed form c^100000 = e^(100000 ln c) ~ 1.01005 checks the order of magnitude.
  double expected = 1.0;
  for (int i = 0; i < 100000; ++i) expected *= c;
  CHECK(grad == Approx(expected).epsilon(1e-12));
  CHECK(grad == Approx(std::exp(100000 * std::log(c))).epsilon(1e-9));
  CHECK(value == Approx(2.0 * expected).epsilon(1e-12));
}

TEST_CASE("destroying a 100000-op chain without backward does not overflow the stack") {
  const std::size_t before = live();
  std::size_t live_during = 0;
  run_on_small_stack([&] {
    Variable<double> x(Tensor<double>{1.0, 2.0}, true);
    for (int i = 0; i < 100000; ++i) x = scale(x, 1.0);
    live_during = live();
  });  // x, the only handle to the head of the chain, dies here
  CHECK(live_during - before == 100000);
  CHECK(live() == before);

  // The same with arithmetic ops, whose closures capture the input Variables as well.
  run_on_small_stack([&] {
    Variable<double> x(Tensor<double>(1.0), true);
    for (int i = 0; i < 100000; ++i) x = x * 1.0 + 0.0;
  });
  CHECK(live() == before);
}

TEST_CASE("a second backward without retain_graph throws logic_error saying the graph was released") {
  Variable<double> x(Tensor<double>{1.0, 2.0, 3.0}, true);
  Variable<double> y = x * x;
  y.backward(Tensor<double>{1.0, 1.0, 1.0});
  const Tensor<double> first = x.grad();
  std::string msg = message_of<std::logic_error>([&] { y.backward(Tensor<double>{1.0, 1.0, 1.0}); });
  CHECK_THAT(msg, Contains("backward") && Contains("released") && Contains("retain_graph"));
  test::require_close(x.grad(), first, 0.0);  // the failed call accumulated nothing

  // An intermediate of a released graph cannot be back-propagated through by a new graph either.
  Variable<double> a(Tensor<double>(3.0), true);
  Variable<double> b = a * 2.0;
  Variable<double> c = b * b;
  c.backward();
  Variable<double> d = b * 5.0;
  msg = message_of<std::logic_error>([&] { d.backward(); });
  CHECK_THAT(msg, Contains("released") && Contains("mul"));
}

TEST_CASE("with retain_graph the graph can be walked again and the gradients accumulate") {
  Variable<double> x(Tensor<double>{1.0, -2.0}, true);
  Variable<double> y = x * x * 3.0;  // dy/dx = 6x
  const Tensor<double> seed{1.0, 1.0};
  y.backward(seed, /*retain_graph=*/true);
  test::require_close(x.grad(), Tensor<double>{6.0, -12.0}, 0.0);
  y.backward(seed, /*retain_graph=*/true);
  test::require_close(x.grad(), Tensor<double>{12.0, -24.0}, 0.0);
  y.backward(seed);  // the last walk may release
  test::require_close(x.grad(), Tensor<double>{18.0, -36.0}, 0.0);
  CHECK_THROWS_AS(y.backward(seed), std::logic_error);
}

TEST_CASE("gradients accumulate into leaves across backward calls until zero_grad") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> w(Tensor<double>{3.0, 4.0}, true);
  (x * w).backward(Tensor<double>{1.0, 1.0});
  (x * x).backward(Tensor<double>{1.0, 1.0});  // a separate graph
  test::require_close(x.grad(), Tensor<double>{3.0 + 2.0, 4.0 + 4.0}, 0.0);
  test::require_close(w.grad(), Tensor<double>{1.0, 2.0}, 0.0);
  x.zero_grad();
  CHECK_FALSE(x.has_grad());
  CHECK(w.has_grad());  // zero_grad is per variable
  (x * w).backward(Tensor<double>{1.0, 1.0});
  test::require_close(x.grad(), Tensor<double>{3.0, 4.0}, 0.0);
  test::require_close(w.grad(), Tensor<double>{2.0, 4.0}, 0.0);
}

TEST_CASE("a diamond graph sums the gradients of both paths") {
  Variable<double> x(Tensor<double>{0.5, -1.5, 2.0}, true);
  SECTION("a leaf used twice") {
    Variable<double> y = x * x + x * 3.0;  // dy/dx = 2x + 3
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    test::require_close(x.grad(), Tensor<double>{4.0, 0.0, 7.0}, 1e-15);
  }
  SECTION("an intermediate used twice, along paths of different lengths") {
    Variable<double> a = x * 2.0;
    Variable<double> b = (a * 3.0) * a;       // 3 a^2
    Variable<double> y = b + a;               // 12 x^2 + 2x, dy/dx = 24x + 2
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    test::require_close(x.grad(), Tensor<double>{14.0, -34.0, 50.0}, 1e-12);
  }
}

TEST_CASE("each node's backward runs exactly once after all of its output's gradient has arrived") {
  int calls_shared = 0, calls_top = 0;
  Tensor<double> seen_by_shared;
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> shared = record_op<double>("shared", Tensor<double>(x.value()), {x}, [&](const Tensor<double>& g) {
    ++calls_shared;
    seen_by_shared = g;
    return Grads{g};
  });
  Variable<double> left = shared * 2.0;
  Variable<double> right = (shared * 3.0) * 5.0;  // a longer path
  Variable<double> y = record_op<double>("top", Tensor<double>(left.value() + right.value()), {left, right},
                                         [&](const Tensor<double>& g) {
                                           ++calls_top;
                                           return Grads{g, g};
                                         });
  y.backward(Tensor<double>{1.0, 1.0});
  CHECK(calls_top == 1);
  CHECK(calls_shared == 1);
  test::require_close(seen_by_shared, Tensor<double>{17.0, 17.0}, 0.0);
  test::require_close(x.grad(), Tensor<double>{17.0, 17.0}, 0.0);
}

TEST_CASE("nothing is recorded under NoGradGuard and nested guards restore the previous state") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  const TapeStats before = tape_stats();
  REQUIRE(grad_enabled());
  {
    NoGradGuard outer;
    CHECK_FALSE(grad_enabled());
    Variable<double> y = x * x + 1.0;
    Variable<double> z = scale(x, 2.0);
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(z.requires_grad());
    CHECK(y.is_leaf());
    CHECK(z.op().empty());
    CHECK_FALSE(will_record<double>({x}));
    test::require_close(y.value(), Tensor<double>{2.0, 5.0}, 0.0);  // values are still computed
    CHECK(tape_stats().live_nodes == before.live_nodes);
    CHECK(tape_stats().recorded_nodes == before.recorded_nodes);
    CHECK_THROWS_AS(y.backward(Tensor<double>{1.0, 1.0}), std::logic_error);
    {
      NoGradGuard inner;
      CHECK_FALSE(grad_enabled());
    }
    CHECK_FALSE(grad_enabled());  // the inner guard restores "disabled", not "enabled"
  }
  CHECK(grad_enabled());
  Variable<double> w = x * x;
  CHECK(w.requires_grad());
  CHECK(tape_stats().recorded_nodes == before.recorded_nodes + 1);
}

TEST_CASE("backward works under NoGradGuard on a graph recorded before") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> y = x * x;
  NoGradGuard guard;
  y.backward(Tensor<double>{1.0, 1.0});
  test::require_close(x.grad(), Tensor<double>{2.0, 4.0}, 0.0);
}

TEST_CASE("detach cuts the graph: no gradient flows through the detached value") {
  Variable<double> x(Tensor<double>{1.5, -2.0}, true);
  Variable<double> d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  test::require_close(d.value(), x.value(), 0.0);
  Variable<double> y = d * x;  // only the right-hand path reaches x: dy/dx = d = x
  y.backward(Tensor<double>{1.0, 1.0});
  test::require_close(x.grad(), Tensor<double>{1.5, -2.0}, 0.0);
  CHECK_FALSE(d.has_grad());

  // Detaching an op's output: nothing below it is reached.
  Variable<double> a(Tensor<double>(3.0), true);
  Variable<double> b = (a * a).detach() * a;
  b.backward();
  CHECK(a.grad()() == 9.0);  // not 27
}

TEST_CASE("after backward the graph is freed even while the loss and intermediates are alive") {
  const std::size_t before = live();
  Variable<double> x(Tensor<double>{1.0, 2.0, 3.0}, true);
  Variable<double> h = x * 2.0 + 1.0;
  Variable<double> loss = h * h;
  CHECK(live() == before + 3);
  loss.backward(Tensor<double>{1.0, 1.0, 1.0});
  CHECK(live() == before);
  CHECK(loss.op() == "mul");  // the name outlives the node
  CHECK_FALSE(loss.is_leaf());
  CHECK_FALSE(h.is_leaf());

  SECTION("with retain_graph the nodes live until the last handle goes") {
    {
      Variable<double> l2 = x * 3.0;
      l2.backward(Tensor<double>{1.0, 1.0, 1.0}, /*retain_graph=*/true);
      CHECK(live() == before + 1);
    }
    CHECK(live() == before);
  }
}

TEST_CASE("backward(seed) with a seed of the wrong shape names both shapes") {
  Variable<double> x(xt::ones<double>({2, 3}), true);
  Variable<double> y = x * 2.0;
  std::string msg = message_of<std::invalid_argument>([&] { y.backward(xt::ones<double>({3, 2})); });
  CHECK_THAT(msg, Contains("backward") && Contains("(3, 2)") && Contains("(2, 3)"));
  y.backward(xt::ones<double>({2, 3}));  // the failed call did not release the graph
  test::require_close(x.grad(), Tensor<double>(xt::full_like(x.value(), 2.0)), 0.0);
}

TEST_CASE("backward() without a seed needs a one-element output") {
  Variable<double> x(xt::ones<double>({2, 3}), true);
  Variable<double> y = x * 2.0;
  std::string msg = message_of<std::invalid_argument>([&] { y.backward(); });
  CHECK_THAT(msg, Contains("backward") && Contains("(2, 3)"));
  CHECK_FALSE(x.has_grad());

  Variable<double> one(Tensor<double>(4.0 * xt::ones<double>({1, 1})), true);  // shape (1, 1) is fine, as in PyTorch
  (one * 3.0).backward();
  test::require_close(one.grad(), Tensor<double>(3.0 * xt::ones<double>({1, 1})), 0.0);
}

TEST_CASE("backward on a variable that does not require grad explains why") {
  Variable<double> x(Tensor<double>(1.0));
  std::string msg = message_of<std::logic_error>([&] { (x * 2.0).backward(); });
  CHECK_THAT(msg, Contains("backward") && Contains("does not require grad"));
}

TEST_CASE("backward from a leaf puts the seed into its gradient") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  x.backward(Tensor<double>{5.0, 7.0});
  test::require_close(x.grad(), Tensor<double>{5.0, 7.0}, 0.0);
}

TEST_CASE("only leaves keep gradients and only inputs that require grad get one") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> c(Tensor<double>{3.0, 4.0});
  Variable<double> h = x * c;
  Variable<double> y = h * h;
  y.backward(Tensor<double>{1.0, 1.0});
  CHECK_FALSE(c.has_grad());
  CHECK_FALSE(h.has_grad());
  std::string msg = message_of<std::logic_error>([&] { h.grad(); });
  CHECK_THAT(msg, Contains("grad") && Contains("leaves"));
  test::require_close(x.grad(), Tensor<double>{2 * 3.0 * 3.0 * 1.0, 2 * 4.0 * 4.0 * 2.0}, 0.0);
}

TEST_CASE("an op's backward sees requires_grad per input and undefined inputs are allowed") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> absent;  // an absent bias
  Variable<double> c(Tensor<double>{10.0, 20.0});
  Variable<double> y = record_op<double>("affine", Tensor<double>(x.value() * c.value()), {x, absent, c},
                                         [x, c](const Tensor<double>& g) {
                                           Grads grads(3);
                                           if (x.requires_grad()) grads[0] = g * c.value();
                                           if (c.requires_grad()) grads[2] = g * x.value();
                                           return grads;
                                         });
  CHECK(y.requires_grad());
  y.backward(Tensor<double>{1.0, 1.0});
  test::require_close(x.grad(), Tensor<double>{10.0, 20.0}, 0.0);
  CHECK_FALSE(c.has_grad());
}

TEST_CASE("an op whose backward returns the wrong number of gradients is named in the error") {
  Variable<double> a(Tensor<double>{1.0, 2.0}, true), b(Tensor<double>{3.0, 4.0}, true);
  Variable<double> y = record_op<double>("broken_pair", Tensor<double>(a.value() + b.value()), {a, b},
                                         [](const Tensor<double>& g) { return Grads{g}; });
  std::string msg = message_of<std::logic_error>([&] { y.backward(Tensor<double>{1.0, 1.0}); });
  CHECK_THAT(msg, Contains("broken_pair") && Contains("1 gradient") && Contains("2 inputs"));
}

TEST_CASE("an op whose backward returns a gradient of the wrong shape is named in the error") {
  Variable<double> a(xt::ones<double>({2, 3}), true);
  Variable<double> y = record_op<double>("broken_shape", Tensor<double>(a.value() * 2.0), {a},
                                         [](const Tensor<double>&) { return Grads{xt::ones<double>({3, 2})}; });
  std::string msg = message_of<std::logic_error>([&] { y.backward(xt::ones<double>({2, 3})); });
  CHECK_THAT(msg, Contains("broken_shape") && Contains("input 0") && Contains("(3, 2)") && Contains("(2, 3)"));

  // Forgetting the gradient of an input that needs one (an empty Tensor()) is caught the same way.
  Variable<double> b(Tensor<double>{1.0, 2.0}, true);
  Variable<double> z = record_op<double>("forgot_grad", Tensor<double>(b.value()), {b},
                                         [](const Tensor<double>&) { return Grads{Tensor<double>()}; });
  msg = message_of<std::logic_error>([&] { z.backward(Tensor<double>{1.0, 1.0}); });
  CHECK_THAT(msg, Contains("forgot_grad") && Contains("()") && Contains("(2,)"));
}

TEST_CASE("an exception thrown by an op's backward reaches the caller") {
  Variable<double> a(Tensor<double>(1.0), true);
  Variable<double> y = record_op<double>("throws", Tensor<double>(a.value()), {a}, [](const Tensor<double>&) -> Grads {
    throw std::runtime_error("custom backward failed");
  });
  std::string msg = message_of<std::runtime_error>([&] { y.backward(); });
  CHECK_THAT(msg, Contains("custom backward failed"));
}

TEST_CASE("the engine works for float") {
  Variable<float> x(Tensor<float>{1.0f, 2.0f}, true);
  Variable<float> y = x * x * 0.5f + x;  // dy/dx = x + 1
  y.backward(Tensor<float>{1.0f, 1.0f});
  test::require_close(x.grad(), Tensor<float>{2.0f, 3.0f}, 0.0);
}
