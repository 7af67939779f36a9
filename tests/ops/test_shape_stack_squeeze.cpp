// stack, unsqueeze and squeeze: forward values worked out by hand, gradients, second derivatives
// and error messages.
#include "test_prelude.hpp"

namespace {

using Vars = std::vector<Variable<double>>;

Variable<double> weights(const Shape& shape) { return Variable<double>(arange(element_count(shape), shape, 1.0)); }

}  // namespace

// ---------------------------------------------------------------- stack

TEST_CASE("stack: joins along a new axis, like torch.stack") {
  Variable<double> a(Tensor<double>{1, 2, 3}), b(Tensor<double>{4, 5, 6});
  test::require_close(stack({a, b}, 0).value(), Tensor<double>{{1, 2, 3}, {4, 5, 6}}, 0);
  test::require_close(stack({a, b}, -2).value(), Tensor<double>{{1, 2, 3}, {4, 5, 6}}, 0);
  test::require_close(stack({a, b}, 1).value(), Tensor<double>{{1, 4}, {2, 5}, {3, 6}}, 0);
  test::require_close(stack({a, b}, -1).value(), Tensor<double>{{1, 4}, {2, 5}, {3, 6}}, 0);
  test::require_close(stack({a}, 0).value(), Tensor<double>{{1, 2, 3}}, 0);

  Variable<double> c(arange(4, {2, 2})), d(arange(4, {2, 2}, 10));
  test::require_close(stack({c, d}, 0).value(), Tensor<double>{{{0, 1}, {2, 3}}, {{10, 11}, {12, 13}}}, 0);
  test::require_close(stack({c, d}, 1).value(), Tensor<double>{{{0, 1}, {10, 11}}, {{2, 3}, {12, 13}}}, 0);
  test::require_close(stack({c, d}, 2).value(), Tensor<double>{{{0, 10}, {1, 11}}, {{2, 12}, {3, 13}}}, 0);
  Variable<double> s(Tensor<double>(1.5)), t(Tensor<double>(-2.0));
  test::require_close(stack({s, t, s}, 0).value(), Tensor<double>{1.5, -2.0, 1.5}, 0);  // 0-d inputs give (3,)
}

TEST_CASE("stack: each input gets its slice of the gradient - gradcheck and gradgradcheck") {
  Variable<double> a(Tensor<double>{1, 2}, true), b(Tensor<double>{3, 4}, true);
  stack({a, b}, 1).backward(Tensor<double>{{1, 2}, {3, 4}});
  test::require_close(a.grad(), Tensor<double>{1, 3}, 0);
  test::require_close(b.grad(), Tensor<double>{2, 4}, 0);

  Generator gen(511);
  for (int axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    Vars inputs;
    for (int k = 0; k < 3; ++k) inputs.push_back(test::param(test::uniform({2, 3}, gen)));
    Shape out{2, 3};
    out.insert(out.begin() + (axis < 0 ? axis + 3 : axis), 3);
    const Variable<double> w = weights(out);
    test::require_higher_order([axis, w](const Vars& v) { return stack(v, axis) * w; }, inputs);
  }
  // an input that needs no gradient, and the same input twice
  Variable<double> fixed(test::uniform({3}, gen));
  test::require_higher_order([fixed](const Vars& v) { return stack({v[0], fixed, v[0] * v[0]}, 0); },
                             {test::param(test::uniform({3}, gen))});
}

TEST_CASE("stack: errors name the function, the input and the shapes") {
  Variable<double> a(xt::zeros<double>({3})), b(xt::zeros<double>({2}));
  std::string msg = message_of<std::invalid_argument>([] { stack(std::vector<Variable<double>>{}, 0); });
  CHECK_THAT(msg, Contains("stack:") && Contains("empty"));
  msg = message_of<std::invalid_argument>([&] { stack({a, a, b}, 0); });
  CHECK_THAT(msg, Contains("stack:") && Contains("input 2 has shape (2,)") && Contains("input 0 has shape (3,)"));
  msg = message_of<std::invalid_argument>([&] { stack({a, a}, 2); });
  CHECK_THAT(msg, Contains("stack:") && Contains("axis 2 is out of range") && Contains("(3,)") && Contains("-2 to 1"));
  msg = message_of<std::invalid_argument>([&] { stack({a, a}, -3); });
  CHECK_THAT(msg, Contains("stack:") && Contains("axis -3"));
  msg = message_of<std::invalid_argument>([&] { stack({a, Variable<double>()}, 0); });
  CHECK_THAT(msg, Contains("stack:") && Contains("input 1 is an undefined Variable"));
}

// ---------------------------------------------------------------- unsqueeze and squeeze

TEST_CASE("unsqueeze: a new axis of extent 1 at dim, negative dims counted from ndim + 1") {
  Variable<double> x(arange(6, {2, 3}));
  for (const auto& [dim, shape] : std::vector<std::pair<int, Shape>>{
           {0, {1, 2, 3}}, {1, {2, 1, 3}}, {2, {2, 3, 1}}, {-1, {2, 3, 1}}, {-2, {2, 1, 3}}, {-3, {1, 2, 3}}}) {
    INFO("dim " << dim);
    Variable<double> y = unsqueeze(x, dim);
    CHECK(y.shape() == shape);
    test::require_close(y.value(), arange(6, shape), 0);  // the same elements in row-major order
  }
  CHECK(unsqueeze(Variable<double>(Tensor<double>(4.0)), 0).shape() == Shape{1});
  CHECK(unsqueeze(Variable<double>(Tensor<double>(4.0)), -1).shape() == Shape{1});
  CHECK(unsqueeze(Variable<double>(Tensor<double>(4.0)), 0).value()(0) == 4.0);
}

TEST_CASE("squeeze: removes dim when its extent is 1, else returns the same values") {
  Variable<double> x(arange(6, {2, 1, 3}));
  CHECK(squeeze(x, 1).shape() == Shape{2, 3});
  CHECK(squeeze(x, -2).shape() == Shape{2, 3});
  CHECK(squeeze(x, 0).shape() == Shape{2, 1, 3});  // extent 2: unchanged, as torch.squeeze(x, 0)
  CHECK(squeeze(x, -1).shape() == Shape{2, 1, 3});
  test::require_close(squeeze(x, 1).value(), arange(6, {2, 3}), 0);
  test::require_close(squeeze(x, 0).value(), arange(6, {2, 1, 3}), 0);
  CHECK(squeeze(Variable<double>(Tensor<double>{5.0}), 0).shape() == Shape{});
  CHECK(squeeze(Variable<double>(Tensor<double>{5.0}), 0).item() == 5.0);
  CHECK(squeeze(Variable<double>(Tensor<double>(5.0)), 0).shape() == Shape{});   // 0-d accepts 0 and -1
  CHECK(squeeze(Variable<double>(Tensor<double>(5.0)), -1).shape() == Shape{});
}

TEST_CASE("unsqueeze and squeeze: gradients keep their elements - gradcheck and gradgradcheck") {
  Variable<double> x(arange(6, {2, 3}), true);
  unsqueeze(x, 1).backward(arange(6, {2, 1, 3}, 1.0));
  test::require_close(x.grad(), arange(6, {2, 3}, 1.0), 0);

  Generator gen(512);
  const Tensor<double> a = test::uniform({2, 3}, gen), b = test::uniform({2, 1, 3}, gen);
  for (int dim : {0, 1, 2, -1, -3}) {
    INFO("unsqueeze dim " << dim);
    Shape out{2, 3};
    out.insert(out.begin() + (dim < 0 ? dim + 3 : dim), 1);
    const Variable<double> w = weights(out);
    test::require_higher_order([dim, w](const Vars& v) { return unsqueeze(v[0], dim) * w; }, {test::param(a)});
  }
  for (int dim : {1, -2, 0}) {
    INFO("squeeze dim " << dim);
    const Variable<double> w = weights(dim == 0 ? Shape{2, 1, 3} : Shape{2, 3});
    test::require_higher_order([dim, w](const Vars& v) { return squeeze(v[0], dim) * w; }, {test::param(b)});
  }
  test::require_higher_order([](const Vars& v) { return squeeze(unsqueeze(v[0], 0), 0) * 2.0; },
                             {test::param(Tensor<double>(0.4))});
}

TEST_CASE("unsqueeze and squeeze: a dim out of range names the function, the dim and the shape") {
  Variable<double> x(xt::zeros<double>({2, 3}));
  for (int dim : {3, -4}) {
    std::string msg = message_of<std::invalid_argument>([&] { unsqueeze(x, dim); });
    CHECK_THAT(msg, Contains("unsqueeze:") && Contains("dim " + std::to_string(dim) + " is out of range") &&
                        Contains("(2, 3)") && Contains("-3 to 2"));
  }
  for (int dim : {2, -3}) {
    std::string msg = message_of<std::invalid_argument>([&] { squeeze(x, dim); });
    CHECK_THAT(msg, Contains("squeeze:") && Contains("axis " + std::to_string(dim) + " is out of range") &&
                        Contains("(2, 3)"));
  }
  std::string msg = message_of<std::invalid_argument>([] { squeeze(Variable<double>(Tensor<double>(1.0)), 1); });
  CHECK_THAT(msg, Contains("squeeze:") && Contains("axis 1") && Contains("()"));
}

TEST_CASE("the new shape ops in float record their names and release their graph") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Variable<float> x(Tensor<float>{{1, 2, 3}, {4, 5, 6}}, true);
    CHECK(expand(unsqueeze(x, 0), {2, 2, 3}).op() == "expand");
    CHECK(slice(x, 1, 0, 2).op() == "slice");
    CHECK(split(x, 1, 0)[1].op() == "split");
    CHECK(unsqueeze(x, 0).op() == "unsqueeze");
    CHECK(squeeze(x, 0).op() == "squeeze");
  }
  {
    Variable<float> x(Tensor<float>{{1, 2, 3}, {4, 5, 6}}, true);
    // y = [x[:, ::2] flattened, 2 * x flattened]: gradient 1 + 2 at columns 0 and 2, 2 at column 1
    auto y = concat({flatten(slice(x, 1, 0, 3, 2), 0), flatten(squeeze(sum(expand(unsqueeze(x, 0), {2, 2, 3}), {0}, true), 0), 0)}, 0);
    test::require_close(y.value(), Tensor<float>{1, 3, 4, 6, 2, 4, 6, 8, 10, 12});
    sum(y).backward();
    test::require_close(x.grad(), Tensor<float>{{3, 2, 3}, {3, 2, 3}});
    CHECK(stack({x, x}, 0).shape() == Shape{2, 2, 3});
  }
  CHECK(tape_stats().live_nodes == before);
}
