// scaled_dot_product_attention: values against PyTorch, derivatives to second order, errors.
#include "test_prelude.hpp"

#include <cmath>
#include <limits>

namespace {

// The attention mask of the PyTorch script: pattern((3, 5), 2, 5, 2, 2.0) with two -inf entries.
template <class T = double>
Tensor<T> script_mask() {
  Tensor<T> mask = pattern<T>({3, 5}, 2, 5, 2, 2.0);
  mask(0, 1) = -std::numeric_limits<T>::infinity();
  mask(2, 4) = -std::numeric_limits<T>::infinity();
  return mask;
}

}  // namespace

// Expected values printed by PyTorch 1.13 (Debian's python3-torch), float64. That version has no
// F.scaled_dot_product_attention, so the script spells out its definition:
//   def sdpa(q, k, v, mask=None, causal=False):
//       s = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
//       if causal: s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float('-inf'))
//       if mask is not None: s = s + mask
//       return torch.matmul(torch.softmax(s, -1), v)
//   q = pattern((2,3,4), 7, 11, 5, 4.0); k = pattern((2,5,4), 5, 13, 6, 3.0); v = pattern((2,5,3), 3, 7, 3, 2.0)
//   mask = pattern((3,5), 2, 5, 2, 2.0); mask[0, 1] = float('-inf'); mask[2, 4] = float('-inf')
//   print(sdpa(q, k, v).flatten().tolist()), sdpa(q, k, v, causal=True), sdpa(q, k, v, mask)
//   (broadcast: qb = pattern((2,1,2,4), ...), kb = pattern((3,3,4), ...), vb = pattern((3,3,2), ...), same a, m, c, d)
// with pattern(shape, a, m, c, d) = tensor([((i*a) % m - c) / d for i in range(numel)]).reshape(shape).
TEMPLATE_TEST_CASE("scaled_dot_product_attention: values against PyTorch", "[attention]", float, double) {
  using T = TestType;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  const Variable<T> q(pattern<T>({2, 3, 4}, 7, 11, 5, 4.0)), k(pattern<T>({2, 5, 4}, 5, 13, 6, 3.0)),
      v(pattern<T>({2, 5, 3}, 3, 7, 3, 2.0));
  test::require_close(
      scaled_dot_product_attention(q, k, v).value(),
      values<T>({2, 3, 3}, {-0.28431267326877296, 0.20914646865216752, -0.2810422442292432, -0.1174007934570428,
                            -0.3041134986667833, 0.1423617361423396, -0.6820991577233326, -0.24786733306444525,
                            0.18455211073018674, -0.41555286656837676, 0.024201694373595706, 0.4001591485116314,
                            0.2852841967468588, -0.25003837804345425, -0.14365888335687793, -0.23950102871595066,
                            0.26844429343765436, 0.1595444700036608}),
      tol);
  test::require_close(
      scaled_dot_product_attention(q, k, v, true).value(),
      values<T>({2, 3, 3}, {-1.5, 0.0, 1.5, -1.3296760813561541, 0.17032391864384583, 1.0741902033903854,
                            -0.6284078877776327, -0.4554968687515577, 0.6481087004180068, 0.0, 1.5, -0.5,
                            0.9486642068846839, -0.8716605172117096, 0.44866420688468384, -0.2556222403673405,
                            0.2782427624853766, 0.48491965192130915}),
      tol);
  test::require_close(
      scaled_dot_product_attention(q, k, v, script_mask<T>()).value(),
      values<T>({2, 3, 3}, {0.0128049392135825, -0.6658027199929085, -0.24613937086345425, -0.015254399805306629,
                            -0.5835515195309726, -0.3063237006435002, 0.1445299181103324, -1.0723858007990212,
                            0.13196803599270118, -0.8137173849121389, -0.3203649156550944, 0.9080260084407211,
                            0.3669701465549633, -0.586806343781551, 0.0652421594801672, -0.8134305244727068,
                            0.057591759727818256, 0.8819174162684269}),
      tol);
  const Variable<T> qb(pattern<T>({2, 1, 2, 4}, 7, 11, 5, 4.0)), kb(pattern<T>({3, 3, 4}, 5, 13, 6, 3.0)),
      vb(pattern<T>({3, 3, 2}, 3, 7, 3, 2.0));
  test::require_close(
      scaled_dot_product_attention(qb, kb, vb).value(),
      values<T>({2, 3, 2, 2},
                {0.7935731442219058, -0.4999999999999999, -0.045878087782511845, -0.5189565238862673, 0.0,
                 0.3333333333333333, -0.01388487162426999, 0.3677080816920496, -0.0032919612911368468, 0.0,
                 -1.1638451630249635, -0.0038840006154733722, -0.21231264430682323, -0.4357960561111836,
                 0.1347010682088297, -0.5532369913368108, 0.0067465391391992695, 1.3200704882963734,
                 -0.0415585257750056, 0.4342032781593723, 0.04636405435351909, 0.07136000564883974,
                 -1.2743408948610213, -0.007363487871513051}),
      tol);
}

TEST_CASE("scaled_dot_product_attention: gradcheck and gradgradcheck with and without masks", "[attention]") {
  Generator gen(201);
  auto q = test::param(test::uniform({2, 3, 4}, gen)), k = test::param(test::uniform({2, 4, 4}, gen));
  auto v = test::param(test::uniform({2, 4, 2}, gen));
  const auto plain = [](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); };
  const auto causal = [](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2], true); };
  Tensor<double> mask = test::uniform({3, 4}, gen);
  mask(1, 2) = -std::numeric_limits<double>::infinity();
  const auto masked = [mask](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2], mask); };
  for (const auto& f : {std::function<Variable<double>(const std::vector<Variable<double>>&)>(plain),
                        std::function<Variable<double>(const std::vector<Variable<double>>&)>(causal),
                        std::function<Variable<double>(const std::vector<Variable<double>>&)>(masked)}) {
    test::require_higher_order(f, {q, k, v});
    test::require_gradcheck(test::gradient_function(f), {q, k, v, test::param(test::uniform({2, 3, 2}, gen))});
  }
}

TEST_CASE("scaled_dot_product_attention: broadcast batches, gradcheck and gradgradcheck", "[attention]") {
  Generator gen(202);
  auto q = test::param(test::uniform({2, 1, 2, 3}, gen)), k = test::param(test::uniform({2, 3, 3}, gen));
  auto v = test::param(test::uniform({1, 3, 2}, gen));
  const Tensor<double> mask = test::uniform({2, 1, 1, 3}, gen);  // one mask row per leading batch entry
  test::require_higher_order([mask](auto& x) { return scaled_dot_product_attention(x[0], x[1], x[2], mask); }, {q, k, v});
}

TEST_CASE("scaled_dot_product_attention: equals softmax(q kᵀ / sqrt(E)) v composed by hand", "[attention]") {
  Generator gen(203);
  const Variable<double> q(test::uniform({3, 2, 5}, gen)), k(test::uniform({3, 4, 5}, gen)), v(test::uniform({3, 4, 6}, gen));
  const Variable<double> by_hand = matmul(softmax(matmul(q, permute(k, {0, 2, 1})) / std::sqrt(5.0), -1), v);
  test::require_close(scaled_dot_product_attention(q, k, v).value(), by_hand.value(), 1e-12);
  // A row whose keys are all masked has no weights to normalise: NaN, as in PyTorch.
  Tensor<double> mask = xt::zeros<double>({2, 4});
  for (std::size_t j = 0; j < 4; ++j) mask(1, j) = -std::numeric_limits<double>::infinity();
  const Tensor<double> out = scaled_dot_product_attention(q, k, v, mask).value();
  CHECK(std::isnan(out(0, 1, 0)));
  CHECK_FALSE(std::isnan(out(0, 0, 0)));
}

TEST_CASE("attention_with_weights: dropout on the weights while training, seeded", "[attention]") {
  Generator gen(204);
  const Variable<double> q(test::uniform({2, 4, 3}, gen)), k(test::uniform({2, 5, 3}, gen)), v(test::uniform({2, 5, 2}, gen));
  const auto plain = attention_with_weights<double>(q, k, v, nullptr, false, 0.5, false, gen);
  test::require_close(plain.output.value(), scaled_dot_product_attention(q, k, v).value(), 1e-12);
  test::require_close(Tensor<double>(xt::sum(plain.weights.value(), {2})), Tensor<double>(xt::ones<double>({2, 4})), 1e-12);
  Generator g1(7), g2(7);
  const auto a = attention_with_weights<double>(q, k, v, nullptr, false, 0.5, true, g1);
  const auto b = attention_with_weights<double>(q, k, v, nullptr, false, 0.5, true, g2);
  test::require_close(a.output.value(), b.output.value(), 0);
  // Each kept weight is doubled, each dropped one is 0; the output is those weights times v.
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < a.weights.size(); ++i) {
    const double w = a.weights.value().data()[i], p = plain.weights.value().data()[i];
    if (w == 0) ++dropped;
    else CHECK(w == Approx(2 * p).epsilon(1e-12));
  }
  CHECK(dropped > 0);
  CHECK(dropped < a.weights.size());
  test::require_close(a.output.value(), matmul(a.weights, v).value(), 1e-12);
}

TEST_CASE("scaled_dot_product_attention: errors name the function and the shapes", "[attention]") {
  const auto zeros = [](const Shape& s) { return Variable<double>(xt::zeros<double>(s)); };
  const Tensor<double> mask = xt::zeros<double>({3, 5});
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 3}), mask, true);
        }) == "scaled_dot_product_attention: attn_mask (shape (3, 5)) and is_causal = true cannot be used together");
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 3}), zeros({2, 5, 3}));
        }) == "scaled_dot_product_attention: q and k have different embedding sizes E: q (2, 3, 4), k (2, 5, 3)");
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 6, 3}));
        }) == "scaled_dot_product_attention: k and v have different sequence lengths S: k (2, 5, 4), v (2, 6, 3)");
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({4}), zeros({2, 5, 4}), zeros({2, 5, 3}));
        }) == "scaled_dot_product_attention: q, k and v must be at least 2-D (..., L, E), (..., S, E), (..., S, Ev), "
              "got q (4,), k (2, 5, 4), v (2, 5, 3)");
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({2, 3, 4}), zeros({3, 5, 4}), zeros({2, 5, 3}));
        }) == "scaled_dot_product_attention: the batch dimensions of q (2, 3, 4), k (3, 5, 4) and v (2, 5, 3) do not broadcast");
  CHECK(message_of<std::invalid_argument>([&] {
          scaled_dot_product_attention(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 5, 3}), Tensor<double>(xt::zeros<double>({3, 4})));
        }) == "scaled_dot_product_attention: attn_mask of shape (3, 4) does not broadcast to the scores' shape (2, 3, 5) "
              "(q (2, 3, 4), k (2, 5, 4))");
}
