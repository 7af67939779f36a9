// expand, slice and split: forward values worked out by hand (Python slicing rules), gradients,
// second derivatives and error messages.
#include "test_prelude.hpp"

namespace {

using Vars = std::vector<Variable<double>>;

// An (n, 1) column: the braced form {{1}, {2}} is ambiguous for xarray.
Tensor<double> column(std::initializer_list<double> values) {
  Tensor<double> t = Tensor<double>::from_shape({values.size(), 1});
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}

// Distinct weights for each output element, so a gradient put in the wrong place shows.
Variable<double> weights(const Shape& shape) { return Variable<double>(arange(element_count(shape), shape, 1.0)); }

}  // namespace

// ---------------------------------------------------------------- expand

TEST_CASE("expand: values of new leading axes and stretched axes of extent 1") {
  Variable<double> col(column({1.0, 2.0, 3.0}));  // (3, 1)
  Variable<double> y = expand(col, {2, 3, 4});
  REQUIRE(y.shape() == Shape{2, 3, 4});
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) REQUIRE(y.value()(i, j, k) == static_cast<double>(j + 1));
  test::require_close(expand(Variable<double>(Tensor<double>{1.0, 2.0, 3.0}), {2, 3}).value(),
                      Tensor<double>{{1, 2, 3}, {1, 2, 3}}, 0);
  test::require_close(expand(Variable<double>(Tensor<double>(7.0)), {2, 2}).value(), Tensor<double>{{7, 7}, {7, 7}}, 0);
  test::require_close(expand(Variable<double>(Tensor<double>{{1, 2}}), {3, 2}).value(),
                      Tensor<double>{{1, 2}, {1, 2}, {1, 2}}, 0);
  Variable<double> same(arange(6, {2, 3}), true);
  test::require_close(expand(same, {2, 3}).value(), arange(6, {2, 3}), 0);  // nothing to expand
  CHECK(expand(same, {1, 2, 3}).shape() == Shape{1, 2, 3});
  CHECK(expand(Variable<double>(xt::zeros<double>({0, 1})), {0, 5}).shape() == Shape{0, 5});
}

TEST_CASE("expand: the gradient sums over the expanded axes - gradcheck and gradgradcheck") {
  Variable<double> col(column({1.0, 2.0, 3.0}), true);
  sum(expand(col, {2, 3, 4})).backward();
  test::require_close(col.grad(), column({8.0, 8.0, 8.0}), 0);  // 2 x 4 copies each

  Generator gen(501);
  for (const auto& [from, to] : std::vector<std::pair<Shape, Shape>>{
           {{3, 1}, {2, 3, 4}}, {{4}, {3, 4}}, {{1, 1}, {2, 3}}, {{}, {2, 2}}, {{2, 1, 3}, {2, 4, 3}}}) {
    INFO(format_shape(from) << " -> " << format_shape(to));
    const Variable<double> w = weights(to);
    test::require_higher_order([to = to, w](const Vars& v) { return expand(v[0], to) * w; },
                               {test::param(test::uniform(from, gen))});
  }
}

TEST_CASE("expand: errors name both shapes and the dimension") {
  Variable<double> a(xt::zeros<double>({2, 3}));
  std::string msg = message_of<std::invalid_argument>([&] { expand(a, {3}); });
  CHECK_THAT(msg, Contains("expand:") && Contains("cannot expand shape (2, 3) to (3,)") && Contains("fewer dimensions"));
  msg = message_of<std::invalid_argument>([&] { expand(a, {2, 4}); });
  CHECK_THAT(msg, Contains("expand:") && Contains("(2, 3) to (2, 4)") && Contains("dimension 1 has extent 3") &&
                      Contains("neither 1 nor 4"));
  msg = message_of<std::invalid_argument>([&] { expand(a, {5, 3, 3}); });
  CHECK_THAT(msg, Contains("expand:") && Contains("dimension 1 has extent 2") && Contains("neither 1 nor 3"));
}

// ---------------------------------------------------------------- slice

TEST_CASE("slice: Python's a[start:stop:step] with negative and past-the-end bounds") {
  Variable<double> x(arange(10, {10}));
  test::require_close(slice(x, 0, 2, 8).value(), Tensor<double>{2, 3, 4, 5, 6, 7}, 0);
  test::require_close(slice(x, 0, 2, 8, 3).value(), Tensor<double>{2, 5}, 0);  // [2:8:3]
  test::require_close(slice(x, 0, 0, 10, 4).value(), Tensor<double>{0, 4, 8}, 0);
  test::require_close(slice(x, 0, -3, 100).value(), Tensor<double>{7, 8, 9}, 0);  // [-3:100]
  test::require_close(slice(x, 0, -100, 2).value(), Tensor<double>{0, 1}, 0);     // [-100:2]
  test::require_close(slice(x, 0, 1, -1, 3).value(), Tensor<double>{1, 4, 7}, 0);  // [1:-1:3]
  test::require_close(slice(x, 0, -4, -1, 2).value(), Tensor<double>{6, 8}, 0);    // [-4:-1:2]
  test::require_close(slice(x, 0, 3, 4).value(), Tensor<double>{3}, 0);
  for (const auto& [start, stop] : std::vector<std::pair<std::int64_t, std::int64_t>>{{5, 2}, {4, 4}, {12, 20}, {-1, -5}}) {
    INFO("[" << start << ":" << stop << "]");
    CHECK(slice(x, 0, start, stop).shape() == Shape{0});  // empty, as in Python
  }

  Variable<double> m(arange(12, {3, 4}));
  test::require_close(slice(m, 1, 1, 3).value(), Tensor<double>{{1, 2}, {5, 6}, {9, 10}}, 0);
  test::require_close(slice(m, -2, 0, 3, 2).value(), Tensor<double>{{0, 1, 2, 3}, {8, 9, 10, 11}}, 0);
  test::require_close(slice(m, -1, -1, 4).value(), column({3, 7, 11}), 0);
  test::require_close(slice(m, 1, 0, 100, 3).value(), Tensor<double>{{0, 3}, {4, 7}, {8, 11}}, 0);

  Variable<double> t(arange(24, {2, 3, 4}));  // the middle axis: t[:, 1:3, :]
  test::require_close(slice(t, 1, 1, 3).value(),
                      Tensor<double>{{{4, 5, 6, 7}, {8, 9, 10, 11}}, {{16, 17, 18, 19}, {20, 21, 22, 23}}}, 0);
}

TEST_CASE("slice: the gradient lands at the sliced positions - gradcheck and gradgradcheck") {
  Variable<double> m(arange(12, {3, 4}), true);
  slice(m, 1, 1, 4, 2).backward(Tensor<double>{{1, 2}, {3, 4}, {5, 6}});  // columns 1 and 3
  test::require_close(m.grad(), Tensor<double>{{0, 1, 0, 2}, {0, 3, 0, 4}, {0, 5, 0, 6}}, 0);

  Generator gen(502);
  const Tensor<double> x = test::uniform({3, 7, 2}, gen);
  struct Case { int axis; std::int64_t start, stop, step; Shape out; };
  for (const Case& c : std::vector<Case>{{1, 1, 6, 2, {3, 3, 2}},
                                         {1, -5, 100, 3, {3, 2, 2}},
                                         {0, -100, -1, 1, {2, 7, 2}},
                                         {-1, 1, 2, 1, {3, 7, 1}},
                                         {-2, 0, 7, 7, {3, 1, 2}}}) {
    INFO("axis " << c.axis << " [" << c.start << ":" << c.stop << ":" << c.step << "]");
    REQUIRE(slice(Variable<double>(x), c.axis, c.start, c.stop, c.step).shape() == c.out);
    const Variable<double> w = weights(c.out);
    test::require_higher_order([c, w](const Vars& v) { return slice(v[0], c.axis, c.start, c.stop, c.step) * w; },
                               {test::param(x)});
  }
  // an empty slice gives a zero gradient
  Variable<double> z(arange(4, {4}), true);
  Variable<double> empty = slice(z, 0, 3, 1);
  REQUIRE(empty.shape() == Shape{0});
  sum(empty).backward();
  test::require_close(z.grad(), Tensor<double>{0, 0, 0, 0}, 0);
}

TEST_CASE("slice: errors name the function, the step or axis, and the shape") {
  Variable<double> m(xt::zeros<double>({3, 4}));
  std::string msg = message_of<std::invalid_argument>([&] { slice(m, 1, 0, 2, 0); });
  CHECK_THAT(msg, Contains("slice:") && Contains("step must be positive, got 0") && Contains("(3, 4)"));
  msg = message_of<std::invalid_argument>([&] { slice(m, 0, 2, 0, -1); });
  CHECK_THAT(msg, Contains("slice:") && Contains("got -1"));
  msg = message_of<std::invalid_argument>([&] { slice(m, 2, 0, 1); });
  CHECK_THAT(msg, Contains("slice:") && Contains("axis 2 is out of range") && Contains("(3, 4)"));
  msg = message_of<std::invalid_argument>([&] { slice(m, -3, 0, 1); });
  CHECK_THAT(msg, Contains("slice:") && Contains("axis -3"));
  msg = message_of<std::invalid_argument>([&] { slice(Variable<double>(Tensor<double>(1.0)), 0, 0, 1); });
  CHECK_THAT(msg, Contains("slice:") && Contains("0-d"));
}

// ---------------------------------------------------------------- split

TEST_CASE("split: pieces of `size`, the last one smaller, like torch.split") {
  Variable<double> x(arange(7, {7}));
  std::vector<Variable<double>> p = split(x, 3, 0);
  REQUIRE(p.size() == 3);
  test::require_close(p[0].value(), Tensor<double>{0, 1, 2}, 0);
  test::require_close(p[1].value(), Tensor<double>{3, 4, 5}, 0);
  test::require_close(p[2].value(), Tensor<double>{6}, 0);
  REQUIRE(split(x, 7, 0).size() == 1);
  REQUIRE(split(x, 100, -1).size() == 1);
  test::require_close(split(x, 100, -1)[0].value(), arange(7, {7}), 0);
  REQUIRE(split(x, 1, 0).size() == 7);

  Variable<double> m(arange(10, {2, 5}));
  p = split(m, 2, -1);
  REQUIRE(p.size() == 3);
  test::require_close(p[0].value(), Tensor<double>{{0, 1}, {5, 6}}, 0);
  test::require_close(p[1].value(), Tensor<double>{{2, 3}, {7, 8}}, 0);
  test::require_close(p[2].value(), column({4, 9}), 0);
  p = split(m, 1, 0);
  REQUIRE(p.size() == 2);
  test::require_close(p[1].value(), Tensor<double>{{5, 6, 7, 8, 9}}, 0);
  // an empty axis gives one empty piece, as torch.split does
  p = split(Variable<double>(xt::zeros<double>({0, 3})), 2, 0);
  REQUIRE(p.size() == 1);
  CHECK(p[0].shape() == Shape{0, 3});
}

TEST_CASE("split: each piece's gradient goes back to its part - gradcheck and gradgradcheck") {
  Variable<double> x(arange(5, {5}), true);
  std::vector<Variable<double>> p = split(x, 2, 0);
  (sum(p[0]) * 1.0 + sum(p[1]) * 10.0 + sum(p[2]) * 100.0).backward();
  test::require_close(x.grad(), Tensor<double>{1, 1, 10, 10, 100}, 0);

  Generator gen(503);
  const Tensor<double> m = test::uniform({3, 5}, gen);
  for (std::size_t k = 0; k < 3; ++k) {
    INFO("piece " << k);
    test::require_higher_order([k](const Vars& v) { return split(v[0], 2, 1)[k] * 3.0; }, {test::param(m)});
  }
  // all pieces in one function, with different weights
  test::require_higher_order(
      [](const Vars& v) {
        std::vector<Variable<double>> q = split(v[0], 2, 0);
        return concat({q[1] * 2.0, q[0] * q[0]}, 0);
      },
      {test::param(test::uniform({4, 2}, gen))});
}

TEST_CASE("split: errors name the function, the size or axis, and the shape") {
  Variable<double> x(xt::zeros<double>({7}));
  std::string msg = message_of<std::invalid_argument>([&] { split(x, 0, 0); });
  CHECK_THAT(msg, Contains("split:") && Contains("size must be positive, got 0") && Contains("(7,)"));
  msg = message_of<std::invalid_argument>([&] { split(x, 2, 1); });
  CHECK_THAT(msg, Contains("split:") && Contains("axis 1 is out of range") && Contains("(7,)"));
  msg = message_of<std::invalid_argument>([&] { split(Variable<double>(Tensor<double>(1.0)), 1, 0); });
  CHECK_THAT(msg, Contains("split:") && Contains("0-d"));
}
