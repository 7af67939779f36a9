// nn::Embedding: PyTorch's parameter name, shape and N(0, 1) initialisation, lookups by Indices and
// by a Variable's values, gradients into the weight, and the errors of forward(x).
#include <cmath>

#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

TEST_CASE("Embedding: one parameter 'weight' of shape (num_embeddings, embedding_dim)", "[embedding]") {
  nn::Embedding emb(10, 4);
  auto named = emb.named_parameters();
  REQUIRE(named.size() == 1);
  CHECK(named[0].first == "weight");
  CHECK(named[0].second.shape() == Shape{10, 4});
  CHECK(named[0].second.requires_grad());
  CHECK(emb.num_embeddings() == 10);
  CHECK(emb.embedding_dim() == 4);
  CHECK(emb.describe() == "Embedding(10, 4)");
  CHECK(emb.named_buffers().empty());
}

TEST_CASE("Embedding: weight drawn from N(0, 1), from the default generator or a given one", "[embedding]") {
  Generator g1(17), g2(17);
  nn::Embedding<double> a(400, 50, g1), b(400, 50, g2);
  test::require_close(a.weight().value(), b.weight().value(), 0);
  const Tensor<double>& w = a.weight().value();
  const double mean = xt::mean(w)(), stddev = std::sqrt(xt::mean(xt::square(w - mean))());
  CHECK(std::abs(mean) < 0.02);  // 20,000 draws: the mean's standard error is 0.007
  CHECK(std::abs(stddev - 1.0) < 0.02);
  CHECK(xt::amax(xt::abs(w))() > 3.0);  // a normal, not a bounded uniform

  manual_seed(3);
  nn::Embedding<float> c(5, 3);
  manual_seed(3);
  nn::Embedding<float> d(5, 3);
  test::require_close(c.weight().value(), d.weight().value(), 0);
}

TEST_CASE("Embedding: operator()(Indices) gives the weight's rows, shape ids.shape + (dim,)", "[embedding]") {
  Generator gen(18);
  nn::Embedding<double> emb(6, 3, gen);
  const Indices ids{{5, 0, 5}, {2, 1, 3}};
  Variable<double> y = emb(ids);
  CHECK(y.shape() == Shape{2, 3, 3});
  CHECK(y.op() == "embedding");
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 3; ++k) CHECK(y.value()(i, j, k) == emb.weight().value()(std::size_t(ids(i, j)), k));
  test::require_close(y.value(), embedding(ids, emb.weight()).value(), 0);

  // the gradient adds up at repeated ids: row 5 gets two seeds, rows never looked up get none
  sum(y * 2.0).backward();
  Tensor<double> expected = xt::zeros<double>({6, 3});
  for (std::size_t row : {5, 0, 5, 2, 1, 3})
    for (std::size_t k = 0; k < 3; ++k) expected(row, k) += 2.0;
  test::require_close(emb.weight().grad(), expected, 0);
}

TEST_CASE("Embedding: forward(x) reads whole-number values as ids, like operator()(Indices)", "[embedding]") {
  Generator gen(19);
  nn::Embedding<float> emb(10, 4, gen);
  Variable<float> x(Tensor<float>{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 9.0f}});
  Variable<float> by_values = emb(x);  // Module::operator()(const Variable&) -> forward
  Variable<float> by_ids = emb(Indices{{1, 2, 3}, {4, 5, 9}});
  CHECK(by_values.shape() == Shape{2, 3, 4});
  test::require_close(by_values.value(), by_ids.value(), 0);
  test::require_close(emb.forward(x).value(), by_ids.value(), 0);
  CHECK_FALSE(x.has_grad());
}

TEST_CASE("Embedding sits in a Sequential and under summary (zero inputs are id 0)", "[embedding]") {
  Generator gen(20);
  nn::Sequential<double> net{nn::Embedding<double>(7, 5, gen), nn::Flatten<double>(), nn::Linear<double>(15, 2, true, gen)};
  const std::string table = nn::summary(net, Shape{2, 3});
  INFO(table);
  CHECK_THAT(table, Contains("Embedding(7, 5)") && Contains("(2, 3, 5)") && Contains("35"));
  auto named = net.named_parameters();
  CHECK(named[0].first == "0.weight");
  Variable<double> out = net(Variable<double>(Tensor<double>{{6, 0, 2}, {1, 1, 3}}));
  CHECK(out.shape() == Shape{2, 2});
  sum(out).backward();
  CHECK(named[0].second.grad().shape() == Shape{7, 5});
}

TEST_CASE("Embedding: weight gradients pass gradcheck and gradgradcheck through the module", "[embedding]") {
  Generator gen(21);
  nn::Embedding<double> emb(5, 2, gen);
  const Indices ids{{4, 0}, {4, 2}};
  // gradcheck perturbs its inputs' values in place, so the module's own weight is the input here
  test::require_grad_and_gradgrad([&emb, ids](auto&) {
    const Variable<double> rows = emb(ids);
    return sum(rows * rows * rows);
  }, {emb.weight()});
}

TEST_CASE("Embedding: forward(x) refuses values that are not ids, naming the value and the range", "[embedding]") {
  nn::Embedding<double> emb(10, 4);
  auto err = [&](Tensor<double> x) { return message_of<std::invalid_argument>([&] { emb(Variable<double>(x)); }); };
  CHECK(err(Tensor<double>{1.0, 2.5}) ==
        "Embedding: input value 2.5 at flat index 1 is not an id: ids are whole numbers from 0 to 9 (num_embeddings = 10)");
  CHECK(err(Tensor<double>{{0.0, 10.0}}) ==
        "Embedding: input value 10 at flat index 1 is not an id: ids are whole numbers from 0 to 9 (num_embeddings = 10)");
  CHECK(err(Tensor<double>{-1.0}) ==
        "Embedding: input value -1 at flat index 0 is not an id: ids are whole numbers from 0 to 9 (num_embeddings = 10)");
  CHECK_THAT(err(Tensor<double>{std::nan("")}), Contains("Embedding: input value nan at flat index 0"));
  CHECK_THAT(err(Tensor<double>{1e300}), Contains("Embedding: input value 1e+300"));
  // operator()(Indices) refuses through embedding(), which names itself
  CHECK(message_of<std::invalid_argument>([&] { emb(Indices{3, 12}); }) ==
        "embedding: id 12 at position 1 is out of range for 10 embeddings (weight of shape (10, 4)) (valid: 0 to 9)");
}
