// gelu, silu, softplus: values against PyTorch, first to third derivatives, extreme inputs.
#include "test_util.hpp"

using namespace tg;
using tg::test::all_finite;

namespace {

using Vars = std::vector<Variable<double>>;

}  // namespace

TEST_CASE("gelu and silu match torch", "[smooth-activation]") {
  Variable<double> x(Tensor<double>{-2.0, -0.5, 0.0, 1.0, 3.0});
  // torch 1.13 (float64): torch.nn.functional.gelu(x) (approximate='none'), torch.nn.functional.silu(x)
  test::require_close(gelu(x).value(),
                      Tensor<double>{-0.04550026389635842, -0.15426876936299344, 0.0, 0.841344746068543, 2.99595030590511},
                      1e-15);
  test::require_close(silu(x).value(),
                      Tensor<double>{-0.2384058440442351, -0.1887703343990727, 0.0, 0.7310585786300049, 2.8577223804672998},
                      1e-15);
}

TEST_CASE("softplus matches torch, linear above the threshold", "[smooth-activation]") {
  Variable<double> x(Tensor<double>{-30.0, -2.0, 0.0, 0.4, 0.6, 3.0, 25.0}, true);
  // torch 1.13 (float64): torch.nn.functional.softplus(x)
  test::require_close(softplus(x).value(),
                      Tensor<double>{9.357622968839737e-14, 0.1269280110429725, 0.6931471805599453, 0.9130152523999526,
                                     1.0374879504858856, 3.048587351573742, 25.0},
                      1e-15);
  // torch.nn.functional.softplus(x, 2.0, 1.0) and its gradient (y.sum().backward()): x = 0.6 is on
  // the linear part (2 * 0.6 > 1), x = 0.4 is not
  Variable<double> y = softplus(x, 2.0, 1.0);
  test::require_close(y.value(),
                      Tensor<double>{4.37825538134826e-27, 0.009074963958904869, 0.34657359027997264, 0.5855503329738889,
                                     0.6, 3.0, 25.0},
                      1e-15);
  sum(y).backward();
  test::require_close(x.grad(),
                      Tensor<double>{8.75651076269652e-27, 0.017986209962091555, 0.5, 0.6899744811276125, 1.0, 1.0, 1.0},
                      1e-15);
}

TEST_CASE("gelu, silu and softplus stay finite at extreme inputs, gradients included", "[smooth-activation]") {
  Variable<double> x(Tensor<double>{-1000.0, -40.0, 40.0, 1000.0}, true);
  for (const auto& f : std::vector<std::function<Variable<double>(const Variable<double>&)>>{
           [](const Variable<double>& v) { return gelu(v); }, [](const Variable<double>& v) { return silu(v); },
           [](const Variable<double>& v) { return softplus(v); }, [](const Variable<double>& v) { return softplus(v, 0.5, 5.0); }}) {
    x.zero_grad();
    Variable<double> y = f(x);
    REQUIRE(all_finite(y.value()));
    sum(y).backward();
    REQUIRE(all_finite(x.grad()));
    CHECK(y.value()(3) == Approx(1000.0));  // identity far right
    CHECK(x.grad()(3) == Approx(1.0));
    CHECK(std::abs(y.value()(0)) < 1e-12);  // zero far left
  }
}

TEST_CASE("gelu, silu and softplus pass gradcheck and gradgradcheck, and their third derivatives", "[smooth-activation]") {
  Generator gen(1311);
  for (const Shape& shape : {Shape{6}, Shape{2, 3}, Shape{}}) {
    INFO("shape " << format_shape(shape));
    auto x = test::param(test::uniform(shape, gen, -3.0, 3.0));
    const std::vector<std::function<Variable<double>(const Vars&)>> fs{
        [](const Vars& v) { return gelu(v[0]); }, [](const Vars& v) { return silu(v[0]); },
        [](const Vars& v) { return softplus(v[0]); }, [](const Vars& v) { return softplus(v[0], 1.5); }};
    for (std::size_t k = 0; k < fs.size(); ++k) {
      INFO("function " << k);
      test::require_higher_order(fs[k], {x});
      test::require_grad_and_gradgrad(test::gradient_of(fs[k]), {x});
    }
  }
}

TEST_CASE("softplus with a low threshold passes the checks on both sides of it", "[smooth-activation]") {
  // beta 2, threshold 1: the switch is at x = 0.5; keep inputs away from it
  auto x = test::param(Tensor<double>{-1.5, -0.3, 0.2, 0.45, 0.56, 0.9, 1.7});
  test::require_higher_order([](const Vars& v) { return softplus(v[0], 2.0, 1.0); }, {x});
  test::require_grad_and_gradgrad(test::gradient_of([](const Vars& v) { return softplus(v[0], 2.0, 1.0); }), {x});
}

TEST_CASE("gelu, silu and softplus work in float and record their names", "[smooth-activation]") {
  Variable<float> x(Tensor<float>{-1.0f, 0.5f, 2.0f}, true);
  CHECK(gelu(x).value()(2) == Approx(1.9544997361036416).epsilon(1e-6));  // torch.nn.functional.gelu(2.0)
  CHECK(silu(x).value()(0) == Approx(-0.2689414213699951).epsilon(1e-6));  // torch.nn.functional.silu(-1.0)
  CHECK(softplus(x, 2.0, 3.0).value()(2) == 2.0f);                         // 2 * 2 > 3: linear
  CHECK(gelu(x).op() == "gelu");
  CHECK(silu(x).op() == "silu");
  CHECK(softplus(x).op() == "softplus");
  sum(gelu(x) + silu(x) + softplus(x)).backward();
  CHECK(x.grad()(2) == Approx(1.0852318 + 1.0907842 + 0.8807971).epsilon(1e-5));
}
