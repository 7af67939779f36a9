#include "test_prelude.hpp"

#include <xtensor/xmanipulation.hpp>

namespace {

using Vars = std::vector<Variable<double>>;

}  // namespace

TEST_CASE("reshape: keeps row-major order - gradcheck and gradgradcheck") {
  Variable<double> x(arange(6, {2, 3}));
  auto y = reshape(x, {3, 1, 2});
  CHECK(y.shape() == Shape{3, 1, 2});
  test::require_close(y.value(), arange(6, {3, 1, 2}));
  CHECK(reshape(Variable<double>(Tensor<double>{4.0}), {}).shape() == Shape{});  // (1,) -> 0-d
  CHECK(reshape(Variable<double>(Tensor<double>(4.0)), {1, 1}).shape() == Shape{1, 1});

  Generator gen(41);
  test::require_higher_order([](const Vars& v) { return reshape(v[0], {4, 3}); }, {test::param(test::uniform({2, 3, 2}, gen))});
  // the gradient really is reshaped back: weight each output element differently
  const Tensor<double> w = arange(12, {6, 2}, 1.0);
  test::require_higher_order([w](const Vars& v) { return reshape(v[0], {6, 2}) * Variable<double>(w); },
                          {test::param(test::uniform({3, 4}, gen))});
}

TEST_CASE("reshape: a size mismatch names both shapes and sizes") {
  Variable<double> x(xt::zeros<double>({2, 3}));
  std::string msg = message_of<std::invalid_argument>([&] { reshape(x, {4, 2}); });
  CHECK_THAT(msg, Contains("reshape:") && Contains("(2, 3)") && Contains("6 elements") && Contains("(4, 2)") &&
                      Contains("8 elements"));
}

TEST_CASE("transpose: values gradcheck and gradgradcheck a large tiled case") {
  Variable<double> x(arange(6, {2, 3}));
  test::require_close(transpose(x).value(), Tensor<double>{{0, 3}, {1, 4}, {2, 5}});
  Generator gen(42);
  test::require_higher_order([](const Vars& v) { return transpose(v[0]); }, {test::param(test::uniform({2, 3}, gen))});
  const Tensor<double> w = arange(12, {4, 3}, 1.0);
  test::require_higher_order([w](const Vars& v) { return transpose(v[0]) * Variable<double>(w); },
                          {test::param(test::uniform({3, 4}, gen))});

  // 37 x 70 crosses the copy's tile boundaries; reference: element (i, j) of the result is x(j, i).
  Variable<double> big(test::uniform({37, 70}, gen));
  const Tensor<double> t = transpose(big).value();
  REQUIRE(shape_of(t) == Shape{70, 37});
  bool all_equal = true;
  for (std::size_t i = 0; i < 70; ++i)
    for (std::size_t j = 0; j < 37; ++j) all_equal = all_equal && t(i, j) == big.value()(j, i);
  CHECK(all_equal);
}

TEST_CASE("transpose: anything but 2-D is an error naming the shape") {
  for (const Shape& s : {Shape{2, 3, 4}, Shape{5}, Shape{}}) {
    Variable<double> x(Tensor<double>(xt::zeros<double>(s)));
    std::string msg = message_of<std::invalid_argument>([&] { transpose(x); });
    CHECK_THAT(msg, Contains("transpose:") && Contains("2-D") && Contains(format_shape(s)));
  }
}

TEST_CASE("permute: values (numpy's transpose) gradcheck and gradgradcheck of every permutation") {
  // Expected values printed by numpy 1.24: np.arange(24.).reshape(2,3,4).transpose(...).
  Variable<double> x(arange(24, {2, 3, 4}));
  auto y = permute(x, {2, 0, 1});
  CHECK(y.shape() == Shape{4, 2, 3});
  test::require_close(y.value(), Tensor<double>{{{0, 4, 8}, {12, 16, 20}},
                                                {{1, 5, 9}, {13, 17, 21}},
                                                {{2, 6, 10}, {14, 18, 22}},
                                                {{3, 7, 11}, {15, 19, 23}}});
  test::require_close(permute(x, {0, 2, 1}).value(), Tensor<double>{{{0, 4, 8}, {1, 5, 9}, {2, 6, 10}, {3, 7, 11}},
                                                                    {{12, 16, 20}, {13, 17, 21}, {14, 18, 22},
                                                                     {15, 19, 23}}});
  test::require_close(permute(x, {1, 0, 2}).value(), Tensor<double>{{{0, 1, 2, 3}, {12, 13, 14, 15}},
                                                                    {{4, 5, 6, 7}, {16, 17, 18, 19}},
                                                                    {{8, 9, 10, 11}, {20, 21, 22, 23}}});
  Generator gen(43);
  const Tensor<double> input = test::uniform({2, 3, 4}, gen);
  for (const Shape& perm : {Shape{0, 1, 2}, Shape{0, 2, 1}, Shape{1, 0, 2}, Shape{1, 2, 0}, Shape{2, 0, 1},
                            Shape{2, 1, 0}}) {
    INFO("perm " << format_shape(perm));
    Shape out_shape{input.shape()[perm[0]], input.shape()[perm[1]], input.shape()[perm[2]]};
    const Tensor<double> w = arange(24, out_shape, 1.0);  // distinct weights per output element
    test::require_higher_order([perm, w](const Vars& v) { return permute(v[0], perm) * Variable<double>(w); },
                            {test::param(input)});
  }
}

TEST_CASE("permute: larger tensors and extents of 1 match xtensor's transpose") {
  Generator gen(44);
  const Tensor<double> a = test::uniform({3, 40, 50}, gen);
  const Tensor<double> b = test::uniform({2, 1, 3, 1, 4}, gen);
  const Tensor<double> c = test::uniform({2, 3, 4, 5}, gen);
  for (const Shape& perm : {Shape{0, 2, 1}, Shape{2, 1, 0}, Shape{1, 2, 0}, Shape{2, 0, 1}, Shape{1, 0, 2}}) {
    INFO("perm " << format_shape(perm));
    Tensor<double> expected = xt::transpose(a, perm);
    test::require_close(permute(Variable<double>(a), perm).value(), expected, 0);
  }
  for (const Shape& perm : {Shape{4, 3, 2, 1, 0}, Shape{1, 3, 0, 2, 4}, Shape{0, 2, 1, 4, 3}}) {
    INFO("perm " << format_shape(perm));
    Tensor<double> expected = xt::transpose(b, perm);
    test::require_close(permute(Variable<double>(b), perm).value(), expected, 0);
  }
  for (const Shape& perm : {Shape{0, 1, 3, 2}, Shape{2, 3, 0, 1}, Shape{3, 1, 2, 0}, Shape{1, 0, 3, 2}}) {
    INFO("perm " << format_shape(perm));
    Tensor<double> expected = xt::transpose(c, perm);
    test::require_close(permute(Variable<double>(c), perm).value(), expected, 0);
  }
}

TEST_CASE("permute: perm must be a permutation of 0..ndim-1 - errors name perm and shape") {
  Variable<double> x(xt::zeros<double>({2, 3, 4}));
  std::string msg = message_of<std::invalid_argument>([&] { permute(x, {1, 0}); });
  CHECK_THAT(msg, Contains("permute:") && Contains("(1, 0)") && Contains("(2, 3, 4)") && Contains("3 dimensions"));
  msg = message_of<std::invalid_argument>([&] { permute(x, {0, 3, 1}); });
  CHECK_THAT(msg, Contains("permute:") && Contains("(0, 3, 1)") && Contains("3 is out of range") &&
                      Contains("(2, 3, 4)"));
  msg = message_of<std::invalid_argument>([&] { permute(x, {2, 0, 2}); });
  CHECK_THAT(msg, Contains("permute:") && Contains("(2, 0, 2)") && Contains("2 appears twice") &&
                      Contains("(2, 3, 4)"));
}

TEST_CASE("flatten: shapes like torch.flatten(x start_dim) - gradcheck and gradgradcheck") {
  Variable<double> x(arange(24, {2, 3, 4}));
  CHECK(flatten(x).shape() == Shape{2, 12});
  CHECK(flatten(x, 0).shape() == Shape{24});
  CHECK(flatten(x, 2).shape() == Shape{2, 3, 4});
  CHECK(flatten(x, -1).shape() == Shape{2, 3, 4});
  CHECK(flatten(x, -2).shape() == Shape{2, 12});
  CHECK(flatten(x, -3).shape() == Shape{24});
  test::require_close(flatten(x).value(), arange(24, {2, 12}));
  CHECK(flatten(Variable<double>(arange(5, {5})), 0).shape() == Shape{5});
  for (int start : {1, 0, -1}) {  // a 0-d tensor becomes (1,)
    auto s = flatten(Variable<double>(Tensor<double>(7.0)), start);
    CHECK(s.shape() == Shape{1});
    CHECK(s.value()(0) == 7.0);
  }
  Generator gen(45);
  const Tensor<double> w = arange(24, {2, 12}, 1.0);
  test::require_higher_order([w](const Vars& v) { return flatten(v[0]) * Variable<double>(w); },
                          {test::param(test::uniform({2, 3, 4}, gen))});
  test::require_higher_order([](const Vars& v) { return flatten(v[0]) * 3.0; }, {test::param(Tensor<double>(0.3))});
}

TEST_CASE("flatten: start_dim out of range names it and the shape") {
  Variable<double> x(xt::zeros<double>({2, 3, 4}));
  for (int start : {3, -4}) {
    std::string msg = message_of<std::invalid_argument>([&] { flatten(x, start); });
    CHECK_THAT(msg, Contains("flatten:") && Contains("axis " + std::to_string(start)) && Contains("(2, 3, 4)"));
  }
  std::string msg = message_of<std::invalid_argument>([] { flatten(Variable<double>(xt::zeros<double>({5}))); });
  CHECK_THAT(msg, Contains("flatten:") && Contains("axis 1") && Contains("(5,)"));
  msg = message_of<std::invalid_argument>([] { flatten(Variable<double>(Tensor<double>(1.0)), 2); });
  CHECK_THAT(msg, Contains("flatten:") && Contains("start_dim 2") && Contains("()"));
}

TEST_CASE("concat: values along each axis (numpy.concatenate) gradcheck and gradgradcheck") {
  // Expected values printed by numpy 1.24.
  Variable<double> a(arange(6, {2, 3})), b(arange(4, {2, 2}, 10)), c(arange(2, {2, 1}, 20));
  test::require_close(concat({a, b, c}, 1).value(), Tensor<double>{{0, 1, 2, 10, 11, 20}, {3, 4, 5, 12, 13, 21}});
  test::require_close(concat({a, b, c}, -1).value(), concat({a, b, c}, 1).value());
  Variable<double> d(arange(3, {1, 3}, 30));
  test::require_close(concat(std::vector<Variable<double>>{a, d}, 0).value(),
                      Tensor<double>{{0, 1, 2}, {3, 4, 5}, {30, 31, 32}});
  CHECK(concat({a}, 0).shape() == Shape{2, 3});

  Generator gen(46);
  for (int axis : {0, 1, 2, -2}) {
    INFO("axis " << axis);
    const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 3 : axis);
    std::vector<Variable<double>> inputs;
    std::size_t total = 0;
    for (std::size_t extent : {2, 1, 3}) {
      Shape s{2, 3, 4};
      s[ax] = extent;
      total += extent;
      inputs.push_back(test::param(test::uniform(s, gen)));
    }
    Shape out_shape{2, 3, 4};
    out_shape[ax] = total;
    const Tensor<double> w = arange(element_count(out_shape), out_shape, 1.0);
    test::require_higher_order([axis, w](const Vars& v) { return concat(v, axis) * Variable<double>(w); }, inputs);
  }
  // an input that needs no gradient gets none, the others still do
  Variable<double> fixed(test::uniform({2, 2}, gen));
  test::require_higher_order([fixed](const Vars& v) { return concat({v[0], fixed, v[1]}, 1) * 2.0; },
                          {test::param(test::uniform({2, 3}, gen)), test::param(test::uniform({2, 1}, gen))});
}

TEST_CASE("concat: errors name the offending input and the shapes") {
  std::string msg = message_of<std::invalid_argument>([] { concat(std::vector<Variable<double>>{}, 0); });
  CHECK_THAT(msg, Contains("concat:") && Contains("empty"));

  Variable<double> a(xt::zeros<double>({2, 3})), b(xt::zeros<double>({2, 4})), c(xt::zeros<double>({2, 3, 1}));
  msg = message_of<std::invalid_argument>([&] { concat({a, b, c}, 1); });
  CHECK_THAT(msg, Contains("concat:") && Contains("input 2") && Contains("(2, 3, 1)") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { concat({a, a, b}, 0); });
  CHECK_THAT(msg, Contains("concat:") && Contains("input 2") && Contains("(2, 4)") && Contains("(2, 3)") &&
                      Contains("dimension 1"));
  msg = message_of<std::invalid_argument>([&] { concat({a, b}, 2); });
  CHECK_THAT(msg, Contains("concat:") && Contains("axis 2") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([&] { concat({a, b}, -3); });
  CHECK_THAT(msg, Contains("concat:") && Contains("axis -3") && Contains("(2, 3)"));
  Variable<double> s(Tensor<double>(1.0));
  msg = message_of<std::invalid_argument>([&] { concat({s, s}, 0); });
  CHECK_THAT(msg, Contains("concat:") && Contains("input 0") && Contains("()"));
  msg = message_of<std::invalid_argument>([&] { concat({a, Variable<double>()}, 0); });
  CHECK_THAT(msg, Contains("concat:") && Contains("input 1") && Contains("undefined"));
}

TEST_CASE("shape ops in float and the graph is released after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Variable<float> x(Tensor<float>{{1, 2, 3}, {4, 5, 6}}, true);
    auto y = concat({flatten(transpose(x), 0), reshape(permute(x, {1, 0}), {6})}, 0);  // (12,)
    test::require_close(y.value(), Tensor<float>{1, 4, 2, 5, 3, 6, 1, 4, 2, 5, 3, 6});
    y.backward(Tensor<float>{1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60});
    test::require_close(x.grad(), Tensor<float>{{11, 33, 55}, {22, 44, 66}});
  }
  CHECK(tape_stats().live_nodes == before);
}
