// GELU, SiLU, Softplus and Identity modules: they forward the functions, describe themselves in
// PyTorch's style and appear in summary.
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;

TEST_CASE("GELU, SiLU, Softplus and Identity describe themselves as PyTorch prints them", "[smooth-activation]") {
  CHECK(nn::GELU().describe() == "GELU(approximate='none')");
  CHECK(nn::SiLU().describe() == "SiLU()");
  CHECK(nn::Softplus().describe() == "Softplus(beta=1, threshold=20)");
  CHECK(nn::Softplus<double>(0.5, 10).describe() == "Softplus(beta=0.5, threshold=10)");
  CHECK(nn::Identity().describe() == "Identity()");
}

TEST_CASE("GELU, SiLU, Softplus and Identity forward the functions, summary lists them", "[smooth-activation]") {
  Generator gen(31);
  Variable<double> x(test::uniform({2, 5}, gen, -3.0, 3.0), true);
  test::require_close(nn::GELU<double>()(x).value(), gelu(x).value(), 0.0);
  test::require_close(nn::SiLU<double>()(x).value(), silu(x).value(), 0.0);
  test::require_close(nn::Softplus<double>()(x).value(), softplus(x).value(), 0.0);
  test::require_close(nn::Softplus<double>(2.0, 1.0)(x).value(), softplus(x, 2.0, 1.0).value(), 0.0);
  nn::Identity<double> identity;
  Variable<double> same = identity(x);
  CHECK(same.impl() == x.impl());  // the input itself, as torch.nn.Identity
  CHECK(identity.parameters().empty());

  nn::Sequential<float> net(nn::Linear<float>(3, 4), nn::GELU<float>(), nn::SiLU<float>(), nn::Softplus<float>(2.0, 5.0),
                            nn::Identity<float>());
  Variable<float> y = net(Variable<float>(xt::ones<float>({2, 3})));
  CHECK(y.shape() == Shape{2, 4});
  sum(y).backward();
  const std::string table = nn::summary(net, {2, 3});
  INFO(table);
  CHECK_THAT(table, Contains("GELU(approximate='none')") && Contains("SiLU()") &&
                        Contains("Softplus(beta=2, threshold=5)") && Contains("Identity()"));
  CHECK_THAT(table, Contains("Total params: 16"));
}
