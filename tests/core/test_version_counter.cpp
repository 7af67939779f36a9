// Version counters (PyTorch's _version): write accesses are counted, and a backward that needs a
// value edited since it was recorded refuses to run, naming the op, what was edited and both
// versions, before any kernel reads the edited value.
#include "test_prelude.hpp"

#include <optional>
#include <utility>

namespace {

using V = Variable<double>;
using Vs = std::vector<Variable<double>>;
using Grads = std::vector<Tensor<double>>;

// The message of the logic_error a backward from y throws, checking it is not an invalid_argument.
std::string refusal(V y) {
  try {
    y.backward();
  } catch (const std::invalid_argument& e) {
    FAIL("threw invalid_argument instead of logic_error: " << e.what());
  } catch (const std::logic_error& e) {
    return e.what();
  }
  FAIL("backward did not throw");
  return {};
}

}  // namespace

TEST_CASE("version() counts write accesses, and reads through a const handle do not count") {
  V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  CHECK(x.version() == 0);
  const V& cx = x;
  (void)cx.value();
  (void)std::as_const(x).value();
  (void)x.shape();
  (void)x.size();
  V product = x * x;  // ops read through const references
  sum(product).backward();
  (void)x.grad();
  x.zero_grad();
  CHECK(x.version() == 0);
  CHECK(product.version() == 0);

  x.value()(0) = 5.0;
  CHECK(x.version() == 1);
  (void)x.value();  // non-const access counts even without a write: it could have been one
  (void)x.value();
  CHECK(x.version() == 3);
  V copy = x;  // copies share the value and its counter
  copy.value()(1) = 0.0;
  CHECK(x.version() == 4);
  CHECK(x.detach().version() == 0);  // a new value
  CHECK((x * 2.0).version() == 0);   // an op's output starts at 0
  Variable<float> f(Tensor<float>{1.0f});
  f.value()(0) = 2.0f;
  CHECK(f.version() == 1);
}

TEST_CASE("an input of mul edited before backward: logic_error naming 'mul', the input and both versions") {
  V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  V y = sum(x * x);
  x.value()(0) = 10.0;
  const std::string msg = refusal(y);
  CHECK_THAT(msg, Contains("backward:") && Contains("modified by an in-place operation") &&
                      Contains("input 0 of 'mul' (shape (3,))") && Contains("at version 0 when 'mul' recorded it") &&
                      Contains("now at version 1"));
  CHECK_FALSE(x.has_grad());

  SECTION("versions other than 0 and 1 are the ones named") {
    V z(Tensor<double>{1.0, 2.0}, true);
    z.value()(0) = 3.0;
    z.value()(1) = 4.0;  // version 2 when recorded
    V w = sum(z * 2.0);
    z.value()(0) = 1.0;
    z.value()(0) = 1.0;
    z.value()(0) = 1.0;  // version 5
    CHECK_THAT(refusal(w), Contains("input 0 of 'mul'") && Contains("at version 2 when") && Contains("now at version 5"));
  }
  SECTION("the second input") {
    V c(Tensor<double>{4.0, 5.0, 6.0});
    V a(Tensor<double>{1.0, 1.0, 1.0}, true);
    V w = sum(a * c);  // backward reads c
    c.value()(2) = 0.0;
    CHECK_THAT(refusal(w), Contains("input 1 of 'mul'") && Contains("at version 0") && Contains("now at version 1"));
  }
  SECTION("tg::grad refuses likewise") {
    V a(Tensor<double>{1.0, 2.0}, true);
    V w = sum(a * a);
    a.value()(1) = 0.0;
    const std::string m = message_of<std::logic_error>([&] { grad<double>({w}, {a}); });
    CHECK_THAT(m, Contains("'mul'") && Contains("now at version 1"));
  }
}

TEST_CASE("an edit the backward does not need is allowed, as in PyTorch") {
  V x(Tensor<double>{1.0, 2.0}, true);
  V c(Tensor<double>{3.0, 4.0});
  V y = sum(x + c);  // add's backward reads neither input
  x.value()(0) = 7.0;
  c.value()(1) = 7.0;
  y.backward();
  test::require_close(x.grad(), Tensor<double>{1.0, 1.0}, 0);
  // an op's output edited when the op does not read it (mul reads its inputs only)
  V a(Tensor<double>{1.0, 2.0}, true);
  V p = a * 3.0;
  p.value()(0) = 0.0;
  sum(p).backward();
  test::require_close(a.grad(), Tensor<double>{3.0, 3.0}, 0);
}

TEST_CASE("an optimiser step between two backward calls of a retained graph refuses the second") {
  V w(Tensor<double>{0.5, -1.0}, true);
  V x(Tensor<double>{2.0, 3.0});
  optim::SGD<double> sgd({w}, optim::SGDOptions{0.1});
  V loss = sum(w * w * x);  // the first mul reads w
  loss.backward(true);
  const std::uint64_t before = w.version();
  sgd.step();
  CHECK(w.version() == before + 1);
  const std::string msg = refusal(loss);
  CHECK_THAT(msg, Contains("'mul'") && Contains("input 0") && Contains("at version 0") &&
                      Contains("now at version 1") && Contains("optimiser step"));
  // A step without a gradient leaves the parameter, and its version, alone.
  V unused(Tensor<double>{1.0}, true);
  optim::SGD<double> idle({unused}, optim::SGDOptions{0.1});
  idle.step();
  CHECK(unused.version() == 0);
}

TEST_CASE("an input replaced by a tensor of another shape is refused before any kernel runs") {
  // Under the sanitizers this also proves that no backward kernel read the new buffer.
  Generator gen(201);
  SECTION("linear: the input") {
    V x(test::uniform({2, 3}, gen));
    V w(test::uniform({4, 3}, gen), true), b(test::uniform({4}, gen), true);
    V y = sum(linear(x, w, b));
    x.value() = xt::zeros<double>({5, 7});
    CHECK_THAT(refusal(y), Contains("input 0 of 'linear' had shape (2, 3)") && Contains("now has shape (5, 7)"));
    CHECK_FALSE(w.has_grad());
    CHECK_FALSE(b.has_grad());
  }
  SECTION("linear: the weight") {
    V x(test::uniform({2, 3}, gen), true);
    V w(test::uniform({4, 3}, gen), true);
    V y = sum(linear(x, w));
    w.value() = xt::zeros<double>({1, 1});
    CHECK_THAT(refusal(y), Contains("input 1 of 'linear' had shape (4, 3)") && Contains("now has shape (1, 1)"));
    CHECK_FALSE(x.has_grad());
  }
  SECTION("matmul: either side") {
    V a(test::uniform({2, 3}, gen), true), b(test::uniform({3, 4}, gen), true);
    V y = sum(matmul(a, b));
    b.value() = xt::zeros<double>({9, 9});
    CHECK_THAT(refusal(y), Contains("input 1 of 'matmul' had shape (3, 4)") && Contains("now has shape (9, 9)"));
    V y2 = sum(matmul(a, V(test::uniform({3, 4}, gen))));
    a.value() = xt::zeros<double>({1});
    CHECK_THAT(refusal(y2), Contains("input 0 of 'matmul' had shape (2, 3)") && Contains("now has shape (1,)"));
    CHECK_FALSE(a.has_grad());
  }
}

TEST_CASE("logsumexp, whose backward reads its input and its output, refuses either edited") {
  Generator gen(204);
  V x(test::uniform({2, 3}, gen), true);
  V y = logsumexp(x, 1, /*keepdim=*/true);
  SECTION("the output") {
    y.value()(0, 0) = 0.25;
    CHECK_THAT(refusal(sum(y)), Contains("the output of 'logsumexp' (shape (2, 1))") && Contains("now at version 1"));
  }
  SECTION("the input") {
    x.value()(0, 0) = 0.25;
    CHECK_THAT(refusal(sum(y)), Contains("input 0 of 'logsumexp' (shape (2, 3))") && Contains("now at version 1"));
  }
}

TEST_CASE("ops that save their output refuse an edited output") {
  Generator gen(202);
  const std::vector<std::pair<std::string, std::function<V(const V&)>>> ops = {
      {"exp", [](const V& v) { return exp(v); }},
      {"sqrt", [](const V& v) { return sqrt(v); }},
      {"sigmoid", [](const V& v) { return sigmoid(v); }},
      {"tanh", [](const V& v) { return tg::tanh(v); }},
      {"softmax", [](const V& v) { return softmax(v, 1); }},
      {"log_softmax", [](const V& v) { return log_softmax(v, 0); }},
      {"relu", [](const V& v) { return relu(v); }},  // masked by its output, as in PyTorch
  };
  for (const auto& [name, op] : ops) {
    INFO(name);
    V x(test::uniform({2, 3}, gen, 0.5, 2.0), true);
    V y = op(x);
    y.value()(0, 0) = 0.25;
    CHECK_THAT(refusal(sum(y)), Contains("the output of '" + name + "' (shape (2, 3))") &&
                                    Contains("at version 0 when '" + name + "' recorded it") &&
                                    Contains("now at version 1"));
    CHECK_FALSE(x.has_grad());
    // unedited, the same op goes through
    V x2(test::uniform({2, 3}, gen, 0.5, 2.0), true);
    sum(op(x2)).backward();
    CHECK(x2.has_grad());
  }
}

TEST_CASE("ops that save an input refuse an edited input, naming it") {
  Generator gen(203);
  const std::vector<std::tuple<std::string, std::string, std::function<V(const V&, const V&)>>> ops = {
      {"leaky_relu", "input 0", [](const V& a, const V&) { return leaky_relu(a, 0.1); }},
      {"log", "input 0", [](const V& a, const V&) { return log(a); }},
      {"pow", "input 0", [](const V& a, const V&) { return pow(a, 3.0); }},
      {"div", "input 1", [](const V& a, const V& b) { return a / b; }},
      {"mse_loss", "input 1", [](const V& a, const V& b) { return mse_loss(a, b); }},
  };
  for (const auto& [name, which, op] : ops) {
    INFO(name);
    V a(test::uniform({2, 3}, gen, 0.5, 2.0), true), b(test::uniform({2, 3}, gen, 0.5, 2.0), true);
    V y = sum(op(a, b));
    (which == "input 0" ? a : b).value()(1, 1) = 1.0;
    CHECK_THAT(refusal(y), Contains(which + " of '" + name + "'") && Contains("now at version 1"));
  }
}

TEST_CASE("user operators: an edited input is refused naming the op, in both forms") {
  V x(Tensor<double>{1.0, 2.0}, true);
  const Tensor<double> xv = std::as_const(x).value();  // x.value() would count as a write
  V y = record_op<double>("user_square", Tensor<double>(xv * xv), {x},
                          [xv](const Tensor<double>& g) { return Grads{Tensor<double>(2.0 * xv * g)}; });
  V z = record_differentiable_op<double>("user_cube", Tensor<double>(xv * xv * xv), {x},
                                         [x](const V& g) { return Vs{g * x * x * 3.0}; });
  x.value()(0) = 0.0;
  CHECK_THAT(refusal(sum(y)), Contains("input 0 of 'user_square'") && Contains("now at version 1"));
  CHECK_THAT(refusal(sum(z)), Contains("input 0 of 'user_cube'") && Contains("now at version 1"));
}

TEST_CASE("the versions are checked in higher-order backwards too") {
  V x(Tensor<double>{1.0, 2.0}, true);
  V g = grad<double>({sum(x * x * x)}, {x}, {}, std::nullopt, true)[0];
  x.value()(0) = 3.0;
  const std::string msg = message_of<std::logic_error>([&] { grad<double>({sum(g)}, {x}); });
  CHECK_THAT(msg, Contains("of 'mul'") && Contains("now at version 1"));
}
