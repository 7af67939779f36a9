#include "test_util.hpp"

#include <array>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

// Naive triple loop, the independent reference for the BLAS-backed products.
template <class T>
Tensor<T> naive_matmul(const Tensor<T>& a, const Tensor<T>& b) {
  const std::size_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  Tensor<T> c = xt::zeros<T>({M, N});
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < K; ++k) s += double(a(i, k)) * double(b(k, j));
      c(i, j) = static_cast<T>(s);
    }
  return c;
}

// Back-propagates a seed of ones: the gradient of the sum of y's elements (reductions live elsewhere).
void backward_ones(Variable<double> y) { y.backward(xt::ones<double>(y.shape())); }

}  // namespace

TEST_CASE("matmul: hand-computed products") {
  Variable<double> a(Tensor<double>{{1, 2}, {3, 4}}), b(Tensor<double>{{5, 6}, {7, 8}});
  test::require_close(matmul(a, b).value(), Tensor<double>{{19, 22}, {43, 50}});
  // (2, 3) x (3, 1): a non-square product, in float.
  Tensor<float> column{2, -1, 4}, expected{-6, 2};
  column.reshape({3, 1});
  expected.reshape({2, 1});
  Variable<float> c(Tensor<float>{{1, 0, -2}, {0.5f, 3, 1}}), d(column);
  test::require_close(matmul(c, d).value(), expected, 1e-6);
}

TEST_CASE("matmul: agrees with a naive loop on odd shapes float and double") {
  Generator gen(11);
  Tensor<double> a = test::uniform({17, 33}, gen), b = test::uniform({33, 9}, gen);
  test::require_close(matmul(Variable<double>(a), Variable<double>(b)).value(), naive_matmul(a, b), 1e-12);
  Tensor<float> af = test::uniform<float>({5, 70}, gen), bf = test::uniform<float>({70, 3}, gen);
  test::require_close(matmul(Variable<float>(af), Variable<float>(bf)).value(), naive_matmul(af, bf), 1e-5);
}

TEST_CASE("matmul: double products split over two threads agree with a naive loop") {
  // Over a million multiply-adds, so split into row blocks (tall) and column blocks (wide); the
  // gradients run the transposed products through the same split.
  Generator gen(47);
  set_num_threads(2);
  for (const auto& [m, k, n] : {std::array<std::size_t, 3>{301, 97, 53}, std::array<std::size_t, 3>{7, 401, 389}}) {
    const auto a = test::param(test::uniform({m, k}, gen)), b = test::param(test::uniform({k, n}, gen));
    Variable<double> c = matmul(a, b);
    test::require_close(c.value(), naive_matmul(a.value(), b.value()), 1e-12);
    const Tensor<double> g = test::uniform({m, n}, gen);
    c.backward(g);
    test::require_close(a.grad(), naive_matmul(g, Tensor<double>(xt::transpose(b.value()))), 1e-12);
    test::require_close(b.grad(), naive_matmul(Tensor<double>(xt::transpose(a.value())), g), 1e-12);
  }
  set_num_threads(0);
}

TEST_CASE("matmul: gradcheck and gradgradcheck on both inputs") {
  Generator gen(12);
  auto a = test::param(test::uniform({3, 4}, gen)), b = test::param(test::uniform({4, 2}, gen));
  test::require_higher_order([](auto& v) { return matmul(v[0], v[1]); }, {a, b});
}

TEST_CASE("matmul: gradients by hand only for the inputs that require them") {
  Variable<double> a(Tensor<double>{{1, 2}, {3, 4}, {5, 6}});  // constant
  auto b = test::param(Tensor<double>{{1, -1}, {2, 0}});
  backward_ones(matmul(a, b));
  CHECK_FALSE(a.has_grad());
  // d sum(A B) / dB = Aᵀ · ones: each row of B gets the column sum of A.
  test::require_close(b.grad(), Tensor<double>{{9, 9}, {12, 12}});
}

TEST_CASE("matmul: rejects mismatched and 0-D inputs naming both shapes") {
  // Other ranks are torch.matmul's (tests/ops/test_matmul_nd.cpp).
  Variable<double> a(xt::zeros<double>({3, 4})), b(xt::zeros<double>({5, 2}));
  CHECK(message_of<std::invalid_argument>([&] { matmul(a, b); }) == "matmul: inner dimensions differ: (3, 4) x (5, 2)");
  Variable<double> s(xt::zeros<double>(Shape{}));
  std::string msg = message_of<std::invalid_argument>([&] { matmul(s, b); });
  CHECK_THAT(msg, Contains("matmul") && Contains("()") && Contains("(5, 2)"));
}

TEST_CASE("linear: hand-computed x·wᵀ + b with and without bias") {
  Variable<double> x(Tensor<double>{{1, 2, 3}, {0, -1, 2}});
  Variable<double> w(Tensor<double>{{1, 0, 1}, {2, 1, 0}}), b(Tensor<double>{0.5, -1});
  // rows: (1+3, 2+2) = (4, 4); (0+2, 0-1) = (2, -1)
  test::require_close(linear(x, w, b).value(), Tensor<double>{{4.5, 3}, {2.5, -2}});
  test::require_close(linear(x, w).value(), Tensor<double>{{4, 4}, {2, -1}});
  Variable<float> xf(Tensor<float>{{1, 2, 3}}), wf(Tensor<float>{{1, 0, 1}, {2, 1, 0}}), bf(Tensor<float>{0.5f, -1});
  test::require_close(linear(xf, wf, bf).value(), Tensor<float>{{4.5f, 3}}, 1e-6);
}

TEST_CASE("linear: leading dimensions are kept like PyTorch's (* in)") {
  Generator gen(13);
  Tensor<double> xv = test::uniform({2, 3, 4}, gen), wv = test::uniform({5, 4}, gen);
  Variable<double> y = linear(Variable<double>(xv), Variable<double>(wv));
  REQUIRE(y.shape() == Shape{2, 3, 5});
  Tensor<double> flat = xt::reshape_view(xv, {6, 4});
  Tensor<double> expected = naive_matmul<double>(flat, xt::transpose(wv));
  expected.reshape({2, 3, 5});
  test::require_close(y.value(), expected, 1e-12);
  Tensor<double> v1 = test::uniform({4}, gen);
  REQUIRE(linear(Variable<double>(v1), Variable<double>(wv)).shape() == Shape{5});
}

TEST_CASE("linear: gradcheck and gradgradcheck with bias without bias and with 3-D and 1-D input") {
  Generator gen(14);
  auto x = test::param(test::uniform({4, 3}, gen)), w = test::param(test::uniform({2, 3}, gen));
  auto b = test::param(test::uniform({2}, gen));
  test::require_higher_order([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b});
  test::require_higher_order([](auto& v) { return linear(v[0], v[1]); }, {x, w});
  auto x3 = test::param(test::uniform({2, 2, 3}, gen));
  test::require_higher_order([](auto& v) { return linear(v[0], v[1], v[2]); }, {x3, w, b});
  auto x1 = test::param(test::uniform({3}, gen));  // a single sample without a batch dimension
  test::require_higher_order([](auto& v) { return linear(v[0], v[1], v[2]); }, {x1, w, b});
}

TEST_CASE("linear: an input that needs no gradient gets none - dW and db by hand") {
  Variable<double> x(Tensor<double>{{1, 2, 3}, {4, 5, 6}});  // data: no grad
  auto w = test::param(Tensor<double>{{1, 0, 1}, {2, 1, 0}}), b = test::param(Tensor<double>{0, 0});
  backward_ones(linear(x, w, b));
  CHECK_FALSE(x.has_grad());
  // dW = dYᵀ·X with dY all ones: every row is the column sums of X; db = batch size.
  test::require_close(w.grad(), Tensor<double>{{5, 7, 9}, {5, 7, 9}});
  test::require_close(b.grad(), Tensor<double>{2, 2});
}

TEST_CASE("linear: the graph is released after backward") {
  const std::size_t before = tape_stats().live_nodes;
  {
    Generator gen(15);
    auto w = test::param(test::uniform({3, 4}, gen));
    Variable<double> x(test::uniform({2, 4}, gen));
    backward_ones(linear(linear(x, w), Variable<double>(test::uniform({2, 3}, gen))));
    CHECK(w.has_grad());
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("linear: rejects bad shapes naming the function and the shapes") {
  Variable<double> x(xt::zeros<double>({4, 3})), w(xt::zeros<double>({5, 4})), w1(xt::zeros<double>({4}));
  std::string msg = message_of<std::invalid_argument>([&] { linear(x, w); });
  CHECK(msg == "linear: input (4, 3) has 3 features but weight (5, 4) expects 4");
  msg = message_of<std::invalid_argument>([&] { linear(x, w1); });
  CHECK_THAT(msg, Contains("linear") && Contains("2-D") && Contains("(4,)"));
  Variable<double> x4(xt::zeros<double>({2, 4})), bad_b(xt::zeros<double>({4}));
  msg = message_of<std::invalid_argument>([&] { linear(x4, w, bad_b); });
  CHECK(msg == "linear: bias has shape (4,) but weight (5, 4) needs (5,)");
  Variable<double> scalar(Tensor<double>(1.0));
  msg = message_of<std::invalid_argument>([&] { linear(scalar, w); });
  CHECK_THAT(msg, Contains("linear") && Contains("0-D") && Contains("(5, 4)"));
}

TEST_CASE("matmul and linear: second derivatives by hand") {
  // f(x) = |x A|^2 / 2 for a row x: H = A A^T. g(x) = |W x + b|^2 / 2 (linear): H = W^T W.
  Generator gen(15);
  const Tensor<double> A = test::uniform({3, 4}, gen), W = test::uniform({4, 3}, gen), b = test::uniform({4}, gen);
  const Tensor<double> x = test::uniform({1, 3}, gen);
  const Tensor<double> H = functional::hessian(
      [&A](const Variable<double>& v) {
        const Variable<double> y = matmul(v, Variable<double>(A));
        return sum(y * y) * 0.5;
      },
      x);
  Tensor<double> AAt = naive_matmul(A, Tensor<double>(xt::transpose(A)));
  AAt.reshape({1, 3, 1, 3});  // x.shape + x.shape
  test::require_close(H, AAt, 1e-12);
  const Tensor<double> x1 = test::uniform({3}, gen);
  const Tensor<double> G = functional::hessian(
      [&W, &b](const Variable<double>& v) {
        const Variable<double> y = linear(v, Variable<double>(W), Variable<double>(b));
        return sum(y * y) * 0.5;
      },
      x1);
  test::require_close(G, naive_matmul(Tensor<double>(xt::transpose(W)), W), 1e-12);
}

TEST_CASE("matmul and linear: third derivatives pass gradcheck and gradgradcheck, for every operand") {
  Generator gen(16);
  auto a = test::param(test::uniform({3, 4}, gen)), b = test::param(test::uniform({4, 2}, gen));
  // gradient_of differentiates with respect to the first input: each operand takes that place once
  test::require_grad_and_gradgrad(test::gradient_of([](const std::vector<Variable<double>>& v) {
    const Variable<double> y = matmul(v[0], v[1]);
    return y * y;
  }), {a, b});
  test::require_grad_and_gradgrad(test::gradient_of([](const std::vector<Variable<double>>& v) {
    return tg::tanh(matmul(v[1], v[0]));
  }), {b, a});
  auto x3 = test::param(test::uniform({2, 2, 3}, gen)), w = test::param(test::uniform({2, 3}, gen));
  auto bias = test::param(test::uniform({2}, gen));
  test::require_grad_and_gradgrad(test::gradient_of([](const std::vector<Variable<double>>& v) {
    return tg::tanh(linear(v[0], v[1], v[2]));
  }), {x3, w, bias});
  test::require_grad_and_gradgrad(test::gradient_of([](const std::vector<Variable<double>>& v) {
    return tg::tanh(linear(v[1], v[0], v[2]));
  }), {w, x3, bias});
  test::require_grad_and_gradgrad(test::gradient_of([](const std::vector<Variable<double>>& v) {
    const Variable<double> y = linear(v[1], v[2], v[0]);
    return y * y * y;
  }), {bias, x3, w});
}
