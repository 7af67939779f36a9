// Kernels that share their work out over threads give the one-thread result to the bit: each output
// is computed by one thread, in the same order, whatever the split. The inputs are large enough
// (over 65,536 elements) to be split.
#include "test_util.hpp"

#include <functional>
#include <string>
#include <vector>

using namespace tg;

namespace {

using V = Variable<float>;

// The value of f and the gradient of <f, seed> for its input, computed on `threads` threads.
std::vector<Tensor<float>> run_on(int threads, const std::function<V(const V&)>& f, const Tensor<float>& input) {
  const int before = get_num_threads();
  set_num_threads(threads);
  V x(input, true);
  V y = f(x);
  Generator gen(5);
  y.backward(test::uniform<float>(y.shape(), gen));
  std::vector<Tensor<float>> out{y.value(), x.grad()};
  set_num_threads(before);
  return out;
}

void require_same_bits_on_one_and_two_threads(const std::string& name, const std::function<V(const V&)>& f,
                                              const Shape& shape) {
  INFO(name);
  Generator gen(17);
  const Tensor<float> input = test::uniform<float>(shape, gen, -3.0, 3.0);
  const auto one = run_on(1, f, input), two = run_on(2, f, input);
  CHECK((one[0] == two[0]));
  CHECK((one[1] == two[1]));
}

}  // namespace

TEST_CASE("softmax, log_softmax, permute and sum give the same bits on one thread and on two") {
  const Shape scores{64, 4, 16, 32};  // attention scores: (batch, heads, queries, keys)
  require_same_bits_on_one_and_two_threads("softmax, last axis", [](const V& x) { return softmax(x, -1); }, scores);
  require_same_bits_on_one_and_two_threads("softmax, middle axis", [](const V& x) { return softmax(x, 2); }, scores);
  require_same_bits_on_one_and_two_threads("log_softmax, last axis", [](const V& x) { return log_softmax(x, -1); },
                                           scores);
  require_same_bits_on_one_and_two_threads("log_softmax, first axis", [](const V& x) { return log_softmax(x, 0); },
                                           scores);
  require_same_bits_on_one_and_two_threads("permute heads", [](const V& x) { return permute(x, {0, 2, 1, 3}); },
                                           scores);
  require_same_bits_on_one_and_two_threads("permute, reversed", [](const V& x) { return permute(x, {3, 2, 1, 0}); },
                                           scores);
  require_same_bits_on_one_and_two_threads("sum over rows", [](const V& x) { return sum(x, Axes{3}); }, scores);
  require_same_bits_on_one_and_two_threads("sum over a middle axis", [](const V& x) { return sum(x, Axes{1}); },
                                           scores);
  require_same_bits_on_one_and_two_threads("sum over the batch", [](const V& x) { return sum(x, Axes{0}); }, scores);
  // Few outputs over many rows (a bias gradient): summed in blocks of rows, the blocks added in order.
  require_same_bits_on_one_and_two_threads("sum over many rows", [](const V& x) { return sum(x, Axes{0}); },
                                           Shape{3000, 40});
}

TEST_CASE("a sum of few columns over many rows, split into blocks of rows, matches a double sum") {
  Generator gen(29);
  const Tensor<float> input = test::uniform<float>({3000, 40}, gen);
  const Tensor<float> out = sum(V(input), Axes{0}).value();
  for (std::size_t j = 0; j < 40; ++j) {
    double expected = 0;
    for (std::size_t i = 0; i < 3000; ++i) expected += input(i, j);
    CHECK(out(j) == Approx(expected).margin(1e-5));
  }
}

TEST_CASE("permute shared out over threads matches the element-by-element definition") {
  const Shape shape{6, 5, 70, 40};  // 84,000 elements: split between two threads
  Generator gen(23);
  const Tensor<float> input = test::uniform<float>(shape, gen);
  const int before = get_num_threads();
  set_num_threads(2);
  const Tensor<float> out = permute(V(input), {2, 0, 3, 1}).value();
  set_num_threads(before);
  REQUIRE(format_shape(out.shape()) == "(70, 6, 40, 5)");
  for (std::size_t a = 0; a < 6; ++a)
    for (std::size_t b = 0; b < 5; ++b)
      for (std::size_t c = 0; c < 70; ++c)
        for (std::size_t d = 0; d < 40; ++d) REQUIRE(out(c, a, d, b) == input(a, b, c, d));
}

TEST_CASE("the fused LSTM cell gives the same bits on one thread and on two") {
  // 64 rows of 4 x 128 gates, as mnist_lstm's steps: the rows are shared out for their exps.
  Generator gen(3);
  const Tensor<float> state = test::uniform<float>({64, 128}, gen);
  require_same_bits_on_one_and_two_threads(
      "lstm_cell_pointwise",
      [&state](const V& gates) {
        auto [h, c] = lstm_cell_pointwise(gates, V(state));
        return concat({h, c}, -1);
      },
      Shape{64, 512});
}
