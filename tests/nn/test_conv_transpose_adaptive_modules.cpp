#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;

TEST_CASE("ConvTranspose2d parameters: weight (in, out/groups, k, k) and bias (out), PyTorch's names") {
  nn::ConvTranspose2d conv(4, 6, 3, 2, 1, 1, 2);
  test::check_named_parameters(conv.named_parameters(), {{"weight", {4, 3, 3, 3}}, {"bias", {6}}});
  nn::ConvTranspose2d<double> no_bias(2, 3, 2, 1, 0, 0, 1, false);
  CHECK(no_bias.named_parameters().size() == 1);
  CHECK_FALSE(no_bias.bias().defined());
  CHECK_THROWS_WITH(nn::ConvTranspose2d(3, 6, 3, 1, 0, 0, 2),
                    "ConvTranspose2d: in_channels 3 and out_channels 6 must both be divisible by groups 2");
}

TEST_CASE("ConvTranspose2d initialises like PyTorch: fan_in from weight.size(1) * k * k") {
  // _ConvNd.reset_parameters: kaiming_uniform(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and the
  // bias the same bound, with fan_in = weight.size(1)·k·k = (out/groups)·9 = 54 here (in·k·k would be 18).
  manual_seed(5);
  nn::ConvTranspose2d conv(2, 6, 3);
  const float bound = 1.0f / std::sqrt(54.0f);
  const float max_weight = xt::amax(xt::abs(conv.weight().value()))();
  const float max_bias = xt::amax(xt::abs(conv.bias().value()))();
  CHECK(max_weight <= bound);
  CHECK(max_weight > 0.9f * bound);  // 108 uniform draws reach most of the range
  CHECK(max_bias <= bound);
  // groups divide the output channels in the fan: (6/3)·9 = 18.
  nn::ConvTranspose2d grouped(3, 6, 3, 1, 0, 0, 3);
  const float grouped_max = xt::amax(xt::abs(grouped.weight().value()))();
  CHECK(grouped_max <= 1.0f / std::sqrt(18.0f));
  CHECK(grouped_max > 0.8f / std::sqrt(18.0f));
}

TEST_CASE("ConvTranspose2d draws from a given Generator when one is passed") {
  Generator g1(9), g2(9);
  nn::ConvTranspose2d a(2, 3, 3, 1, 0, 0, 1, true, 1, g1), b(2, 3, 3, 1, 0, 0, 1, true, 1, g2);
  CHECK((a.weight().value() == b.weight().value()));
  CHECK((a.bias().value() == b.bias().value()));
  nn::ConvTranspose2d c(2, 3, 3, 1, 0, 0, 1, true, 1, g1);  // the generator moved on
  CHECK((a.weight().value() != c.weight().value()));
}

TEST_CASE("ConvTranspose2d and AdaptiveAvgPool2d describe themselves in PyTorch's style") {
  CHECK(nn::ConvTranspose2d(16, 33, 3).describe() == "ConvTranspose2d(16, 33, kernel_size=3)");
  CHECK(nn::ConvTranspose2d(4, 6, 3, 2, 1, 1, 2, false, 3).describe() ==
        "ConvTranspose2d(4, 6, kernel_size=3, stride=2, padding=1, dilation=3, output_padding=1, groups=2, "
        "bias=false)");
  CHECK(nn::AdaptiveAvgPool2d({5, 7}).describe() == "AdaptiveAvgPool2d(output_size=(5, 7))");
  CHECK_THROWS_WITH(nn::AdaptiveAvgPool2d({5}),
                    "AdaptiveAvgPool2d: output_size must be two positive sizes (OH, OW), got (5,)");
}

TEST_CASE("ConvTranspose2d and AdaptiveAvgPool2d forward the functions, summary lists them") {
  manual_seed(1);
  nn::Sequential<double> net(nn::ConvTranspose2d<double>(2, 3, 3, 2, 1, 1), nn::ReLU<double>(),
                             nn::AdaptiveAvgPool2d<double>({2, 3}));
  Generator gen(4);
  Variable<double> x(test::uniform({2, 2, 4, 5}, gen));
  auto& up = static_cast<nn::ConvTranspose2d<double>&>(*net.children()[0].second);
  Variable<double> expected = adaptive_avg_pool2d(relu(conv_transpose2d(x, up.weight(), up.bias(), 2, 1, 1)), {2, 3});
  test::require_close(net(x).value(), expected.value(), 0.0);
  const std::string table = nn::summary(net, {1, 2, 4, 5});
  INFO(table);
  CHECK_THAT(table, Contains("0 (ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1))") &&
                        Contains("(1, 3, 8, 10)") && Contains("57"));  // 2·3·9 + 3
  CHECK_THAT(table, Contains("2 (AdaptiveAvgPool2d(output_size=(2, 3)))") && Contains("(1, 3, 2, 3)"));
  CHECK_THAT(table, Contains("Total params: 57"));
}

TEST_CASE("ConvTranspose2d and AdaptiveAvgPool2d gradcheck and gradgradcheck through the modules") {
  manual_seed(2);
  nn::ConvTranspose2d<double> up(2, 2, 2, 2, 0, 1, 2);
  nn::AdaptiveAvgPool2d<double> pool({2, 3});
  Generator gen(6);
  auto x = test::param(test::uniform({1, 2, 2, 3}, gen));
  test::require_grad_and_gradgrad([&](auto& v) { return pool(tanh(up(v[0]))); }, {x, up.weight(), up.bias()});
}
