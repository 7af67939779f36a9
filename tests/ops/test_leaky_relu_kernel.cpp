// leaky_relu's vectorised kernels on a tensor large enough to be split over the threads: the
// values, the first-order gradient (scaled in place in the upstream gradient's buffer) and the
// gradient under create_graph agree exactly with the definition x > 0 ? x : x * slope, also for
// -0, +0, NaN and infinities.
#include <cmath>
#include <limits>

#include "test_util.hpp"

using namespace tg;

namespace {

template <class T>
void check_large_leaky_relu() {
  const std::size_t rows = 300, cols = 301;  // 90,300 elements: above the threads' threshold
  Tensor<T> x = Tensor<T>::from_shape({rows, cols});
  Tensor<T> seed = Tensor<T>::from_shape({rows, cols});
  for (std::size_t i = 0; i < x.size(); ++i) {
    x.data()[i] = static_cast<T>((static_cast<double>((i * 7919) % 2003) - 1001.0) / 97.0);
    seed.data()[i] = static_cast<T>(1.0 + static_cast<double>(i % 13) / 8.0);
  }
  const T inf = std::numeric_limits<T>::infinity();
  x.data()[0] = T(0);
  x.data()[1] = -T(0);
  x.data()[2] = std::numeric_limits<T>::quiet_NaN();
  x.data()[3] = inf;
  x.data()[4] = -inf;
  const T slope = T(0.2);

  for (const bool create_graph : {false, true}) {
    Variable<T> input(x, true);
    Variable<T> y = leaky_relu(input, 0.2);
    // the upstream op gives leaky_relu a gradient of its own (the first-order path reuses it)
    Variable<T> loss = sum(y * Variable<T>(seed));
    loss.backward(false, create_graph);
    const Tensor<T>& yv = y.value();
    const Tensor<T>& gv = input.grad();
    std::size_t wrong_values = 0, wrong_gradients = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const T v = x.data()[i];
      const T expected_y = v > T(0) ? v : v * slope;
      const T expected_g = v > T(0) ? seed.data()[i] : seed.data()[i] * slope;
      const T got = yv.data()[i];
      const bool same = std::isnan(v) ? std::isnan(got) : got == expected_y && std::signbit(got) == std::signbit(expected_y);
      wrong_values += !same;
      wrong_gradients += gv.data()[i] != expected_g;
    }
    INFO("create_graph " << create_graph);
    REQUIRE(wrong_values == 0);
    REQUIRE(wrong_gradients == 0);
    CHECK(std::signbit(yv.data()[1]));  // -0 stays -0
    input.zero_grad();  // under create_graph the gradient's graph refers back to input: break the cycle
  }
}

}  // namespace

TEST_CASE("leaky_relu's kernels match the definition on a large tensor, first order and create_graph",
          "[leaky_relu]") {
  check_large_leaky_relu<float>();
  check_large_leaky_relu<double>();
}
