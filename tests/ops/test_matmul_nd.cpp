// matmul for every rank like torch.matmul, and bmm.
#include "test_prelude.hpp"

#include <array>

namespace {

// The broadcast batched product by direct loops over (batch, i, j, k), independent of the GEMM
// path: a (..., M, K), b (..., K, N), both at least 2-D.
Tensor<double> naive_batched(const Tensor<double>& a, const Tensor<double>& b) {
  const std::size_t na = a.dimension(), nb = b.dimension(), nd = std::max(na, nb);
  const std::size_t M = a.shape()[na - 2], K = a.shape()[na - 1], N = b.shape()[nb - 1];
  Shape batch(nd - 2);
  for (std::size_t d = 0; d + 2 < nd; ++d) {
    const std::size_t da = d + na >= nd ? a.shape()[d + na - nd] : 1, db = d + nb >= nd ? b.shape()[d + nb - nd] : 1;
    batch[d] = std::max(da, db);
  }
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor<double> y = xt::zeros<double>(out_shape);
  const std::size_t count = element_count(batch);
  for (std::size_t e = 0; e < count; ++e) {
    // The batch index of entry e, and the matching entries of a and b (extent-1 dimensions repeat).
    std::size_t rest = e, a_entry = 0, b_entry = 0, a_scale = 1, b_scale = 1;
    for (std::size_t d = batch.size(); d-- > 0;) {
      const std::size_t idx = rest % batch[d];
      rest /= batch[d];
      if (d + na >= nd) {
        const std::size_t ext = a.shape()[d + na - nd];
        a_entry += (ext == 1 ? 0 : idx) * a_scale;
        a_scale *= ext;
      }
      if (d + nb >= nd) {
        const std::size_t ext = b.shape()[d + nb - nd];
        b_entry += (ext == 1 ? 0 : idx) * b_scale;
        b_scale *= ext;
      }
    }
    for (std::size_t i = 0; i < M; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        double s = 0;
        for (std::size_t k = 0; k < K; ++k) s += a.data()[a_entry * M * K + i * K + k] * b.data()[b_entry * K * N + k * N + j];
        y.data()[e * M * N + i * N + j] = s;
      }
  }
  return y;
}

}  // namespace

// Expected values printed by PyTorch 1.13 (Debian's python3-torch), float64, from the same inputs:
//   a = pattern(sa, 7, 11, 5, 4.0); b = pattern(sb, 5, 13, 6, 3.0)
//   print(torch.matmul(a, b).flatten().tolist())
// with pattern(shape, a, m, c, d) = tensor([((i*a) % m - c) / d for i in range(numel)]).reshape(shape).
TEST_CASE("matmul N-D: values of every rank combination against PyTorch", "[matmul_nd]") {
  struct Case {
    Shape a, b, out;
    std::vector<double> expected;
  };
  const std::vector<Case> cases{
      {{3}, {3}, {}, {1.666666666666667}},
      {{2, 3}, {3}, {2}, {1.666666666666667, -3.5833333333333335}},
      {{3}, {3, 2}, {2}, {3.0, -1.25}},
      {{2, 2, 3}, {3}, {2, 2}, {1.666666666666667, -3.5833333333333335, -3.333333333333333, -3.0833333333333335}},
      {{3}, {2, 3, 2}, {2, 2}, {3.0, -1.25, -0.8333333333333335, -0.75}},
      {{2, 2, 3},
       {3, 2},
       {2, 2, 2},
       {3.0, -1.25, -2.4166666666666665, -2.25, -2.3333333333333335, -2.3333333333333335, -2.25, -2.4166666666666665}},
      {{2, 3}, {2, 3, 2}, {2, 2, 2}, {3.0, -1.25, -2.4166666666666665, -2.25, -0.8333333333333335, -0.75, -2.5, 2.0}},
      {{2, 1, 2, 3},
       {3, 3, 2},
       {2, 3, 2, 2},
       {3.0, -1.25, -2.4166666666666665, -2.25, -0.8333333333333335, -0.75, -2.5, 2.0, -0.33333333333333326, 3.0,
        1.75, -2.4166666666666665, -2.3333333333333335, -2.3333333333333335, -2.25, -2.4166666666666665,
        -2.3333333333333335, 2.0, -2.166666666666667, 2.0, 2.0, -2.3333333333333335, 2.25, -2.25}},
  };
  for (const Case& c : cases) {
    INFO(format_shape(c.a) << " x " << format_shape(c.b));
    const Variable<double> a(pattern(c.a, 7, 11, 5, 4.0)), b(pattern(c.b, 5, 13, 6, 3.0));
    test::require_close(matmul(a, b).value(), values(c.out, c.expected), 1e-12);
    const Variable<float> af(pattern<float>(c.a, 7, 11, 5, 4.0)), bf(pattern<float>(c.b, 5, 13, 6, 3.0));
    test::require_close(matmul(af, bf).value(), Tensor<float>(xt::cast<float>(values(c.out, c.expected))), 1e-5);
  }
}

TEST_CASE("matmul N-D: broadcast batches agree with direct loops", "[matmul_nd]") {
  Generator gen(101);
  const std::vector<std::array<Shape, 2>> shapes{
      {Shape{4, 3, 5}, Shape{4, 5, 2}},       {Shape{1, 3, 5}, Shape{4, 5, 2}},     {Shape{4, 3, 5}, Shape{1, 5, 2}},
      {Shape{2, 1, 3, 5}, Shape{1, 3, 5, 2}}, {Shape{3, 5}, Shape{2, 2, 5, 4}},     {Shape{2, 3, 3, 5}, Shape{3, 5, 1}},
      {Shape{2, 0, 5}, Shape{2, 5, 3}},       {Shape{2, 3, 0}, Shape{2, 0, 4}},
  };
  for (const auto& [sa, sb] : shapes) {
    INFO(format_shape(sa) << " x " << format_shape(sb));
    const Tensor<double> a = test::uniform(sa, gen), b = test::uniform(sb, gen);
    test::require_close(matmul(Variable<double>(a), Variable<double>(b)).value(), naive_batched(a, b), 1e-12);
  }
}

TEST_CASE("matmul N-D: batches split over two threads agree with direct loops, float and double", "[matmul_nd]") {
  // Many small products (run one per thread) and a few large ones (each split by the GEMM helper).
  Generator gen(102);
  set_num_threads(2);
  for (const auto& [sa, sb] : {std::array<Shape, 2>{Shape{64, 9, 17}, Shape{64, 17, 11}},
                               std::array<Shape, 2>{Shape{3, 120, 90}, Shape{1, 90, 100}}}) {
    const auto a = test::param(test::uniform(sa, gen)), b = test::param(test::uniform(sb, gen));
    Variable<double> c = matmul(a, b);
    test::require_close(c.value(), naive_batched(a.value(), b.value()), 1e-12);
    const Tensor<double> g = test::uniform(c.shape(), gen);
    c.backward(g);
    // dA = G · Bᵀ, dB = the sum over the batch of Aᵀ · G (b was broadcast in the second case).
    Tensor<double> bt = xt::transpose(b.value(), {0, 2, 1}), at = xt::transpose(a.value(), {0, 2, 1});
    test::require_close(a.grad(), naive_batched(g, bt), 1e-10);
    Tensor<double> gb = naive_batched(at, g);
    if (sb[0] == 1) gb = xt::sum(gb, {0}, xt::keep_dims | xt::evaluation_strategy::immediate);
    test::require_close(b.grad(), gb, 1e-10);
    const Tensor<float> af = xt::cast<float>(a.value()), bf = xt::cast<float>(b.value());
    test::require_close(matmul(Variable<float>(af), Variable<float>(bf)).value(),
                        Tensor<float>(xt::cast<float>(naive_batched(a.value(), b.value()))), 1e-4);
  }
  set_num_threads(0);
}

TEST_CASE("matmul N-D: small products (computed in place) and larger ones agree with direct loops, all transposes",
          "[matmul_nd]") {
  // Sides up to 32 take the in-place kernel, 33 goes to the GEMM library; 16 and 32 columns are read
  // in place, others through a padded copy. The backward's products transpose one operand or the other.
  Generator gen(105);
  for (const std::array<std::size_t, 3>& mkn : {std::array<std::size_t, 3>{16, 16, 16}, {1, 1, 1}, {7, 5, 3},
                                                {32, 32, 32}, {17, 20, 33}, {33, 16, 16}, {5, 32, 17}}) {
    const auto [M, K, N] = mkn;
    INFO("M " << M << ", K " << K << ", N " << N);
    const auto a = test::param(test::uniform({4, M, K}, gen)), b = test::param(test::uniform({4, K, N}, gen));
    Variable<double> c = matmul(a, b);
    test::require_close(c.value(), naive_batched(a.value(), b.value()), 1e-12);
    const Tensor<double> g = test::uniform(c.shape(), gen);
    c.backward(g);
    Tensor<double> bt = xt::transpose(b.value(), {0, 2, 1}), at = xt::transpose(a.value(), {0, 2, 1});
    test::require_close(a.grad(), naive_batched(g, bt), 1e-12);
    test::require_close(b.grad(), naive_batched(at, g), 1e-12);
    const Tensor<float> af = xt::cast<float>(a.value()), bf = xt::cast<float>(b.value());
    test::require_close(matmul(Variable<float>(af), Variable<float>(bf)).value(),
                        Tensor<float>(xt::cast<float>(naive_batched(a.value(), b.value()))), 1e-5);
  }
}

TEST_CASE("matmul N-D: gradcheck and gradgradcheck for every rank combination", "[matmul_nd]") {
  Generator gen(103);
  const std::vector<std::array<Shape, 2>> shapes{
      {Shape{3}, Shape{3}},          {Shape{2, 3}, Shape{3}},          {Shape{3}, Shape{3, 2}},
      {Shape{2, 2, 3}, Shape{3}},    {Shape{3}, Shape{2, 3, 2}},       {Shape{2, 2, 3}, Shape{3, 2}},
      {Shape{2, 3}, Shape{2, 3, 2}}, {Shape{2, 1, 2, 3}, Shape{3, 3, 2}}, {Shape{2, 2, 3}, Shape{2, 3, 2}},
  };
  for (const auto& [sa, sb] : shapes) {
    INFO(format_shape(sa) << " x " << format_shape(sb));
    auto a = test::param(test::uniform(sa, gen)), b = test::param(test::uniform(sb, gen));
    const auto f = [](auto& v) { return matmul(v[0], v[1]); };
    test::require_higher_order(f, {a, b});
    // The gradients' derivatives with respect to the incoming gradient.
    const Variable<double> y = matmul(a, b);
    test::require_gradcheck(test::gradient_function(f), {a, b, test::param(test::uniform(y.shape(), gen))});
  }
}

TEST_CASE("matmul N-D: gradient of a broadcast operand is summed over the batch", "[matmul_nd]") {
  // W (2, 2) against a stack of two matrices: dW = sum_b G_b · B_bᵀ, by hand with G = ones.
  auto w = test::param(Tensor<double>{{1, 2}, {3, 4}});
  Variable<double> x(values({2, 2, 1}, {1, 2, 3, -1}));
  matmul(w, x).backward(xt::ones<double>({2, 2, 1}));
  // G_b · x_bᵀ = ones(2,1) · (1, 2) + ones(2,1) · (3, -1) = rows (4, 1).
  test::require_close(w.grad(), Tensor<double>{{4, 1}, {4, 1}});
}

TEST_CASE("bmm: values, gradcheck and gradgradcheck", "[matmul_nd]") {
  Generator gen(104);
  const Tensor<double> a = test::uniform({3, 2, 4}, gen), b = test::uniform({3, 4, 5}, gen);
  test::require_close(bmm(Variable<double>(a), Variable<double>(b)).value(), naive_batched(a, b), 1e-12);
  const Tensor<float> af = xt::cast<float>(a), bf = xt::cast<float>(b);
  test::require_close(bmm(Variable<float>(af), Variable<float>(bf)).value(),
                      Tensor<float>(xt::cast<float>(naive_batched(a, b))), 1e-5);
  auto pa = test::param(test::uniform({2, 2, 3}, gen)), pb = test::param(test::uniform({2, 3, 2}, gen));
  test::require_higher_order([](auto& v) { return bmm(v[0], v[1]); }, {pa, pb});
}

TEST_CASE("matmul N-D and bmm: errors name the function and both shapes", "[matmul_nd]") {
  const auto zeros = [](const Shape& s) { return Variable<double>(xt::zeros<double>(s)); };
  CHECK(message_of<std::invalid_argument>([&] { matmul(zeros({2, 3, 4}), zeros({5, 2})); }) ==
        "matmul: inner dimensions differ: (2, 3, 4) x (5, 2)");
  CHECK(message_of<std::invalid_argument>([&] { matmul(zeros({4}), zeros({2, 3, 2})); }) ==
        "matmul: inner dimensions differ: (4,) x (2, 3, 2)");
  CHECK(message_of<std::invalid_argument>([&] { matmul(zeros({2, 3, 4}), zeros({3})); }) ==
        "matmul: inner dimensions differ: (2, 3, 4) x (3,)");
  CHECK(message_of<std::invalid_argument>([&] { matmul(zeros({2, 3, 4}), zeros({3, 4, 2})); }) ==
        "matmul: batch dimensions (2,) and (3,) do not broadcast: (2, 3, 4) x (3, 4, 2)");
  CHECK(message_of<std::invalid_argument>([&] { matmul(zeros({}), zeros({3})); }) ==
        "matmul: both operands need at least one dimension, got () x (3,)");
  CHECK(message_of<std::invalid_argument>([&] { bmm(zeros({3, 4}), zeros({4, 2})); }) ==
        "bmm: expects two 3-D tensors (batch, rows, columns), got (3, 4) x (4, 2)");
  CHECK(message_of<std::invalid_argument>([&] { bmm(zeros({2, 3, 4}), zeros({3, 4, 2})); }) ==
        "bmm: batch sizes differ (2 vs 3): (2, 3, 4) x (3, 4, 2)");
  CHECK(message_of<std::invalid_argument>([&] { bmm(zeros({2, 3, 4}), zeros({2, 5, 2})); }) ==
        "bmm: inner dimensions differ: (2, 3, 4) x (2, 5, 2)");
}
