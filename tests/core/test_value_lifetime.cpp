// Intermediate values and the graph: an op's output lives as long as a handle that may read it (the
// user's, or a backward's closure that saved it), not as long as the graph; the graph keeps only
// its links. This is what PyTorch does, and what keeps a deep model's peak memory down.
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "core/detail/graph.hpp"
#include "test_util.hpp"

using namespace tg;

namespace {
using V = Variable<double>;
using Impl = std::shared_ptr<detail::VariableImpl<double>>;

V leaf() { return V(Tensor<double>{1.5, -0.5, 2.0}, true); }

}  // namespace

TEST_CASE("an op's output that no handle reads any more is freed, and backward goes through it") {
  V x = leaf();
  Impl h_impl;
  V y;
  {
    V h = x + x;
    h_impl = h.impl();
    y = tg::relu(h);  // relu reads its output, not h; add reads nothing
    CHECK_FALSE(h_impl->value_released);
  }
  CHECK(h_impl->value_released);
  CHECK(h_impl->value.size() == 0);
  CHECK(format_shape(detail::value_shape(*h_impl)) == "(3,)");

  SECTION("backward") {
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    test::require_close(x.grad(), Tensor<double>{2.0, 0.0, 2.0});
  }
  SECTION("backward twice through a retained graph") {
    y.backward(Tensor<double>{1.0, 1.0, 1.0}, /*retain_graph=*/true);
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    test::require_close(x.grad(), Tensor<double>{4.0, 0.0, 4.0});
  }
  SECTION("to_dot draws it with its shape") {
    const std::string dot = to_dot(y);
    CHECK(dot.find("add\\n(3,)") != std::string::npos);
  }
}

TEST_CASE("a value a backward reads stays while the graph lives") {
  V x = leaf();
  Impl impl;
  V y;
  SECTION("an input its consumer saved") {
    {
      V h = x + x;
      impl = h.impl();
      y = h * h;  // mul reads both inputs
    }
    CHECK_FALSE(impl->value_released);
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    test::require_close(x.grad(), Tensor<double>{12.0, -4.0, 16.0});  // d (2x)^2 / dx = 8x
  }
  SECTION("an output its own op's backward reads") {
    {
      V e = tg::exp(x);
      impl = e.impl();
      y = e + e;  // add reads nothing, but exp's backward reads exp's output
    }
    CHECK_FALSE(impl->value_released);
    y.backward(Tensor<double>{1.0, 1.0, 1.0});
    for (std::size_t i = 0; i < 3; ++i) CHECK(x.grad()(i) == Approx(2 * std::exp(x.value()(i))).epsilon(1e-15));
  }
  SECTION("a leaf nobody holds") {
    {
      V c(Tensor<double>{1.0, 2.0, 3.0});
      impl = c.impl();
      y = x + c;
    }
    CHECK_FALSE(impl->value_released);
    test::require_close(impl->value, Tensor<double>{1.0, 2.0, 3.0}, 0.0);
  }
  SECTION("an output the user still holds") {
    V h = x + x;
    y = tg::relu(h);
    CHECK_FALSE(h.impl()->value_released);
    test::require_close(h.value(), Tensor<double>{3.0, -1.0, 4.0}, 0.0);
  }
}

TEST_CASE("second derivatives go through freed intermediate values") {
  V x = leaf();
  V z;
  Impl h_impl;
  {
    V h = x + x;
    h_impl = h.impl();
    z = sum(tg::tanh(h));  // tanh reads its output: h is read by nothing
  }
  CHECK(h_impl->value_released);
  const V g = grad<double>({z}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  sum(g).backward();
  // d/dx 2 (1 - tanh^2(2x)) = -8 tanh(2x) (1 - tanh^2(2x)); the values are worked out here.
  for (std::size_t i = 0; i < 3; ++i) {
    const double t = std::tanh(2 * x.value()(i));
    CHECK(g.value()(i) == Approx(2 * (1 - t * t)).epsilon(1e-11));  // 1 - t^2 cancels: x = 2 leaves 1e-3
    CHECK(x.grad()(i) == Approx(-8 * t * (1 - t * t)).epsilon(1e-11));
  }
}
