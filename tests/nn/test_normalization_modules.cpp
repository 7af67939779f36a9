// BatchNorm1d, BatchNorm2d and LayerNorm: PyTorch's parameters, buffers and behaviour in train and
// eval, running statistics against PyTorch, checkpoints with buffers, and errors.
#include <filesystem>

#include "test_prelude.hpp"

namespace {

// PyTorch 1.13: m = torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.2).double(); m.train();
// m(pattern((2,2,2,3), 7, 11, 5, 4)); m(pattern((3,2,1,2), 5, 13, 6, 3)); m.eval(); m(pattern((2,2,2,3), 7, 11, 5, 4)).
const std::vector<double> torch_running_mean{-0.03888888888888889, 0.0066666666666666645};
const std::vector<double> torch_running_var{1.1750420875420877, 1.0905050505050506};
const std::vector<double> torch_eval{
    -1.1167926739185048,  0.49692151087199526, -0.42520088043686194, 1.1885133043536382,   0.26639091304478096,
    -0.6557314782640762,  0.9507845907803282,  -0.006381104636109584, -0.9635468000525474,  0.7114931669262188,
    -0.24567252849021903, -1.2028382239066568, 0.49692151087199526, -0.42520088043686194, 1.1885133043536382,
    0.26639091304478096,  -0.6557314782640762, 0.9579827065264239,  -0.006381104636109584, -0.9635468000525474,
    0.7114931669262188,   -0.24567252849021903, -1.2028382239066568, 0.4722017430721093};

template <class T>
void train_two_steps(nn::BatchNorm2d<T>& bn) {
  bn.train();
  bn(Variable<T>(pattern<T>({2, 2, 2, 3}, 7, 11, 5, 4)));
  bn(Variable<T>(pattern<T>({3, 2, 1, 2}, 5, 13, 6, 3)));
}

template <class T>
void check_against_torch(double tol) {
  nn::BatchNorm2d<T> bn(2, 1e-3, 0.2);
  train_two_steps(bn);
  test::require_close(bn.running_mean().value(), values<T>({2}, torch_running_mean), tol);
  test::require_close(bn.running_var().value(), values<T>({2}, torch_running_var), tol);
  CHECK(bn.num_batches_tracked().value()() == T(2));
  bn.eval();
  test::require_close(bn(Variable<T>(pattern<T>({2, 2, 2, 3}, 7, 11, 5, 4))).value(), values<T>({2, 2, 2, 3}, torch_eval), tol);
  CHECK(bn.num_batches_tracked().value()() == T(2));  // eval forwards are not counted
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tapegrad_normalization_" + name)).string();
}

}  // namespace

TEST_CASE("BatchNorm2d: running statistics after two training steps and eval outputs match PyTorch",
          "[normalization]") {
  check_against_torch<double>(1e-12);
  check_against_torch<float>(1e-5);
}

TEST_CASE("BatchNorm: PyTorch's parameter and buffer names, shapes and initial values", "[normalization]") {
  nn::BatchNorm2d bn(3);
  auto params = bn.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[1].first == "bias");
  test::require_close(params[0].second.value(), Tensor<float>(xt::ones<float>({3})), 0.0);
  test::require_close(params[1].second.value(), Tensor<float>(xt::zeros<float>({3})), 0.0);
  auto buffers = bn.named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(buffers[1].first == "running_var");
  CHECK(buffers[2].first == "num_batches_tracked");
  test::require_close(buffers[0].second.value(), Tensor<float>(xt::zeros<float>({3})), 0.0);
  test::require_close(buffers[1].second.value(), Tensor<float>(xt::ones<float>({3})), 0.0);
  CHECK(buffers[2].second.shape() == Shape{});  // PyTorch's 0-d count, kept as a T
  CHECK_FALSE(buffers[0].second.requires_grad());
  CHECK(bn.describe() == "BatchNorm2d(3)");
  CHECK(nn::BatchNorm2d(4, 1e-3, 0.2).describe() == "BatchNorm2d(4, eps=0.001, momentum=0.2)");

  nn::BatchNorm1d<double> plain(4, 1e-5, 0.1, false, false);
  CHECK(plain.named_parameters().empty());
  CHECK(plain.named_buffers().empty());
  CHECK(plain.describe() == "BatchNorm1d(4, affine=false, track_running_stats=false)");
}

TEST_CASE("BatchNorm1d: (N, C) and (N, C, L) inputs, train and eval, batch statistics when not tracking",
          "[normalization]") {
  Generator gen(4);
  for (const Shape& shape : {Shape{6, 3}, Shape{2, 3, 4}}) {
    nn::BatchNorm1d<double> bn(3);
    bn.weight().value() = test::uniform({3}, gen);
    bn.bias().value() = test::uniform({3}, gen);
    Variable<double> x(test::uniform(shape, gen, -1.0, 3.0));
    const Tensor<double> expected_train = batch_norm(x, nullptr, nullptr, bn.weight(), bn.bias(), true).value();
    test::require_close(bn(x).value(), expected_train, 1e-14);
    bn.eval();
    Tensor<double> rm = bn.running_mean().value(), rv = bn.running_var().value();
    test::require_close(bn(x).value(), batch_norm(x, &rm, &rv, bn.weight(), bn.bias(), false).value(), 1e-14);

    nn::BatchNorm1d<double> untracked(3, 1e-5, 0.1, true, false);
    untracked.eval();  // no running statistics: eval uses the batch's, as PyTorch
    test::require_close(untracked(x).value(), batch_norm(x, nullptr, nullptr, untracked.weight(), untracked.bias(), true).value(), 1e-14);
  }
}

TEST_CASE("BatchNorm2d: gradients reach the input, weight and bias in training", "[normalization]") {
  Generator gen(5);
  nn::BatchNorm2d<double> bn(2);
  auto x = test::param(test::uniform({2, 2, 2, 2}, gen));
  auto f = [&bn](const std::vector<Variable<double>>& v) { return bn(v[0]); };
  // The module updates its running statistics on every call; gradcheck only needs the output.
  test::require_gradcheck(f, {x});
  sum(bn(x) * bn(x)).backward();
  CHECK(bn.weight().has_grad());
  CHECK(bn.bias().has_grad());
}

TEST_CASE("BatchNorm2d: running statistics and the batch count survive save and load", "[normalization]") {
  nn::BatchNorm2d<double> trained(2, 1e-3, 0.2);
  train_two_steps(trained);
  const std::string path = temp_path("bn.npz");
  nn::save(trained, path);
  nn::BatchNorm2d<double> fresh(2, 1e-3, 0.2);
  nn::load(fresh, path);
  std::filesystem::remove(path);
  test::require_close(fresh.running_mean().value(), values({2}, torch_running_mean), 1e-15);
  test::require_close(fresh.running_var().value(), values({2}, torch_running_var), 1e-15);
  CHECK(fresh.num_batches_tracked().value()() == 2.0);
  fresh.eval();
  test::require_close(fresh(Variable<double>(pattern({2, 2, 2, 3}, 7, 11, 5, 4))).value(), values({2, 2, 2, 3}, torch_eval), 1e-12);
}

TEST_CASE("BatchNorm: a wrong input rank names the module and the shape", "[normalization][errors]") {
  nn::BatchNorm1d bn1(3);
  nn::BatchNorm2d bn2(3);
  std::string m = message_of<std::invalid_argument>([&] { bn1(Variable<float>(xt::zeros<float>({2, 3, 2, 2}))); });
  CHECK_THAT(m, Contains("BatchNorm1d") && Contains("(2, 3, 2, 2)"));
  m = message_of<std::invalid_argument>([&] { bn2(Variable<float>(xt::zeros<float>({2, 3, 2}))); });
  CHECK_THAT(m, Contains("BatchNorm2d") && Contains("(2, 3, 2)"));
  m = message_of<std::invalid_argument>([&] { bn2(Variable<float>(xt::zeros<float>({2, 4, 2, 2}))); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("(2, 4, 2, 2)"));
  m = message_of<std::invalid_argument>([&] { bn1(Variable<float>(xt::zeros<float>({1, 3}))); });
  CHECK_THAT(m, Contains("more than 1 value per channel when training"));
  CHECK(bn1.num_batches_tracked().value()() == 0.0f);  // failed forwards are not counted
}

TEST_CASE("LayerNorm: parameters, values against PyTorch, errors", "[normalization]") {
  nn::LayerNorm<double> ln(Shape{3, 2});
  auto params = ln.named_parameters();
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "weight");
  CHECK(params[0].second.shape() == Shape{3, 2});
  CHECK(params[1].first == "bias");
  CHECK(ln.describe() == "LayerNorm((3, 2))");
  CHECK(nn::LayerNorm(Shape{8}, 1e-6, false).describe() == "LayerNorm((8,), eps=1e-06, elementwise_affine=false)");
  // PyTorch 1.13: torch.nn.LayerNorm((3, 2)) with weight pattern((3,2), 3, 7, 3, 5) and bias
  // pattern((3,2), 2, 5, 2, 7), applied to pattern((2,3,2), 7, 11, 5, 4).
  ln.weight().value() = pattern({3, 2}, 3, 7, 3, 5);
  ln.bias().value() = pattern({3, 2}, 2, 5, 2, 7);
  const std::vector<double> torch_ln{0.5501109957249009,  0.0, -0.012794743371138052, -0.46126677388159487,
                                     0.3020619583693689,  0.03269534531016633, -1.1028901984061399, 0.0,
                                     -0.34986697971271197, -0.3547175646661421, 0.08232559376885737, 0.25906965608028376};
  test::require_close(ln(Variable<double>(pattern({2, 3, 2}, 7, 11, 5, 4))).value(), values({2, 3, 2}, torch_ln), 1e-12);

  nn::LayerNorm<float> plain(Shape{4}, 1e-6, false);
  CHECK(plain.named_parameters().empty());
  Variable<float> y = plain(Variable<float>(pattern<float>({3, 4}, 3, 7, 3, 2)));
  CHECK(y.shape() == Shape{3, 4});
  const std::string m = message_of<std::invalid_argument>([&] { plain(Variable<float>(xt::zeros<float>({3, 5}))); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("(4,)") && Contains("(3, 5)"));
}
