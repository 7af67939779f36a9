// tg::grad (torch.autograd.grad): returned gradients, seeds, graph retention, unused inputs,
// non-leaf inputs, several outputs, and derivatives up to fourth order against closed forms.
#include "test_prelude.hpp"

#include <cmath>
#include <optional>

namespace {

using V = Variable<double>;
using Vs = std::vector<Variable<double>>;

// d sum(y) / dx with its graph kept, so it can be differentiated again.
V d_sum(const V& y, const V& x) { return grad<double>({sum(y)}, {x}, {}, std::nullopt, true)[0]; }

// An op with value 2x whose backward gives its input no gradient at all.
V blocked(const V& x) {
  return record_differentiable_op<double>("blocked", Tensor<double>(x.value() * 2.0), {x},
                                          [](const V&) { return Vs{V()}; });
}

// The identity, whose backward throws: proves that a backward did not run.
V tripwire(const V& x) {
  return record_differentiable_op<double>("tripwire", x.value(), {x}, [](const V&) -> Vs {
    throw std::runtime_error("tripwire: this backward must not run");
  });
}

}  // namespace

TEST_CASE("grad returns the gradients and accumulates nothing into .grad()") {
  V x(Tensor<double>{1.0, -2.0, 3.0}, true);
  V w(Tensor<double>{0.5, 4.0, -1.0}, true);
  // y = sum(x^2 w): dy/dx = 2 x w, dy/dw = x^2
  Vs g = grad<double>({sum(x * x * w)}, {x});
  REQUIRE(g.size() == 1);
  test::require_close(g[0].value(), Tensor<double>{1.0, -16.0, -6.0});
  CHECK_FALSE(g[0].requires_grad());  // without create_graph a plain value
  CHECK_FALSE(x.has_grad());
  CHECK_FALSE(w.has_grad());  // on the graph, not asked for: nothing either

  Vs both = grad<double>({sum(x * x * w)}, {w, x});
  REQUIRE(both.size() == 2);
  test::require_close(both[0].value(), Tensor<double>{1.0, 4.0, 9.0});
  test::require_close(both[1].value(), Tensor<double>{1.0, -16.0, -6.0});
  CHECK_FALSE(x.has_grad());
  CHECK_FALSE(w.has_grad());

  // A gradient accumulated before is left as it was.
  sum(x * 2.0).backward();
  grad<double>({sum(x * x)}, {x});
  test::require_close(x.grad(), Tensor<double>{2.0, 2.0, 2.0});
}

TEST_CASE("grad: grad_outputs seed each output, and without them every output must have one element") {
  V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  Vs g = grad<double>({x * x}, {x}, {V(Tensor<double>{1.0, 0.5, -2.0})});
  test::require_close(g[0].value(), Tensor<double>{2.0, 2.0, -12.0});  // 2 x v
  g = grad<double>({sum(x * x)}, {x}, {V(Tensor<double>(3.0))});       // a 0-d seed scales
  test::require_close(g[0].value(), Tensor<double>{6.0, 12.0, 18.0});

  std::string msg = message_of<std::invalid_argument>([&] { grad<double>({x * x}, {x}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("output 0 has shape (3,)") && Contains("without grad_outputs"));
  msg = message_of<std::invalid_argument>([&] {
    grad<double>({x * x}, {x}, {V(Tensor<double>{1.0, 1.0, 1.0}), V(Tensor<double>{1.0, 1.0, 1.0})});
  });
  CHECK_THAT(msg, Contains("grad:") && Contains("2 grad_outputs for 1 outputs"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({x * x}, {x}, {V(Tensor<double>{1.0, 1.0})}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("seed gradient has shape (2,)") && Contains("variable has shape (3,)"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({x * x}, {x}, {V()}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("grad_outputs[0] is an undefined Variable"));
  // The refused calls neither ran nor released anything: the graph of y works afterwards.
  V y = sum(x * x);
  CHECK_THROWS_AS(grad<double>({y}, {x}, {V(Tensor<double>{1.0})}), std::invalid_argument);
  test::require_close(grad<double>({y}, {x})[0].value(), Tensor<double>{2.0, 4.0, 6.0});
}

TEST_CASE("grad: invalid outputs and inputs are named") {
  V x(Tensor<double>{1.0, 2.0}, true);
  V constant(Tensor<double>{1.0, 2.0});
  std::string msg = message_of<std::invalid_argument>([&] { grad<double>({}, {x}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("at least one output"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({sum(x)}, {}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("at least one input"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({V()}, {x}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("output 0 is an undefined Variable"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({sum(x)}, {x, V()}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("input 1 is an undefined Variable"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({sum(x * constant)}, {x, constant}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("input 1 (shape (2,)) does not require grad"));
  msg = message_of<std::logic_error>([&] { grad<double>({sum(constant)}, {x}); });
  CHECK_THAT(msg, Contains("grad:") && Contains("does not require grad"));
}

TEST_CASE("grad: retain_graph defaults to create_graph") {
  V x(Tensor<double>{0.5, -1.5}, true);
  const Tensor<double> e = xt::exp(x.value());
  SECTION("without create_graph the graph is released: a second call throws saying so") {
    V y = sum(exp(x));
    test::require_close(grad<double>({y}, {x})[0].value(), e);
    std::string msg = message_of<std::logic_error>([&] { grad<double>({y}, {x}); });
    CHECK_THAT(msg, Contains("grad:") && Contains("'sum'") && Contains("already released") && Contains("retain_graph"));
  }
  SECTION("with create_graph it is kept for further calls") {
    V y = sum(exp(x));
    V g1 = grad<double>({y}, {x}, {}, std::nullopt, true)[0];
    V g2 = grad<double>({y}, {x}, {}, std::nullopt, true)[0];
    CHECK(g1.requires_grad());
    test::require_close(g1.value(), e);
    test::require_close(g2.value(), e);
    test::require_close(grad<double>({y}, {x})[0].value(), e);  // the last use may release it
    CHECK_THROWS_AS(grad<double>({y}, {x}), std::logic_error);
  }
  SECTION("retain_graph = true without create_graph keeps it too") {
    V y = sum(exp(x));
    grad<double>({y}, {x}, {}, true);
    V g = grad<double>({y}, {x}, {}, true)[0];
    CHECK_FALSE(g.requires_grad());
    test::require_close(g.value(), e);
  }
  SECTION("create_graph with retain_graph = false releases the graph it went through") {
    // pow's backward refers only to x, so the gradient's graph does not reach the released nodes
    // (through x * x * x it would: mul's backward refers to the product x * x)
    V y = sum(pow(x, 3.0));
    V g = grad<double>({y}, {x}, {}, false, true)[0];
    CHECK(g.requires_grad());
    test::require_close(g.value(), Tensor<double>{0.75, 6.75});
    test::require_close(d_sum(g, x).value(), Tensor<double>{3.0, -9.0});  // the new graph is intact: 6x
    CHECK_THROWS_WITH(grad<double>({y}, {x}), Contains("already released"));
  }
}

TEST_CASE("grad: allow_unused") {
  V x(Tensor<double>{1.0, 2.0}, true);
  V z(Tensor<double>{3.0, 4.0}, true);
  V y = sum(x * x);
  std::string msg = message_of<std::invalid_argument>([&] { grad<double>({y}, {x, z}, {}, true); });
  CHECK_THAT(msg, Contains("grad:") && Contains("input 1 (shape (2,)) is not used") && Contains("allow_unused"));
  msg = message_of<std::invalid_argument>([&] { grad<double>({y}, {z, x}, {}, true); });
  CHECK_THAT(msg, Contains("input 0 (shape (2,)) is not used"));

  Vs g = grad<double>({y}, {x, z}, {}, true, false, /*allow_unused=*/true);
  REQUIRE(g.size() == 2);
  REQUIRE(g[0].defined());
  test::require_close(g[0].value(), Tensor<double>{2.0, 4.0});
  CHECK_FALSE(g[1].defined());
  // an input that is an output of an unrelated graph is just as unused
  V other = z * 2.0;
  g = grad<double>({y}, {other}, {}, true, false, true);
  CHECK_FALSE(g[0].defined());
}

TEST_CASE("grad: an input on the graph that no gradient reaches gets zeros") {
  V x(Tensor<double>{0.5, -1.0, 2.0}, true);
  Vs g = grad<double>({sum(blocked(x))}, {x});  // allow_unused is false: this is no error
  REQUIRE(g[0].defined());
  test::require_close(g[0].value(), Tensor<double>{0.0, 0.0, 0.0}, 0);

  // relu's derivative is constant in x: its second derivative is 0 (as at a kink, PyTorch's convention).
  V g1 = d_sum(relu(x) * 3.0, x);
  test::require_close(g1.value(), Tensor<double>{3.0, 0.0, 3.0}, 0);
  V g2 = grad<double>({sum(g1)}, {x})[0];
  REQUIRE(g2.defined());
  test::require_close(g2.value(), Tensor<double>{0.0, 0.0, 0.0}, 0);
}

TEST_CASE("grad: non-leaf inputs, and nothing below them runs") {
  V x(Tensor<double>{1.0, 2.0, 3.0}, true);
  V h = tripwire(x) * tripwire(x);  // h = x^2, not a leaf
  V y = sum(h * h * 0.5);           // dy/dh = h, dy/dx = 2 x^3
  Vs g = grad<double>({y}, {h}, {}, true);
  test::require_close(g[0].value(), Tensor<double>{1.0, 4.0, 9.0});  // the tripwires did not fire
  CHECK_FALSE(h.has_grad());

  V x2(Tensor<double>{1.0, 2.0, 3.0}, true);
  V h2 = x2 * x2;
  Vs g2 = grad<double>({sum(h2 * h2 * 0.5)}, {h2, x2});
  test::require_close(g2[0].value(), Tensor<double>{1.0, 4.0, 9.0});
  test::require_close(g2[1].value(), Tensor<double>{2.0, 16.0, 54.0});
  CHECK_FALSE(x2.has_grad());
  // Going below h does run the tripwires.
  CHECK_THROWS_WITH(grad<double>({y}, {x}), Contains("tripwire"));
}

TEST_CASE("grad: the gradients of several outputs add up") {
  V x(Tensor<double>{1.0, 2.0}, true);
  Vs g = grad<double>({sum(x * x), sum(x * 3.0)}, {x});  // 2x + 3
  test::require_close(g[0].value(), Tensor<double>{5.0, 7.0});
  // each with its own seed: 2x * u + exp(x) * w
  const Tensor<double> u{1.0, -1.0}, w{0.5, 2.0};
  g = grad<double>({x * x, exp(x)}, {x}, {V(u), V(w)});
  test::require_close(g[0].value(), Tensor<double>(2.0 * x.value() * u + xt::exp(x.value()) * w));
  // the same output twice counts twice
  V y = sum(x * x);
  g = grad<double>({y, y}, {x});
  test::require_close(g[0].value(), Tensor<double>{4.0, 8.0});
  // outputs sharing part of their graph: y1 = sum(t), y2 = sum(t^2) with t = 3x
  V t = x * 3.0;
  g = grad<double>({sum(t), sum(t * t)}, {x});  // 3 + 2t * 3 = 3 + 18x
  test::require_close(g[0].value(), Tensor<double>{21.0, 39.0});
}

TEST_CASE("grad: derivatives of x^4 to fourth order (mul chain and pow)") {
  // f = x^4 elementwise: f' = 4x^3, f'' = 12x^2, f''' = 24x, f'''' = 24. d/dx sum(.) of an
  // elementwise function is its derivative, so each step is d_sum of the previous one.
  const Tensor<double> xs{-1.5, 0.5, 2.0};
  for (bool use_pow : {false, true}) {
    INFO((use_pow ? "pow(x, 4)" : "x * x * x * x"));
    V x(xs, true);
    V f = use_pow ? pow(x, 4.0) : x * x * x * x;
    V d1 = d_sum(f, x);
    test::require_close(d1.value(), Tensor<double>(4.0 * xs * xs * xs), 1e-12);
    V d2 = d_sum(d1, x);
    test::require_close(d2.value(), Tensor<double>(12.0 * xs * xs), 1e-12);
    V d3 = d_sum(d2, x);
    test::require_close(d3.value(), Tensor<double>(24.0 * xs), 1e-12);
    V d4 = grad<double>({sum(d3)}, {x})[0];
    test::require_close(d4.value(), Tensor<double>{24.0, 24.0, 24.0}, 1e-12);
    CHECK_FALSE(x.has_grad());
  }
}

TEST_CASE("grad: third derivatives of a polynomial, tanh, sigmoid and log against closed forms") {
  const Tensor<double> xs{-1.3, -0.2, 0.4, 1.1};
  SECTION("p(x) = 2x^3 - 5x^2 + x - 7: p' = 6x^2 - 10x + 1, p'' = 12x - 10, p''' = 12") {
    V x(xs, true);
    V p = 2.0 * x * x * x - 5.0 * x * x + x - 7.0;
    V d1 = d_sum(p, x), d2 = d_sum(d1, x), d3 = d_sum(d2, x);
    test::require_close(d1.value(), Tensor<double>(6.0 * xs * xs - 10.0 * xs + 1.0), 1e-12);
    test::require_close(d2.value(), Tensor<double>(12.0 * xs - 10.0), 1e-12);
    test::require_close(d3.value(), Tensor<double>{12.0, 12.0, 12.0, 12.0}, 1e-12);
  }
  SECTION("tanh: y' = 1 - y^2, y'' = -2y(1 - y^2), y''' = (1 - y^2)(6y^2 - 2)") {
    V x(xs, true);
    const Tensor<double> y = xt::tanh(xs), s = 1.0 - y * y;
    V d1 = d_sum(tg::tanh(x), x), d2 = d_sum(d1, x), d3 = d_sum(d2, x);
    test::require_close(d1.value(), s, 1e-12);
    test::require_close(d2.value(), Tensor<double>(-2.0 * y * s), 1e-12);
    test::require_close(d3.value(), Tensor<double>(s * (6.0 * y * y - 2.0)), 1e-12);
  }
  SECTION("sigmoid: s' = s(1 - s), s'' = s(1 - s)(1 - 2s), s''' = s(1 - s)(1 - 6s + 6s^2)") {
    V x(xs, true);
    const Tensor<double> s = 1.0 / (1.0 + xt::exp(-xs)), q = s * (1.0 - s);
    V d1 = d_sum(sigmoid(x), x), d2 = d_sum(d1, x), d3 = d_sum(d2, x);
    test::require_close(d1.value(), q, 1e-12);
    test::require_close(d2.value(), Tensor<double>(q * (1.0 - 2.0 * s)), 1e-12);
    test::require_close(d3.value(), Tensor<double>(q * (1.0 - 6.0 * s + 6.0 * s * s)), 1e-12);
  }
  SECTION("log: 1/x, -1/x^2, 2/x^3; exp: exp at every order") {
    const Tensor<double> pos = xt::abs(xs) + 0.5;
    V x(pos, true);
    V d1 = d_sum(log(x), x), d2 = d_sum(d1, x), d3 = d_sum(d2, x);
    test::require_close(d1.value(), Tensor<double>(1.0 / pos), 1e-12);
    test::require_close(d2.value(), Tensor<double>(-1.0 / (pos * pos)), 1e-12);
    test::require_close(d3.value(), Tensor<double>(2.0 / (pos * pos * pos)), 1e-12);
    V e1 = d_sum(exp(x), x), e2 = d_sum(e1, x), e3 = d_sum(e2, x);
    test::require_close(e3.value(), Tensor<double>(xt::exp(pos)), 1e-12);
  }
  SECTION("float: tanh's second derivative") {
    Variable<float> x(Tensor<float>{-0.5f, 0.25f, 1.0f}, true);
    Variable<float> d1 = grad<float>({sum(tg::tanh(x))}, {x}, {}, std::nullopt, true)[0];
    Variable<float> d2 = grad<float>({sum(d1)}, {x})[0];
    const Tensor<float> y = xt::tanh(x.value());
    test::require_close(d2.value(), Tensor<float>(-2.0f * y * (1.0f - y * y)), 1e-6);
  }
}

TEST_CASE("grad: mixed partial derivatives of x^2 y^3") {
  // f = sum(x^2 y^3): f_x = 2x y^3, f_xx = 2y^3, f_xy = 6x y^2, f_xyy = 12x y, f_xyx = 6y^2
  const Tensor<double> xs{0.5, -2.0}, ys{1.5, 0.75};
  V x(xs, true), y(ys, true);
  V fx = grad<double>({sum(x * x * y * y * y)}, {x}, {}, std::nullopt, true)[0];
  test::require_close(fx.value(), Tensor<double>(2.0 * xs * ys * ys * ys), 1e-12);
  Vs second = grad<double>({sum(fx)}, {x, y}, {}, std::nullopt, true);
  test::require_close(second[0].value(), Tensor<double>(2.0 * ys * ys * ys), 1e-12);
  test::require_close(second[1].value(), Tensor<double>(6.0 * xs * ys * ys), 1e-12);
  Vs third = grad<double>({sum(second[1])}, {x, y});
  test::require_close(third[0].value(), Tensor<double>(6.0 * ys * ys), 1e-12);
  test::require_close(third[1].value(), Tensor<double>(12.0 * xs * ys), 1e-12);
}

TEST_CASE("backward(retain, create_graph): the accumulated gradient keeps its graph (grad_variable)") {
  const Tensor<double> xs{0.5, -1.0, 2.0};
  V x(xs, true);
  const Tensor<double> first = 3.0 * xs * xs;  // d sum(x^3) / dx

  SECTION("without create_graph grad_variable is a plain value") {
    sum(x * x * x).backward();
    CHECK_FALSE(x.grad_variable().requires_grad());
    test::require_close(x.grad_variable().value(), first);
  }
  SECTION("tg::grad differentiates it and leaves .grad() alone") {
    sum(x * x * x).backward(false, true);
    V gx = x.grad_variable();
    CHECK(gx.requires_grad());
    test::require_close(gx.value(), first);
    test::require_close(x.grad(), first);
    test::require_close(grad<double>({sum(gx)}, {x})[0].value(), Tensor<double>(6.0 * xs));
    test::require_close(x.grad(), first);
  }
  SECTION("backward through it adds the second derivative to .grad()") {
    sum(x * x * x).backward(false, true);
    sum(x.grad_variable()).backward();
    test::require_close(x.grad(), Tensor<double>(first + 6.0 * xs));
  }
  SECTION("two create_graph backwards accumulate a gradient that is still differentiable") {
    sum(x * x * x).backward(false, true);
    sum(x * x).backward(false, true);
    V gx = x.grad_variable();
    test::require_close(gx.value(), Tensor<double>(first + 2.0 * xs));
    CHECK(gx.requires_grad());
    test::require_close(grad<double>({sum(gx)}, {x})[0].value(), Tensor<double>(6.0 * xs + 2.0));
  }
  SECTION("a plain backward, then a create_graph one") {
    sum(x * x).backward();
    sum(x * x * x).backward(false, true);
    V gx = x.grad_variable();
    test::require_close(gx.value(), Tensor<double>(first + 2.0 * xs));
    test::require_close(grad<double>({sum(gx)}, {x})[0].value(), Tensor<double>(6.0 * xs));
  }
  SECTION("create_graph keeps the forward graph, as retain_graph does") {
    V y = sum(x * x * x);
    y.backward(false, true);
    y.backward();
    test::require_close(x.grad(), Tensor<double>(2.0 * first));
    CHECK_THROWS_WITH(y.backward(), Contains("already released"));
  }
  SECTION("with a seed") {
    (x * x).backward(Tensor<double>{1.0, 2.0, 3.0}, false, true);
    V gx = x.grad_variable();
    test::require_close(gx.value(), Tensor<double>{1.0, -4.0, 12.0});  // 2x * seed
    test::require_close(grad<double>({sum(gx)}, {x})[0].value(), Tensor<double>{2.0, 4.0, 6.0});
  }
  x.zero_grad();  // the gradient's graph refers to x: dropping it breaks that cycle
  CHECK_THROWS_WITH(x.grad_variable(), Contains("no gradient"));
}

TEST_CASE("Variable::defined") {
  CHECK_FALSE(Variable<double>().defined());
  CHECK_FALSE(Variable<float>().defined());
  CHECK(V(Tensor<double>(1.0)).defined());
  CHECK(Variable<float>(Tensor<float>{1.0f}, true).defined());
  V x(Tensor<double>{1.0}, true);
  CHECK((x * 2.0).defined());
  V empty;
  V copy = empty;
  CHECK_FALSE(copy.defined());
  copy = x;
  CHECK(copy.defined());
}
