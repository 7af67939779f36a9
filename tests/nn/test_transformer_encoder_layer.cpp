// nn::TransformerEncoderLayer: children and names, derivatives of every variant, masks, errors.
// Its values and gradients against torch.nn.TransformerEncoderLayer are in test_torch_fixtures.cpp.
#include "test_util.hpp"

#include <limits>
#include <map>

#include <xtensor/xview.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

std::vector<Variable<double>> input_and_parameters(const Variable<double>& x, nn::Module<double>& m, Generator& gen) {
  std::vector<Variable<double>> inputs{x};
  for (auto& p : m.parameters()) {
    p.value() = test::uniform(p.shape(), gen);  // non-zero biases, non-unit norms
    inputs.push_back(p);
  }
  return inputs;
}

}  // namespace

TEST_CASE("TransformerEncoderLayer: PyTorch's children, parameter names and shapes", "[transformer]") {
  nn::TransformerEncoderLayer<float> layer(8, 2, 16);
  std::vector<std::string> children;
  for (const auto& [name, module] : layer.named_modules()) {
    if (!name.empty() && name.find('.') == std::string::npos) children.push_back(name);
  }
  CHECK(children == std::vector<std::string>{"self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1",
                                             "dropout2"});
  std::map<std::string, Shape> shapes;
  for (const auto& [name, p] : layer.named_parameters()) shapes[name] = p.shape();
  CHECK(shapes == std::map<std::string, Shape>{{"self_attn.in_proj_weight", {24, 8}},
                                               {"self_attn.in_proj_bias", {24}},
                                               {"self_attn.out_proj.weight", {8, 8}},
                                               {"self_attn.out_proj.bias", {8}},
                                               {"linear1.weight", {16, 8}},
                                               {"linear1.bias", {16}},
                                               {"linear2.weight", {8, 16}},
                                               {"linear2.bias", {8}},
                                               {"norm1.weight", {8}},
                                               {"norm1.bias", {8}},
                                               {"norm2.weight", {8}},
                                               {"norm2.bias", {8}}});
  CHECK_THAT(layer.describe(), Contains("TransformerEncoderLayer") && Contains("d_model=8") && Contains("nhead=2"));
  // 4*8*8 + 4*8 (attention) + 8*16 + 16 + 16*8 + 8 (feed-forward) + 4*8 (two LayerNorms) = 600
  CHECK_THAT(nn::summary(layer, Shape{2, 3, 8}), Contains("TransformerEncoderLayer(d_model=8") && Contains("(2, 3, 8)") &&
                                                     Contains("Total params: 600"));
}

TEST_CASE("TransformerEncoderLayer: gradcheck and gradgradcheck, post-norm and pre-norm, relu and gelu", "[transformer]") {
  for (const bool norm_first : {false, true}) {
    for (const std::string activation : {"relu", "gelu"}) {
      INFO("norm_first " << norm_first << ", " << activation);
      Generator gen(410);
      auto layer = std::make_shared<nn::TransformerEncoderLayer<double>>(4, 2, 6, 0.0, activation, 1e-5, true, norm_first, gen);
      const Variable<double> x = test::param(test::uniform({2, 3, 4}, gen));
      test::require_grad_and_gradgrad([layer](auto& in) { return layer->forward(in[0]); },
                                      input_and_parameters(x, *layer, gen));
    }
  }
}

TEST_CASE("TransformerEncoderLayer: a causal mask and a key padding mask reach the attention", "[transformer]") {
  Generator gen(411);
  nn::TransformerEncoderLayer<double> layer(4, 2, 6, 0.0, "relu", 1e-5, true, false, gen);
  const Variable<double> x(test::uniform({1, 3, 4}, gen));
  // With a causal mask the first position sees only itself: changing the later tokens leaves it alone.
  Tensor<double> causal = xt::zeros<double>({3, 3});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = i + 1; j < 3; ++j) causal(i, j) = -std::numeric_limits<double>::infinity();
  Tensor<double> changed_value = x.value();
  xt::view(changed_value, 0, xt::range(1, 3), xt::all()) += 1.0;
  const Variable<double> a = layer.forward(x, &causal), b = layer.forward(Variable<double>(changed_value), &causal);
  test::require_close(Tensor<double>(xt::view(a.value(), 0, 0, xt::all())), Tensor<double>(xt::view(b.value(), 0, 0, xt::all())), 1e-12);
  const Variable<double> unmasked = layer.forward(Variable<double>(changed_value));
  CHECK(xt::amax(xt::abs(xt::view(unmasked.value(), 0, 0, xt::all()) - xt::view(a.value(), 0, 0, xt::all())))() > 1e-6);
  // Padding the last key: its value no longer matters to any position.
  Mask padding = Mask::from_shape({1, 3});
  std::fill(padding.begin(), padding.end(), false);
  padding(0, 2) = true;
  Tensor<double> last_changed = x.value();
  xt::view(last_changed, 0, 2, xt::all()) += 1.0;
  const Variable<double> p = layer.forward(x, nullptr, &padding), q = layer.forward(Variable<double>(last_changed), nullptr, &padding);
  test::require_close(Tensor<double>(xt::view(p.value(), 0, xt::range(0, 2), xt::all())),
                      Tensor<double>(xt::view(q.value(), 0, xt::range(0, 2), xt::all())), 1e-12);
}

TEST_CASE("TransformerEncoderLayer: errors name the module and the values", "[transformer]") {
  CHECK(message_of<std::invalid_argument>([] { nn::TransformerEncoderLayer<float>(8, 3); }) ==
        "MultiheadAttention: embed_dim 8 is not divisible by num_heads 3");
  CHECK(message_of<std::invalid_argument>([] { nn::TransformerEncoderLayer<float>(8, 2, 16, 0.1, "tanh"); }) ==
        "TransformerEncoderLayer: activation must be \"relu\" or \"gelu\", got \"tanh\"");
  nn::TransformerEncoderLayer<float> layer(8, 2, 16, 0.0, "relu", 1e-5, true);
  const Variable<float> wrong(xt::zeros<float>({2, 3, 5}));
  CHECK_THAT(message_of<std::invalid_argument>([&] { layer.forward(wrong); }), Contains("(2, 3, 5)"));
}
