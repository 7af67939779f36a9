// batch_norm and layer_norm: values against PyTorch, running statistics, first to third derivatives,
// and errors.
#include "test_prelude.hpp"

namespace {

// Reference values from PyTorch 1.13 (float64), with x1 = pattern((2,3,2), 7, 11, 5, 4),
// x2 = pattern((2,3,2), 5, 13, 6, 3), w = [0.5, -1.5, 2], b = [0.1, 0.2, -0.3], rm = zeros(3), rv = ones(3):
//   y1 = F.batch_norm(x1, rm, rv, w, b, True, 0.1, 1e-5); y2 = F.batch_norm(x2, rm, rv, w, b, True, 0.1, 1e-5)
//   ye = F.batch_norm(x1, rm, rv, w, b, False, 0.1, 1e-5)   (rm, rv as left by the two training steps)
const std::vector<double> torch_y1{-0.6848012354231098, 0.3616004118077033, 1.2301980095704912, -1.654356417226884,
                                   2.3832386415249323,  -1.194412880508311, 0.660572311016507,  0.06262851259889954,
                                   2.054356417226884,   -0.8301980095704911, 0.5944128805083108, -2.9832386415249323};
const std::vector<double> torch_y2{-0.6027788431349691, 0.17808653812610772, -2.010858738526817, 1.3580688630378563,
                                   -1.0018599169926403, 1.8055797509779212,  0.02191346187389237, 0.8027788431349692,
                                   1.779184813233441,   -0.32639493774448025, 1.2440918173838091, -3.24781165136909};
const std::vector<double> torch_running_mean{-0.044375000000000005, -0.030416666666666668, 0.030000000000000006};
const std::vector<double> torch_running_var{1.0457581018518518, 1.097337962962963, 1.035462962962963};
const std::vector<double> torch_ye{-0.489473863662073, 0.3661647150076027,  0.8724062669579277,  -1.6334555974815543,
                                   0.13239761984116122, -1.8330461067095716, 0.6106328803417957, 0.12169654967340965,
                                   1.5883667996549227,  -0.9174950647845596, -0.8503242434342051, -2.815767969984938};

template <class T>
void check_batch_norm_against_torch(double tol) {
  Variable<T> x1(pattern<T>({2, 3, 2}, 7, 11, 5, 4)), x2(pattern<T>({2, 3, 2}, 5, 13, 6, 3));
  Variable<T> w(values<T>({3}, {0.5, -1.5, 2.0}), true), b(values<T>({3}, {0.1, 0.2, -0.3}), true);
  Tensor<T> running_mean = xt::zeros<T>({3}), running_var = xt::ones<T>({3});
  test::require_close(batch_norm(x1, &running_mean, &running_var, w, b, true).value(), values<T>({2, 3, 2}, torch_y1), tol);
  test::require_close(batch_norm(x2, &running_mean, &running_var, w, b, true).value(), values<T>({2, 3, 2}, torch_y2), tol);
  test::require_close(running_mean, values<T>({3}, torch_running_mean), tol);
  test::require_close(running_var, values<T>({3}, torch_running_var), tol);
  test::require_close(batch_norm(x1, &running_mean, &running_var, w, b, false).value(), values<T>({2, 3, 2}, torch_ye), tol);
  // Eval leaves the running statistics alone.
  test::require_close(running_mean, values<T>({3}, torch_running_mean), tol);
}

// Per channel of y (N, C, ...): mean 0 and biased variance v / (v + eps), the definition of normalising.
void require_normalised_per_channel(const Tensor<double>& x, const Tensor<double>& y, double eps) {
  const std::size_t C = x.shape()[1], inner = x.size() / (x.shape()[0] * C);
  for (std::size_t c = 0; c < C; ++c) {
    double sx = 0, sxx = 0, sy = 0, syy = 0, n = 0;
    for (std::size_t o = 0; o < x.shape()[0]; ++o)
      for (std::size_t i = 0; i < inner; ++i) {
        const std::size_t k = (o * C + c) * inner + i;
        sx += x.data()[k], sxx += x.data()[k] * x.data()[k], sy += y.data()[k], syy += y.data()[k] * y.data()[k], ++n;
      }
    const double var_x = sxx / n - (sx / n) * (sx / n);
    CHECK(sy / n == Approx(0).margin(1e-12));
    CHECK(syy / n == Approx(var_x / (var_x + eps)).epsilon(1e-10));
  }
}

using Fn = test::DoubleFn;

// Every derivative check: gradcheck, gradgradcheck (also of f * f, so the derivative of the backward
// in its incoming gradient is seen), and gradcheck and gradgradcheck of the gradients as functions
// of the inputs and the output gradient (second and third derivatives).
void require_all_orders(const Fn& f, std::vector<Variable<double>> inputs, Generator& gen) {
  test::require_higher_order(f, inputs);
  const Shape out_shape = f(inputs).shape();
  inputs.push_back(test::param(test::uniform(out_shape, gen)));
  test::require_grad_and_gradgrad(test::gradient_function(f), inputs);
}

}  // namespace

TEST_CASE("batch_norm: training outputs, running statistics after two steps and eval outputs match PyTorch",
          "[normalization]") {
  check_batch_norm_against_torch<double>(1e-12);
  check_batch_norm_against_torch<float>(1e-5);
}

TEST_CASE("batch_norm: batch statistics without running ones, in train and eval, and without affine",
          "[normalization]") {
  Generator gen(3);
  for (const Shape& shape : {Shape{5, 3}, Shape{4, 2, 3}, Shape{2, 3, 2, 3}}) {
    Variable<double> x(test::uniform(shape, gen, -2.0, 3.0));
    const Tensor<double> train = batch_norm(x, nullptr, nullptr, Variable<double>(), Variable<double>(), true).value();
    require_normalised_per_channel(x.value(), train, 1e-5);
    // No running statistics: eval normalises with the batch's statistics too.
    test::require_close(batch_norm(x, nullptr, nullptr, Variable<double>(), Variable<double>(), false).value(), train, 1e-14);
  }
  // A large common offset does not swamp the variance.
  Variable<float> shifted(Tensor<float>(pattern<float>({4, 2}, 3, 7, 3, 2) + 1000.0f));
  const Tensor<float> y = batch_norm(shifted, nullptr, nullptr, Variable<float>(), Variable<float>(), true).value();
  const Tensor<float> y_unshifted =
      batch_norm(Variable<float>(pattern<float>({4, 2}, 3, 7, 3, 2)), nullptr, nullptr, Variable<float>(), Variable<float>(), true).value();
  test::require_close(y, y_unshifted, 1e-3);
}

TEST_CASE("batch_norm: derivatives to third order, training (batch statistics) with and without affine",
          "[normalization][gradcheck]") {
  Generator gen(7);
  for (const Shape& shape : {Shape{4, 2}, Shape{2, 2, 3}, Shape{2, 2, 2, 2}}) {
    INFO("input shape " << format_shape(shape));
    const std::size_t C = shape[1];
    auto x = test::param(test::uniform(shape, gen)), w = test::param(test::uniform({C}, gen, 0.5, 1.5));
    auto b = test::param(test::uniform({C}, gen));
    require_all_orders([](auto& v) { return batch_norm(v[0], nullptr, nullptr, v[1], v[2], true); }, {x, w, b}, gen);
    require_all_orders([](auto& v) { return batch_norm(v[0], nullptr, nullptr, Variable<double>(), Variable<double>(), true); },
                       {x}, gen);
    require_all_orders([](auto& v) { return batch_norm(v[0], nullptr, nullptr, v[1], Variable<double>(), true, 0.1, 1e-3); },
                       {x, w}, gen);
  }
}

TEST_CASE("batch_norm: derivatives to third order in eval (running statistics)", "[normalization][gradcheck]") {
  Generator gen(8);
  for (const Shape& shape : {Shape{3, 2}, Shape{2, 3, 2, 2}}) {
    const std::size_t C = shape[1];
    auto x = test::param(test::uniform(shape, gen)), w = test::param(test::uniform({C}, gen, 0.5, 1.5));
    auto b = test::param(test::uniform({C}, gen));
    Tensor<double> rm = test::uniform({C}, gen), rv = test::uniform({C}, gen, 0.5, 2.0);
    require_all_orders([&](auto& v) { return batch_norm(v[0], &rm, &rv, v[1], v[2], false); }, {x, w, b}, gen);
    require_all_orders([&](auto& v) { return batch_norm(v[0], &rm, &rv, Variable<double>(), Variable<double>(), false); }, {x}, gen);
  }
}

TEST_CASE("batch_norm: the first-order gradients equal those of the same formula written with tapegrad functions",
          "[normalization]") {
  Generator gen(9);
  auto x = test::param(test::uniform({3, 2, 4}, gen)), w = test::param(test::uniform({2}, gen)), b = test::param(test::uniform({2}, gen));
  const Tensor<double> seed = test::uniform({3, 2, 4}, gen);
  batch_norm(x, nullptr, nullptr, w, b, true).backward(seed);
  auto x2 = test::param(x.value()), w2 = test::param(w.value()), b2 = test::param(b.value());
  const Axes axes{0, 2};
  const Variable<double> centred = x2 - mean(x2, axes, true);
  const Variable<double> var = mean(centred * centred, axes, true);
  Variable<double> y = centred / sqrt(var + 1e-5) * reshape(w2, {1, 2, 1}) + reshape(b2, {1, 2, 1});
  y.backward(seed);
  test::require_close(x.grad(), x2.grad(), 1e-12);
  test::require_close(w.grad(), w2.grad(), 1e-12);
  test::require_close(b.grad(), b2.grad(), 1e-12);
}

TEST_CASE("batch_norm: errors name the function and the shapes", "[normalization][errors]") {
  Variable<double> x(xt::zeros<double>({4, 3, 2})), w3(xt::ones<double>({3})), w4(xt::ones<double>({4}));
  Tensor<double> rm3 = xt::zeros<double>({3}), rv3 = xt::ones<double>({3}), rm2 = xt::zeros<double>({2});
  const Variable<double> none;
  std::string m = message_of<std::invalid_argument>([&] { batch_norm(x, nullptr, nullptr, w4, w3, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("weight has shape (4,)") && Contains("(4, 3, 2)") && Contains("3 channels"));
  m = message_of<std::invalid_argument>([&] { batch_norm(x, nullptr, nullptr, w3, w4, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("bias has shape (4,)"));
  m = message_of<std::invalid_argument>([&] { batch_norm(x, &rm2, &rv3, w3, w3, false); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("running_mean has shape (2,)") && Contains("(4, 3, 2)"));
  m = message_of<std::invalid_argument>([&] { batch_norm(x, &rm3, &rm2, none, none, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("running_var has shape (2,)"));
  m = message_of<std::invalid_argument>([&] { batch_norm(x, &rm3, nullptr, none, none, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("both"));
  m = message_of<std::invalid_argument>([&] { batch_norm(Variable<double>(xt::zeros<double>({3})), nullptr, nullptr, none, none, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("at least 2 dimensions") && Contains("(3,)"));
  m = message_of<std::invalid_argument>([&] { batch_norm(Variable<double>(xt::zeros<double>({1, 3})), &rm3, &rv3, none, none, true); });
  CHECK_THAT(m, Contains("batch_norm") && Contains("more than 1 value per channel when training") && Contains("(1, 3)"));
  // The failed call left the running statistics alone; in eval one value per channel is fine.
  test::require_close(rm3, Tensor<double>(xt::zeros<double>({3})), 0.0);
  CHECK_NOTHROW(batch_norm(Variable<double>(xt::zeros<double>({1, 3, 1})), &rm3, &rv3, none, none, false));
}

// PyTorch 1.13 (float64): F.layer_norm(x1, (3, 2), lw, lb, 1e-5) with lw = pattern((3,2), 3, 7, 3, 5),
// lb = pattern((3,2), 2, 5, 2, 7), and F.layer_norm(x2, (2,), None, None, 1e-5).
TEST_CASE("layer_norm: values match PyTorch, float and double", "[normalization]") {
  const std::vector<double> torch_ln{0.5501109957249009,  0.0, -0.012794743371138052, -0.46126677388159487,
                                     0.3020619583693689,  0.03269534531016633, -1.1028901984061399, 0.0,
                                     -0.34986697971271197, -0.3547175646661421, 0.08232559376885737, 0.25906965608028376};
  const std::vector<double> torch_ln2{-0.9999928000777594, 0.9999928000777589, 0.9999971875118652, -0.9999971875118652,
                                      -0.9999928000777591, 0.9999928000777591, -0.999992800077759, 0.9999928000777591,
                                      -0.9999928000777593, 0.9999928000777591, 0.9999971875118653, -0.9999971875118652};
  Variable<double> x1(pattern({2, 3, 2}, 7, 11, 5, 4)), x2(pattern({2, 3, 2}, 5, 13, 6, 3));
  Variable<double> lw(pattern({3, 2}, 3, 7, 3, 5)), lb(pattern({3, 2}, 2, 5, 2, 7));
  test::require_close(layer_norm(x1, {3, 2}, lw, lb).value(), values({2, 3, 2}, torch_ln), 1e-12);
  test::require_close(layer_norm(x2, {2}, Variable<double>(), Variable<double>()).value(), values({2, 3, 2}, torch_ln2), 1e-12);
  Variable<float> f1(pattern<float>({2, 3, 2}, 7, 11, 5, 4));
  Variable<float> fw(pattern<float>({3, 2}, 3, 7, 3, 5)), fb(pattern<float>({3, 2}, 2, 5, 2, 7));
  test::require_close(layer_norm(f1, {3, 2}, fw, fb).value(), values<float>({2, 3, 2}, torch_ln), 1e-5);
}

TEST_CASE("layer_norm: derivatives to third order, with and without affine", "[normalization][gradcheck]") {
  Generator gen(11);
  struct Case { Shape x, normalized; };
  for (const Case& c : {Case{{3, 4}, {4}}, Case{{2, 2, 3}, {2, 3}}, Case{{2, 3}, {2, 3}}}) {
    INFO("input " << format_shape(c.x) << ", normalized_shape " << format_shape(c.normalized));
    const Shape ns = c.normalized;
    auto x = test::param(test::uniform(c.x, gen)), w = test::param(test::uniform(ns, gen, 0.5, 1.5));
    auto b = test::param(test::uniform(ns, gen));
    require_all_orders([ns](auto& v) { return layer_norm(v[0], ns, v[1], v[2]); }, {x, w, b}, gen);
    require_all_orders([ns](auto& v) { return layer_norm(v[0], ns, Variable<double>(), Variable<double>(), 1e-3); }, {x}, gen);
  }
}

TEST_CASE("layer_norm: errors name the function and the shapes", "[normalization][errors]") {
  Variable<double> x(xt::zeros<double>({2, 3, 4})), none;
  std::string m = message_of<std::invalid_argument>([&] { layer_norm(x, {3}, none, none); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("(3,)") && Contains("(2, 3, 4)"));
  m = message_of<std::invalid_argument>([&] { layer_norm(x, {1, 2, 3, 4}, none, none); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("(1, 2, 3, 4)") && Contains("(2, 3, 4)"));
  m = message_of<std::invalid_argument>([&] { layer_norm(x, {}, none, none); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("at least one dimension"));
  m = message_of<std::invalid_argument>([&] { layer_norm(x, {3, 4}, Variable<double>(xt::ones<double>({4})), none); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("weight has shape (4,)") && Contains("(3, 4)"));
  m = message_of<std::invalid_argument>([&] { layer_norm(x, {4}, none, Variable<double>(xt::ones<double>({3}))); });
  CHECK_THAT(m, Contains("layer_norm") && Contains("bias has shape (3,)"));
}

TEST_CASE("batch_norm and layer_norm: the graph is released after backward, also after create_graph",
          "[normalization]") {
  Generator gen(12);
  const std::size_t before = tape_stats().live_nodes;
  {
    auto x = test::param(test::uniform({3, 2, 2}, gen)), w = test::param(test::uniform({2}, gen));
    auto b = test::param(test::uniform({2}, gen)), lw = test::param(test::uniform({2}, gen));
    Variable<double> loss = sum(batch_norm(x, nullptr, nullptr, w, b, true) * layer_norm(x, {2}, lw, b));
    loss.backward();
    CHECK(tape_stats().live_nodes == before);
    Variable<double> y = sum(batch_norm(x, nullptr, nullptr, w, b, true) * layer_norm(x, {2}, lw, b));
    auto g = grad<double>({y}, {x, w}, {}, std::nullopt, true);
    sum(g[0] * g[0] + g[1]).backward();
  }
  CHECK(tape_stats().live_nodes == before);
}

TEST_CASE("batch_norm: a batch spread over threads gives the one-thread result to the bit", "[normalization]") {
  // 64 x 16 x 12 x 12 floats: the sums over the batch are cut into several chunks, shared out.
  Generator gen(61);
  const Tensor<float> xt0 = test::uniform<float>({64, 16, 12, 12}, gen, -2.0, 3.0);
  const Tensor<float> gt0 = test::uniform<float>({64, 16, 12, 12}, gen);
  const Tensor<float> wt0 = test::uniform<float>({16}, gen), bt0 = test::uniform<float>({16}, gen);
  const int threads_before = get_num_threads();
  std::vector<Tensor<float>> results[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Variable<float> x(xt0, true), w(wt0, true), b(bt0, true);
    Tensor<float> running_mean = xt::zeros<float>({16}), running_var = xt::ones<float>({16});
    Variable<float> y = batch_norm(x, &running_mean, &running_var, w, b, true);
    y.backward(gt0);
    results[threads - 1] = {y.value(), running_mean, running_var, x.grad(), w.grad(), b.grad()};
  }
  set_num_threads(threads_before);
  for (std::size_t i = 0; i < results[0].size(); ++i) {
    INFO("result " << i);
    CHECK((results[1][i] == results[0][i]));
  }
}

TEST_CASE("batch_norm in float: statistics of inputs far from zero with a small spread match double's",
          "[normalization]") {
  // Values 1000 + 0.01 u: one channel's runs are summed in float lanes, shifted by the channel's
  // first value, so the spread survives. momentum 1 makes the running statistics the batch's.
  Generator gen(62);
  const Tensor<double> u = test::uniform({8, 3, 20, 20}, gen);
  const Tensor<float> xf = xt::cast<float>(Tensor<double>(1000.0 + 0.01 * u));
  const Tensor<double> xd = xt::cast<double>(xf);  // the same (rounded) values
  Tensor<float> mean_f = xt::zeros<float>({3}), var_f = xt::ones<float>({3});
  Tensor<double> mean_d = xt::zeros<double>({3}), var_d = xt::ones<double>({3});
  batch_norm(Variable<float>(xf), &mean_f, &var_f, Variable<float>(), Variable<float>(), true, 1.0f);
  batch_norm(Variable<double>(xd), &mean_d, &var_d, Variable<double>(), Variable<double>(), true, 1.0);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(mean_f(c) == Approx(mean_d(c)).epsilon(1e-7));
    CHECK(var_f(c) == Approx(var_d(c)).epsilon(1e-5));
    CHECK(var_d(c) == Approx(1e-4 / 3).epsilon(0.1));  // a uniform spread of 0.02: variance 0.02^2 / 12
  }
}
