#include <catch2/catch.hpp>
#include <tapegrad/tapegrad.hpp>

TEST_CASE("record_op square back-propagates") {
  tg::Variable<double> a(tg::Tensor<double>{1.0, 2.0, 3.0}, true);
  tg::Tensor<double> av = a.value();
  auto y = tg::record_op<double>("square", tg::Tensor<double>(av * av), {a}, [av](const tg::Tensor<double>& g) {
    return std::vector<tg::Tensor<double>>{tg::Tensor<double>(2.0 * av * g)};
  });
  y.backward(tg::Tensor<double>{1.0, 1.0, 1.0});
  CHECK(a.grad()(2) == 6.0);
}
