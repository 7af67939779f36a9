// index_select, gather and embedding: values and gradients printed by PyTorch, gradcheck and
// gradgradcheck, the parallel kernels against plain loops, and every error message.
#include "test_prelude.hpp"

namespace {

// The op's value, and the gradient of its input for the seed pattern(y.shape, 5, 13, 6, 8).
struct Result {
  Tensor<double> y, grad;
};
Result run(const std::function<Variable<double>(const Variable<double>&)>& f, const Tensor<double>& input) {
  auto x = test::param(input);
  Variable<double> y = f(x);
  y.backward(pattern(y.shape(), 5, 13, 6, 8));
  return {y.value(), x.grad()};
}

// Seeded random indices in [0, extent).
Indices random_indices(const Shape& shape, std::size_t extent, Generator& gen) {
  Indices out = Indices::from_shape(shape);
  for (auto& e : out) e = static_cast<std::int64_t>(gen.uniform(0.0, double(extent))) % std::int64_t(extent);
  return out;
}

}  // namespace

// PyTorch 1.13 (python3-torch), a = pattern((2, 3, 4), 7, 11, 5, 4).requires_grad_():
//   y = torch.index_select(a, axis, torch.tensor(idx)); torch.autograd.grad(y, a, pattern(y.shape, 5, 13, 6, 8))
TEST_CASE("index_select: values and gradients printed by PyTorch", "[indexing]") {
  const Tensor<double> a = pattern({2, 3, 4}, 7, 11, 5, 4);
  SECTION("axis 1, a repeated index") {
    Result r = run([](auto& x) { return index_select(x, 1, Indices{2, 0, 2}); }, a);
    test::require_close(r.y, values({2, 3, 4}, {-1.0, 0.75, -0.25, -1.25, -1.25, 0.5, -0.5, 1.25, -1.0, 0.75, -0.25, -1.25,
                                                0.75, -0.25, -1.25, 0.5, 0.5, -0.5, 1.25, 0.25, 0.75, -0.25, -1.25, 0.5}), 0);
    test::require_close(r.grad, values({2, 3, 4}, {0.125, 0.75, -0.25, 0.375, 0.0, 0.0, 0.0, 0.0, -1.375, -0.125, 1.125,
                                                   -0.875, -0.5, 0.125, 0.75, -0.25, 0.0, 0.0, 0.0, 0.0, 0.625, -1.375,
                                                   -0.125, 1.125}), 0);
  }
  SECTION("axis -1, more indices than the extent") {
    Result r = run([](auto& x) { return index_select(x, -1, Indices{3, 1, 1, 0, 3}); }, a);
    test::require_close(r.y, values({2, 3, 5}, {1.25, 0.5, 0.5, -1.25, 1.25, 0.0, -0.75, -0.75, 0.25, 0.0,
                                                -1.25, 0.75, 0.75, -1.0, -1.25, 0.25, -0.5, -0.5, 0.5, 0.25,
                                                -1.0, 1.0, 1.0, -0.75, -1.0, 0.5, -0.25, -0.25, 0.75, 0.5}), 0);
    test::require_close(r.grad, values({2, 3, 4}, {-0.5, 0.375, 0.0, -0.625, -0.625, 0.125, 0.0, 0.75, -0.75, -0.125, 0.0,
                                                   0.5, 0.75, -0.375, 0.0, 0.25, 0.625, -0.625, 0.0, 0.0, 0.5, -0.875,
                                                   0.0, -0.25}), 0);
  }
  SECTION("axis 0, one index; a 0-d index gives the same (extent 1 kept, as torch)") {
    for (const Indices& index : {Indices{1}, Indices(std::int64_t(1))}) {
      Result r = run([&](auto& x) { return index_select(x, 0, index); }, a);
      test::require_close(r.y, values({1, 3, 4}, {0.5, -0.5, 1.25, 0.25, -0.75, 1.0, 0.0, -1.0, 0.75, -0.25, -1.25, 0.5}), 0);
      test::require_close(r.grad, values({2, 3, 4}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.75, -0.125, 0.5, -0.5, 0.125,
                                                     0.75, -0.25, 0.375, -0.625, 0.0, 0.625, -0.375}), 0);
    }
  }
  SECTION("no indices: an empty axis, a zero gradient") {
    Result r = run([](auto& x) { return index_select(x, 1, Indices::from_shape({0})); }, a);
    CHECK(format_shape(r.y.shape()) == "(2, 0, 4)");
    test::require_close(r.grad, Tensor<double>(xt::zeros<double>({2, 3, 4})), 0);
  }
}

// PyTorch 1.13, the same a: y = torch.gather(a, axis, idx); torch.autograd.grad(y, a, pattern(y.shape, 5, 13, 6, 8))
TEST_CASE("gather: values and gradients printed by PyTorch", "[indexing]") {
  const Tensor<double> a = pattern({2, 3, 4}, 7, 11, 5, 4);
  SECTION("axis 1, an index smaller than a on another axis, repeated indices") {
    const Indices index{{{0, 2}, {1, 1}}, {{2, 2}, {0, 1}}};
    Result r = run([&](auto& x) { return gather(x, 1, index); }, a);
    test::require_close(r.y, values({2, 2, 2}, {-1.25, 0.75, 0.25, -0.75, 0.75, -0.25, 0.5, 1.0}), 0);
    test::require_close(r.grad, values({2, 3, 4}, {-0.75, 0.0, 0.0, 0.0, 0.5, -0.5, 0.0, 0.0, 0.0, -0.125, 0.0, 0.0,
                                                   -0.25, 0.0, 0.0, 0.0, 0.0, 0.375, 0.0, 0.0, 0.125, 0.75, 0.0, 0.0}), 0);
  }
  SECTION("axis -1, an index longer than the axis") {
    const Indices index{{{3, 0, 0, 1, 2}}, {{1, 1, 1, 1, 3}}};
    Result r = run([&](auto& x) { return gather(x, -1, index); }, a);
    test::require_close(r.y, values({2, 1, 5}, {1.25, -1.25, -1.25, 0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 0.25}), 0);
    test::require_close(r.grad, values({2, 3, 4}, {0.375, -0.5, 0.125, -0.75, 0, 0, 0, 0, 0, 0, 0, 0,
                                                   0.0, 0.25, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0}), 0);
  }
  SECTION("a 0-d tensor and a 0-d index") {
    Result r = run([](auto& x) { return gather(x, 0, Indices(std::int64_t(0))); }, Tensor<double>(2.5));
    CHECK(r.y.dimension() == 0);
    CHECK(r.y() == 2.5);
    CHECK(r.grad() == -0.75);
  }
}

// PyTorch 1.13: w = pattern((5, 3), 3, 7, 3, 2); y = F.embedding(torch.tensor([[1, 4, 0], [2, 2, 3]]), w);
// torch.autograd.grad(y, w, pattern(y.shape, 5, 13, 6, 8))
TEST_CASE("embedding: values and gradients printed by PyTorch", "[indexing]") {
  const Indices ids{{1, 4, 0}, {2, 2, 3}};
  Result r = run([&](auto& w) { return embedding(ids, w); }, pattern({5, 3}, 3, 7, 3, 2));
  test::require_close(r.y, values({2, 3, 3}, {-0.5, 1.0, -1.0, -1.0, 0.5, -1.5, -1.5, 0.0, 1.5,
                                              0.5, -1.5, 0.0, 0.5, -1.5, 0.0, 1.5, -0.5, 1.0}), 0);
  test::require_close(r.grad, values({5, 3}, {-0.25, 0.375, -0.625, -0.75, -0.125, 0.5, 0.25, -0.125, -0.5,
                                              0.5, -0.5, 0.125, -0.5, 0.125, 0.75}), 0);
  SECTION("a 0-d id gives one row; an empty id tensor none") {
    Variable<double> w(pattern({5, 3}, 3, 7, 3, 2));
    Variable<double> row = embedding(Indices(std::int64_t(4)), w);
    test::require_close(row.value(), values({3}, {-1.0, 0.5, -1.5}), 0);
    CHECK(format_shape(embedding(Indices::from_shape({2, 0}), w).shape()) == "(2, 0, 3)");
  }
}

TEST_CASE("index_select, gather and embedding pass gradcheck and gradgradcheck", "[indexing]") {
  Generator gen(131);
  auto a = test::param(test::uniform({3, 4, 2}, gen));
  const GradcheckOptions opts{};
  SECTION("index_select on each axis, with repeats") {
    for (int axis : {0, 1, -1}) {
      INFO("axis " << axis);
      const Indices index = axis == 0 ? Indices{2, 0, 2, 1} : axis == 1 ? Indices{3, 3, 0} : Indices{1, 1, 0};
      auto f = [axis, index](auto& v) { return index_select(v[0], axis, index); };
      test::require_higher_order(f, {a}, opts);
      Variable<double> seed = test::param(test::uniform(index_select(a, axis, index).shape(), gen));
      test::require_grad_and_gradgrad(test::gradient_function(f), {a, seed}, opts);
    }
  }
  SECTION("gather along each axis, with repeats and a smaller index") {
    for (int axis : {0, 1, 2}) {
      INFO("axis " << axis);
      Shape index_shape{2, 3, 2};
      index_shape[std::size_t(axis)] = 5;
      const Indices index = random_indices(index_shape, a.shape()[std::size_t(axis)], gen);
      auto f = [axis, index](auto& v) { return gather(v[0], axis, index); };
      test::require_higher_order(f, {a}, opts);
      Variable<double> seed = test::param(test::uniform(index_shape, gen));
      test::require_grad_and_gradgrad(test::gradient_function(f), {a, seed}, opts);
    }
  }
  SECTION("embedding, with repeated ids") {
    auto w = test::param(test::uniform({4, 3}, gen));
    const Indices ids{{3, 0, 3}, {1, 1, 2}};
    auto f = [ids](auto& v) { return embedding(ids, v[0]); };
    test::require_higher_order(f, {w}, opts);
    Variable<double> seed = test::param(test::uniform({2, 3, 3}, gen));
    test::require_grad_and_gradgrad(test::gradient_function(f), {w, seed}, opts);
  }
  SECTION("in a composition whose second derivative is not zero") {
    auto w = test::param(test::uniform({4, 3}, gen));
    test::require_grad_and_gradgrad([](auto& v) {
      const Variable<double> rows = embedding(Indices{{1, 3}, {1, 0}}, v[1]);         // (2, 2, 3)
      const Variable<double> picked = gather(v[0], 1, Indices{{{1, 0}, {3, 3}}});  // (1, 2, 2)
      return sum(index_select(rows, -1, Indices{2, 0}) * picked * picked);
    }, {a, w}, opts);
  }
}

TEST_CASE("index_select, gather and embedding: float matches double", "[indexing]") {
  Generator gen(132);
  const Tensor<double> a = test::uniform({4, 5}, gen);
  const Indices rows{3, 0, 3}, cols{{4, 0}, {1, 1}, {2, 3}};
  auto af = Variable<float>(Tensor<float>(xt::cast<float>(a)), true);
  auto ad = test::param(a);
  Variable<float> yf = sum(index_select(af, 0, rows) * 2.0f) + sum(gather(af, 1, cols)) + sum(embedding(rows, af));
  Variable<double> yd = sum(index_select(ad, 0, rows) * 2.0) + sum(gather(ad, 1, cols)) + sum(embedding(rows, ad));
  CHECK(yf.item() == Approx(yd.item()).epsilon(1e-6));
  yf.backward();
  yd.backward();
  test::require_close(Tensor<double>(xt::cast<double>(af.grad())), ad.grad(), 1e-6);
}

// Large enough for the kernels to split over threads (index_add over the columns when there is one
// outer block, over the outer blocks otherwise); compared with plain loops.
TEST_CASE("index_select, gather and embedding: large inputs match plain loops", "[indexing]") {
  Generator gen(133);
  SECTION("embedding and its backward, one outer block") {
    auto w = test::param(test::uniform({50, 700}, gen));
    const Indices ids = random_indices({4, 30}, 50, gen);
    Variable<double> y = embedding(ids, w);
    const Tensor<double> seed = test::uniform(y.shape(), gen);
    y.backward(seed);
    Tensor<double> expected_grad = xt::zeros<double>({50, 700});
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const auto id = static_cast<std::size_t>(ids.data()[k]);
      for (std::size_t j = 0; j < 700; ++j) {
        REQUIRE(y.value().data()[k * 700 + j] == w.value()(id, j));
        expected_grad(id, j) += seed.data()[k * 700 + j];
      }
    }
    test::require_close(w.grad(), expected_grad, 1e-12);
  }
  SECTION("index_select on the middle axis, many outer blocks") {
    auto a = test::param(test::uniform({300, 20, 15}, gen));
    const Indices index = random_indices({25}, 20, gen);
    Variable<double> y = index_select(a, 1, index);
    const Tensor<double> seed = test::uniform(y.shape(), gen);
    y.backward(seed);
    Tensor<double> expected_grad = xt::zeros<double>({300, 20, 15});
    for (std::size_t o = 0; o < 300; ++o)
      for (std::size_t k = 0; k < 25; ++k)
        for (std::size_t i = 0; i < 15; ++i) {
          const auto n = static_cast<std::size_t>(index(k));
          REQUIRE(y.value()(o, k, i) == a.value()(o, n, i));
          expected_grad(o, n, i) += seed(o, k, i);
        }
    test::require_close(a.grad(), expected_grad, 1e-12);
  }
  SECTION("gather along axis 0 of a wide matrix, an index narrower than it") {
    auto a = test::param(test::uniform({40, 300}, gen));
    const Indices index = random_indices({60, 250}, 40, gen);
    Variable<double> y = gather(a, 0, index);
    const Tensor<double> seed = test::uniform(y.shape(), gen);
    y.backward(seed);
    Tensor<double> expected_grad = xt::zeros<double>({40, 300});
    for (std::size_t r = 0; r < 60; ++r)
      for (std::size_t c = 0; c < 250; ++c) {
        const auto n = static_cast<std::size_t>(index(r, c));
        REQUIRE(y.value()(r, c) == a.value()(n, c));
        expected_grad(n, c) += seed(r, c);
      }
    test::require_close(a.grad(), expected_grad, 1e-12);
  }
}

TEST_CASE("index_select, gather and embedding: the graph is released after backward", "[indexing]") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Generator gen(134);
    auto a = test::param(test::uniform({3, 4}, gen)), w = test::param(test::uniform({5, 4}, gen));
    Variable<double> y = index_select(a, 0, Indices{2, 2}) * gather(a, 1, Indices{{1, 0, 3, 3}, {0, 0, 1, 2}}) +
                         embedding(Indices{4, 1}, w);
    auto g = grad<double>({sum(y * y)}, {a, w}, {}, std::nullopt, true);
    sum(g[0] * g[0] + sum(g[1] * g[1])).backward();
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("index_select rejects bad arguments naming the function, the value and the valid range", "[indexing]") {
  Variable<double> a(xt::zeros<double>({3, 4}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  CHECK(err([&] { index_select(a, 0, Indices{0, 3}); }) ==
        "index_select: index 3 at position 1 is out of range for axis 0 of extent 3 of a tensor of shape (3, 4) "
        "(valid: 0 to 2)");
  CHECK(err([&] { index_select(a, -1, Indices{-1}); }) ==
        "index_select: index -1 at position 0 is out of range for axis -1 of extent 4 of a tensor of shape (3, 4) "
        "(valid: 0 to 3)");
  CHECK(err([&] { index_select(a, 1, Indices(std::int64_t(9))); }) ==
        "index_select: index 9 at position 0 is out of range for axis 1 of extent 4 of a tensor of shape (3, 4) "
        "(valid: 0 to 3)");
  CHECK(err([&] { index_select(Variable<double>(xt::zeros<double>({2, 0})), 1, Indices{0}); }) ==
        "index_select: index 0 at position 0 is out of range: axis 1 of extent 0 of a tensor of shape (2, 0) is "
        "empty, no index is valid");
  CHECK(err([&] { index_select(a, 0, Indices{{0, 1}, {1, 2}}); }) ==
        "index_select: index must be 1-D (or 0-D), got shape (2, 2)");
  CHECK_THAT(err([&] { index_select(a, 2, Indices{0}); }), Contains("index_select") && Contains("axis 2") &&
                                                              Contains("(3, 4)"));
  CHECK(err([&] { index_select(Variable<double>(Tensor<double>(1.0)), 0, Indices{0}); }) ==
        "index_select: a 0-d tensor has no axis to select along");
}

TEST_CASE("gather rejects bad arguments naming the function, the shapes, the value and the valid range",
          "[indexing]") {
  Variable<double> a(xt::zeros<double>({3, 4}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  CHECK(err([&] { gather(a, 1, Indices{{0, 1}, {2, 4}}); }) ==
        "gather: index 4 at position (1, 1) is out of range for axis 1 of extent 4 of a tensor of shape (3, 4) "
        "(valid: 0 to 3)");
  CHECK(err([&] { gather(a, 0, Indices{{1, 0}, {-2, 0}}); }) ==
        "gather: index -2 at position (1, 0) is out of range for axis 0 of extent 3 of a tensor of shape (3, 4) "
        "(valid: 0 to 2)");
  CHECK(err([&] { gather(a, 1, Indices{0, 1}); }) ==
        "gather: index of shape (2,) must have as many dimensions as the input of shape (3, 4)");
  CHECK(err([&] { gather(a, 1, Indices::from_shape({4, 1})); }) ==
        "gather: index of shape (4, 1) is larger than the input of shape (3, 4) at dimension 0 (only axis 1 may be "
        "larger)");
  CHECK_THAT(err([&] { gather(a, -3, Indices{{0, 0}}); }), Contains("gather") && Contains("axis -3") &&
                                                           Contains("(3, 4)"));
}

TEST_CASE("embedding rejects bad ids and weights naming the function, the value and the valid range", "[indexing]") {
  Variable<double> w(xt::zeros<double>({10, 4}));
  auto err = [](auto f) { return message_of<std::invalid_argument>(f); };
  CHECK(err([&] { embedding(Indices{{1, 2}, {10, 0}}, w); }) ==
        "embedding: id 10 at position (1, 0) is out of range for 10 embeddings (weight of shape (10, 4)) "
        "(valid: 0 to 9)");
  CHECK(err([&] { embedding(Indices{3, -1}, w); }) ==
        "embedding: id -1 at position 1 is out of range for 10 embeddings (weight of shape (10, 4)) (valid: 0 to 9)");
  CHECK(err([&] { embedding(Indices{0}, Variable<double>(xt::zeros<double>({10, 4, 1}))); }) ==
        "embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape (10, 4, 1)");
  CHECK(err([&] { embedding(Indices{0}, Variable<double>(xt::zeros<double>({0, 4}))); }) ==
        "embedding: id 0 at position 0 is out of range: 0 embeddings (weight of shape (0, 4)) is empty, no index "
        "is valid");
}
