// Tensor hooks (register_hook / remove_hook): what they see, what their result replaces, their
// order, how often they run, and their errors.
#include "test_util.hpp"

#include <optional>
#include <string>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

using V = Variable<double>;
using Hook = std::function<Tensor<double>(const Tensor<double>&)>;

// Counts the calls of its hook and keeps the gradient that hook last saw; the hook passes it on unchanged.
struct HookRecorder {
  int calls = 0;
  Tensor<double> last;
  Hook hook() {
    return [this](const Tensor<double>& g) {
      ++calls;
      last = g;
      return g;
    };
  }
};

}  // namespace

TEST_CASE("a hook is called with the gradient flowing into its variable") {
  V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  V h = x * x;  // not a leaf
  const Tensor<double> w{0.5, -1.0, 2.0};
  std::vector<Tensor<double>> seen;
  h.register_hook([&](const Tensor<double>& g) {
    seen.push_back(g);
    return g;
  });
  sum(h * V(w)).backward();
  REQUIRE(seen.size() == 1);
  test::require_close(seen[0], w, 0);
  test::require_close(x.grad(), Tensor<double>{1.0, -4.0, 12.0});  // unchanged: 2x * w
}

TEST_CASE("a tensor returned by a hook replaces the gradient, and the ops below see the change") {
  SECTION("on an op's output") {
    V x(Tensor<double>{1.0, 2.0}, true);
    V h = x * x;
    h.register_hook([](const Tensor<double>& g) { return Tensor<double>(g * 10.0); });
    sum(h).backward();
    test::require_close(x.grad(), Tensor<double>{20.0, 40.0});  // 2x * 10
  }
  SECTION("on a leaf: the replaced gradient is what accumulates, and what tg::grad returns") {
    V x(Tensor<double>{1.0, 2.0}, true);
    x.register_hook([](const Tensor<double>& g) { return Tensor<double>(g + 1.0); });
    sum(x * 3.0).backward();
    test::require_close(x.grad(), Tensor<double>{4.0, 4.0});
    test::require_close(grad<double>({sum(x * 3.0)}, {x})[0].value(), Tensor<double>{4.0, 4.0});
  }
}

TEST_CASE("several hooks run in registration order, each on the previous one's result") {
  V x(Tensor<double>{1.0, -2.0}, true);
  std::vector<std::string> order;
  Tensor<double> seen_second, seen_third;
  x.register_hook([&](const Tensor<double>& g) {
    order.push_back("first");
    return Tensor<double>(g + 1.0);
  });
  x.register_hook([&](const Tensor<double>& g) {
    order.push_back("second");
    seen_second = g;
    return Tensor<double>(g * 10.0);
  });
  x.register_hook([&](const Tensor<double>& g) {
    order.push_back("third");
    seen_third = g;
    return g;
  });
  sum(x * 2.0).backward();
  CHECK(order == std::vector<std::string>{"first", "second", "third"});
  test::require_close(seen_second, Tensor<double>{3.0, 3.0}, 0);
  test::require_close(seen_third, Tensor<double>{30.0, 30.0}, 0);
  test::require_close(x.grad(), Tensor<double>{30.0, 30.0}, 0);
}

TEST_CASE("a hook runs once per backward with the gradient summed over every use") {
  SECTION("a leaf used twice, along paths of different lengths") {
    V x(Tensor<double>{0.5, -1.0}, true);
    HookRecorder seen;
    x.register_hook(seen.hook());
    sum(x * 2.0 + exp(x) * 3.0).backward();
    CHECK(seen.calls == 1);
    const Tensor<double> once = 2.0 + 3.0 * xt::exp(x.value());
    test::require_close(seen.last, once);
    // A second backward calls it once more, with this backward's gradient only (not the
    // accumulated .grad()).
    sum(x * 4.0).backward();
    CHECK(seen.calls == 2);
    test::require_close(seen.last, Tensor<double>{4.0, 4.0}, 0);
    test::require_close(x.grad(), Tensor<double>(once + 4.0));
  }
  SECTION("an op's output used twice") {
    V x(Tensor<double>{1.0, 3.0}, true);
    V h = x * x;
    HookRecorder seen;
    h.register_hook(seen.hook());
    sum(h * 2.0 + h * 3.0).backward();
    CHECK(seen.calls == 1);
    test::require_close(seen.last, Tensor<double>{5.0, 5.0}, 0);
  }
}

TEST_CASE("a hook may read its own variable's gradient") {
  V x(Tensor<double>{1.0}, true);
  std::vector<bool> had_grad;
  x.register_hook([&](const Tensor<double>& g) {
    had_grad.push_back(x.has_grad());
    return g;
  });
  sum(x * 2.0).backward();
  sum(x * 2.0).backward();
  CHECK(had_grad == std::vector<bool>{false, true});  // it runs before this backward's gradient accumulates
}

TEST_CASE("remove_hook: a removed hook no longer runs and an unknown handle throws") {
  V x(Tensor<double>{1.0, 2.0}, true);
  int first = 0, second = 0;
  const std::size_t h1 = x.register_hook([&](const Tensor<double>& g) {
    ++first;
    return Tensor<double>(g * 100.0);
  });
  const std::size_t h2 = x.register_hook([&](const Tensor<double>& g) {
    ++second;
    return g;
  });
  CHECK(h1 != h2);
  x.remove_hook(h1);
  sum(x * 2.0).backward();
  CHECK(first == 0);
  CHECK(second == 1);
  test::require_close(x.grad(), Tensor<double>{2.0, 2.0}, 0);  // the removed one did not scale it

  std::string msg = message_of<std::invalid_argument>([&] { x.remove_hook(h1); });  // removed already
  CHECK_THAT(msg, Contains("remove_hook:") && Contains("no hook with handle " + std::to_string(h1)) &&
                      Contains("(2,)"));
  msg = message_of<std::invalid_argument>([&] { x.remove_hook(h2 + 1000); });
  CHECK_THAT(msg, Contains("remove_hook:") && Contains("no hook with handle"));
  V other(Tensor<double>{1.0, 2.0}, true);  // a handle belongs to its own variable
  CHECK_THROWS_AS(other.remove_hook(h2), std::invalid_argument);
  x.remove_hook(h2);
  sum(x * 2.0).backward();
  CHECK(second == 1);
}

TEST_CASE("register_hook refuses a variable that does not require grad, and an empty hook") {
  V constant(Tensor<double>{1.0, 2.0});
  const Hook identity = [](const Tensor<double>& g) { return g; };
  std::string msg = message_of<std::invalid_argument>([&] { constant.register_hook(identity); });
  CHECK_THAT(msg, Contains("register_hook:") && Contains("shape (2,)") && Contains("does not require grad"));
  V x(Tensor<double>{1.0}, true);
  msg = message_of<std::invalid_argument>([&] { x.register_hook(Hook()); });
  CHECK_THAT(msg, Contains("register_hook:") && Contains("empty"));
  msg = message_of<std::logic_error>([&] { V().register_hook(identity); });
  CHECK_THAT(msg, Contains("register_hook") && Contains("undefined"));
}

TEST_CASE("a hook that returns a gradient of the wrong shape throws naming both shapes") {
  V x(Tensor<double>{1.0, 2.0}, true);
  x.register_hook([](const Tensor<double>&) { return Tensor<double>(xt::zeros<double>({3})); });
  std::string msg = message_of<std::invalid_argument>([&] { sum(x * 2.0).backward(); });
  CHECK_THAT(msg, Contains("register_hook:") && Contains("shape (3,)") && Contains("variable of shape (2,)"));
  CHECK_FALSE(x.has_grad());
}

TEST_CASE("hooks under create_graph: an observing hook keeps the graph, a replacing one leaves a constant") {
  V x(Tensor<double>{0.5, -2.0}, true);
  HookRecorder observer;
  const std::size_t observe = x.register_hook(observer.hook());
  V g = grad<double>({sum(x * x * x)}, {x}, {}, std::nullopt, true)[0];
  CHECK(observer.calls == 1);
  REQUIRE(g.requires_grad());
  test::require_close(grad<double>({sum(g)}, {x})[0].value(), Tensor<double>{3.0, -12.0});  // 6x
  x.remove_hook(observe);

  x.register_hook([](const Tensor<double>& t) { return Tensor<double>(t * 2.0); });
  V doubled = grad<double>({sum(x * x * x)}, {x}, {}, std::nullopt, true)[0];
  test::require_close(doubled.value(), Tensor<double>{1.5, 24.0});  // 2 * 3x^2
  CHECK_FALSE(doubled.requires_grad());
}
