// LSTM, GRU, LSTMCell, GRUCell: values against PyTorch, parameters, gradients and errors.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "core/detail/graph.hpp"
#include "recurrent_expected.hpp"
#include "test_util.hpp"

using namespace tg;
using Catch::Matchers::Contains;
namespace ex = recurrent_expected;

namespace {

// The seed-free values tests/nn/fixtures/recurrent_reference.py gives PyTorch's modules.
template <class T = double>
Tensor<T> pattern(const Shape& shape, const std::function<double(double)>& f) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(f(static_cast<double>(i)));
  return t;
}
template <class T = double>
Variable<T> x_of(const Shape& shape) {
  return Variable<T>(pattern<T>(shape, [](double i) { return 0.8 * std::cos(0.37 * i + 0.2); }));
}
template <class T = double>
Variable<T> h_of(const Shape& shape) {
  return Variable<T>(pattern<T>(shape, [](double i) { return 0.5 * std::sin(0.5 * i + 0.3); }));
}
template <class T = double>
Variable<T> c_of(const Shape& shape) {
  return Variable<T>(pattern<T>(shape, [](double i) { return 0.5 * std::cos(0.3 * i + 0.7); }));
}
// Parameter number p (named_parameters() order) element i: 0.4 sin(0.7 i + 1.3 p + 0.1).
template <class T>
void fill(nn::Module<T>& module) {
  double p = 0;
  for (auto& [name, w] : module.named_parameters()) {
    w.value() = pattern<T>(w.shape(), [p](double i) { return 0.4 * std::sin(0.7 * i + 1.3 * p + 0.1); });
    p += 1;
  }
}

template <class T>
void require_values(const Variable<T>& actual, const Shape& shape, const std::vector<double>& expected,
                    double tol) {
  REQUIRE(actual.shape() == shape);
  Tensor<T> want = Tensor<T>::from_shape(shape);
  REQUIRE(want.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) want.data()[i] = static_cast<T>(expected[i]);
  test::require_close(actual.value(), want, tol);
}

std::vector<std::string> names_of(const nn::Module<double>& m) {
  std::vector<std::string> names;
  for (const auto& entry : m.named_parameters()) names.push_back(entry.first);
  return names;
}

}  // namespace

TEST_CASE("LSTM matches PyTorch: one layer from a given state", "[recurrent]") {
  nn::LSTM<double> lstm(3, 3);
  fill(lstm);
  const auto out = lstm.forward_with_state(x_of({4, 2, 3}), {h_of({1, 2, 3}), c_of({1, 2, 3})});
  require_values(out.output, {4, 2, 3}, ex::lstm_out, 1e-12);
  require_values(out.state.h, {1, 2, 3}, ex::lstm_h, 1e-12);
  require_values(out.state.c, {1, 2, 3}, ex::lstm_c, 1e-12);
  test::require_close(lstm(x_of({4, 2, 3})).value(), lstm.forward_with_state(x_of({4, 2, 3})).output.value(), 0.0);

  nn::LSTM<float> single(3, 3);  // the float instantiation, same numbers to float precision
  fill(single);
  const auto out_f = single.forward_with_state(x_of<float>({4, 2, 3}), {h_of<float>({1, 2, 3}), c_of<float>({1, 2, 3})});
  require_values(out_f.output, {4, 2, 3}, ex::lstm_out, 1e-5);
  require_values(out_f.state.c, {1, 2, 3}, ex::lstm_c, 1e-5);
}

TEST_CASE("LSTM matches PyTorch: two bidirectional layers from zeros", "[recurrent]") {
  nn::LSTM<double> lstm(3, 3, 2, true, false, 0, true);
  fill(lstm);
  const auto out = lstm.forward_with_state(x_of({4, 2, 3}));
  require_values(out.output, {4, 2, 6}, ex::lstm_bi_out, 1e-12);
  require_values(out.state.h, {4, 2, 3}, ex::lstm_bi_h, 1e-12);
  require_values(out.state.c, {4, 2, 3}, ex::lstm_bi_c, 1e-12);
  // An input that requires a gradient is cut into steps by halving (rnn.cpp): the same values.
  Variable<double> x = x_of({4, 2, 3});
  x.set_requires_grad(true);
  require_values(lstm(x), {4, 2, 6}, ex::lstm_bi_out, 1e-12);
}

TEST_CASE("LSTM matches PyTorch: two layers, batch_first, no bias, given state", "[recurrent]") {
  nn::LSTM<double> lstm(3, 3, 2, false, true);
  fill(lstm);
  const auto out = lstm.forward_with_state(x_of({2, 4, 3}), {h_of({2, 2, 3}), c_of({2, 2, 3})});
  require_values(out.output, {2, 4, 3}, ex::lstm_bf_out, 1e-12);
  require_values(out.state.h, {2, 2, 3}, ex::lstm_bf_h, 1e-12);
  require_values(out.state.c, {2, 2, 3}, ex::lstm_bf_c, 1e-12);
}

TEST_CASE("LSTM matches PyTorch on an unbatched (L, input_size) sequence", "[recurrent]") {
  nn::LSTM<double> lstm(3, 3, 1, true, false, 0, true);
  fill(lstm);
  const auto out = lstm.forward_with_state(x_of({4, 3}));
  require_values(out.output, {4, 6}, ex::lstm_unbatched_out, 1e-12);
  require_values(out.state.h, {2, 3}, ex::lstm_unbatched_h, 1e-12);
  require_values(out.state.c, {2, 3}, ex::lstm_unbatched_c, 1e-12);
  // The returned state, fed back, is accepted in its unbatched shape.
  CHECK(lstm.forward_with_state(x_of({4, 3}), out.state).output.shape() == Shape{4, 6});
}

TEST_CASE("GRU matches PyTorch: one layer, and two bidirectional batch_first layers", "[recurrent]") {
  nn::GRU<double> gru(3, 3);
  fill(gru);
  const auto out = gru.forward_with_state(x_of({4, 2, 3}), {h_of({1, 2, 3}), {}});
  require_values(out.output, {4, 2, 3}, ex::gru_out, 1e-12);
  require_values(out.state.h, {1, 2, 3}, ex::gru_h, 1e-12);
  CHECK_FALSE(out.state.c.defined());

  nn::GRU<double> deep(3, 3, 2, true, true, 0, true);
  fill(deep);
  const auto deep_out = deep.forward_with_state(x_of({2, 4, 3}), {h_of({4, 2, 3}), {}});
  require_values(deep_out.output, {2, 4, 6}, ex::gru_bi_out, 1e-12);
  require_values(deep_out.state.h, {4, 2, 3}, ex::gru_bi_h, 1e-12);
  Variable<double> x = x_of({2, 4, 3});
  x.set_requires_grad(true);
  require_values(deep.forward_with_state(x, {h_of({4, 2, 3}), {}}).output, {2, 4, 6}, ex::gru_bi_out, 1e-12);

  nn::GRU<float> single(3, 3);
  fill(single);
  require_values(single.forward_with_state(x_of<float>({4, 2, 3}), {h_of<float>({1, 2, 3}), {}}).output, {4, 2, 3},
                 ex::gru_out, 1e-5);
}

TEST_CASE("LSTMCell and GRUCell match PyTorch, from a state and from zeros", "[recurrent]") {
  nn::LSTMCell<double> lstm(3, 3);
  fill(lstm);
  const auto out = lstm.forward_with_state(x_of({2, 3}), {h_of({2, 3}), c_of({2, 3})});
  require_values(out.output, {2, 3}, ex::lstm_cell_h, 1e-12);
  require_values(out.state.h, {2, 3}, ex::lstm_cell_h, 1e-12);
  require_values(out.state.c, {2, 3}, ex::lstm_cell_c, 1e-12);
  const auto zero = lstm.forward_with_state(x_of({2, 3}));
  require_values(zero.state.h, {2, 3}, ex::lstm_cell_zero_h, 1e-12);
  require_values(zero.state.c, {2, 3}, ex::lstm_cell_zero_c, 1e-12);
  require_values(lstm(x_of({2, 3})), {2, 3}, ex::lstm_cell_zero_h, 1e-12);

  nn::GRUCell<double> gru(3, 3);
  fill(gru);
  require_values(gru.forward_with_state(x_of({2, 3}), {h_of({2, 3}), {}}).output, {2, 3}, ex::gru_cell_h, 1e-12);
  require_values(gru(x_of({2, 3})), {2, 3}, ex::gru_cell_zero_h, 1e-12);

  nn::LSTMCell<float> lstm_f(3, 3);
  fill(lstm_f);
  require_values(lstm_f.forward_with_state(x_of<float>({2, 3}), {h_of<float>({2, 3}), c_of<float>({2, 3})}).state.c,
                 {2, 3}, ex::lstm_cell_c, 1e-5);
  // Unbatched: x (input_size,), h and c (H,).
  const std::vector<double> first_row(ex::lstm_cell_h.begin(), ex::lstm_cell_h.begin() + 3);
  const auto one = lstm.forward_with_state(x_of({3}), {h_of({3}), c_of({3})});
  require_values(one.output, {3}, first_row, 1e-12);
  CHECK(one.state.c.shape() == Shape{3});
}

TEST_CASE("LSTM and GRU parameters have PyTorch's names, shapes and initial range", "[recurrent]") {
  nn::LSTM<double> lstm(5, 4, 2, true, false, 0, true);
  CHECK(names_of(lstm) == std::vector<std::string>{
                              "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                              "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                              "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                              "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"});
  const auto named = lstm.named_parameters();
  CHECK(named[0].second.shape() == Shape{16, 5});
  CHECK(named[1].second.shape() == Shape{16, 4});
  CHECK(named[2].second.shape() == Shape{16});
  CHECK(named[8].second.shape() == Shape{16, 8});  // layer 1 reads both directions
  // U(-1/sqrt(H), 1/sqrt(H)) = U(-0.5, 0.5) for every parameter.
  double largest = 0;
  for (const auto& p : lstm.parameters()) largest = std::max(largest, static_cast<double>(xt::amax(xt::abs(p.value()))()));
  CHECK(largest <= 0.5);
  CHECK(largest > 0.45);

  nn::GRU<double> gru(5, 4, 1, false);
  CHECK(names_of(gru) == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"});
  CHECK(gru.parameters()[0].shape() == Shape{12, 5});
  nn::GRUCell<double> cell(5, 4);
  CHECK(names_of(cell) == std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"});
  CHECK(cell.parameters()[1].shape() == Shape{12, 4});
  CHECK(nn::LSTMCell<double>(5, 4, false).parameters().size() == 2);

  Generator g1(3), g2(3);
  nn::LSTM<double> a(5, 4, 1, true, false, 0, false, g1), b(5, 4, 1, true, false, 0, false, g2);
  CHECK((a.parameters()[1].value() == b.parameters()[1].value()));
  nn::GRUCell<float> c1(2, 3, true, g1), c2(2, 3, true, g2);
  CHECK((c1.parameters()[3].value() == c2.parameters()[3].value()));
}

TEST_CASE("Recurrent modules describe themselves like PyTorch's repr, and summary lists them", "[recurrent]") {
  CHECK(nn::LSTM(28, 128, 1, true, true).describe() == "LSTM(28, 128, batch_first=True)");
  CHECK(nn::GRU(10, 20).describe() == "GRU(10, 20)");
  CHECK(nn::LSTM(10, 20, 2, false, true, 0.5, true).describe() ==
        "LSTM(10, 20, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)");
  CHECK(nn::LSTMCell(10, 20).describe() == "LSTMCell(10, 20)");
  CHECK(nn::GRUCell(10, 20, false).describe() == "GRUCell(10, 20, bias=False)");

  nn::LSTM<float> lstm(28, 16, 1, true, true);
  const std::string table = nn::summary(lstm, {2, 28, 28});
  INFO(table);
  CHECK_THAT(table, Contains("LSTM(28, 16, batch_first=True)") && Contains("(2, 28, 16)"));
  CHECK_THAT(table, Contains("Total params: 2,944"));  // 4·16·(28 + 16) + 2·4·16
}

TEST_CASE("LSTM dropout acts between layers while training only", "[recurrent]") {
  Generator gen(11);
  nn::LSTM<double> lstm(3, 4, 2, true, false, 0.5, false, gen);
  const Variable<double> x = x_of({5, 2, 3});
  const Tensor<double> train_a = lstm(x).value(), train_b = lstm(x).value();
  CHECK((train_a != train_b));  // fresh masks
  lstm.eval();
  const Tensor<double> eval_a = lstm(x).value();
  test::require_close(lstm(x).value(), eval_a, 0.0);
  nn::LSTM<double> no_dropout(3, 4, 2);
  for (std::size_t i = 0; i < no_dropout.parameters().size(); ++i) {
    no_dropout.parameters()[i].value() = lstm.parameters()[i].value();
  }
  test::require_close(no_dropout(x).value(), eval_a, 0.0);
  // One layer: nothing to drop between.
  nn::GRU<double> single(3, 4, 1, true, false, 0.5, false, gen);
  test::require_close(single(x).value(), single(x).value(), 0.0);
}

TEST_CASE("LSTM gradcheck and gradgradcheck through input, state and every parameter", "[recurrent]") {
  Generator gen(5);
  nn::LSTM<double> lstm(2, 2, 2, true, false, 0, true, gen);
  std::vector<Variable<double>> inputs{test::param(test::uniform({3, 2, 2}, gen)), test::param(test::uniform({4, 2, 2}, gen)),
                                       test::param(test::uniform({4, 2, 2}, gen))};
  for (const auto& p : lstm.parameters()) inputs.push_back(p);
  auto f = [&](const std::vector<Variable<double>>& v) {
    const auto out = lstm.forward_with_state(v[0], {v[1], v[2]});
    return concat({flatten(out.output, 0), flatten(out.state.h, 0), flatten(out.state.c, 0)}, 0);
  };
  test::require_grad_and_gradgrad(f, inputs);

  nn::LSTM<double> batch_first(2, 2, 1, false, true, 0, false, gen);
  std::vector<Variable<double>> bf_inputs{test::param(test::uniform({2, 3, 2}, gen))};
  for (const auto& p : batch_first.parameters()) bf_inputs.push_back(p);
  test::require_grad_and_gradgrad([&](auto& v) { return batch_first(v[0]); }, bf_inputs);
}

TEST_CASE("GRU gradcheck and gradgradcheck through input, state and every parameter", "[recurrent]") {
  Generator gen(6);
  nn::GRU<double> gru(2, 2, 2, true, true, 0, true, gen);
  std::vector<Variable<double>> inputs{test::param(test::uniform({2, 3, 2}, gen)), test::param(test::uniform({4, 2, 2}, gen))};
  for (const auto& p : gru.parameters()) inputs.push_back(p);
  auto f = [&](const std::vector<Variable<double>>& v) {
    const auto out = gru.forward_with_state(v[0], {v[1], {}});
    return concat({flatten(out.output, 0), flatten(out.state.h, 0)}, 0);
  };
  test::require_grad_and_gradgrad(f, inputs);
}

TEST_CASE("LSTMCell and GRUCell gradcheck and gradgradcheck", "[recurrent]") {
  Generator gen(7);
  nn::LSTMCell<double> lstm(3, 2, true, gen);
  std::vector<Variable<double>> inputs{test::param(test::uniform({2, 3}, gen)), test::param(test::uniform({2, 2}, gen)),
                                       test::param(test::uniform({2, 2}, gen))};
  for (const auto& p : lstm.parameters()) inputs.push_back(p);
  test::require_grad_and_gradgrad([&](auto& v) {
    const auto out = lstm.forward_with_state(v[0], {v[1], v[2]});
    return concat({out.state.h, out.state.c}, 1);
  }, inputs);

  nn::GRUCell<double> gru(3, 2, true, gen);
  std::vector<Variable<double>> gru_inputs{inputs[0], inputs[1]};
  for (const auto& p : gru.parameters()) gru_inputs.push_back(p);
  test::require_grad_and_gradgrad([&](auto& v) { return gru.forward_with_state(v[0], {v[1], {}}).output; }, gru_inputs);
}

TEST_CASE("Recurrent modules reject bad inputs, states and options, naming the module", "[recurrent]") {
  nn::LSTM<double> lstm(3, 4, 2);
  CHECK(test::message_of<std::invalid_argument>([&] { lstm(x_of({2, 3, 4, 3})); }) ==
        "LSTM: input must be 3-D (L, N, input_size) or 2-D unbatched (L, input_size), got shape (2, 3, 4, 3)");
  CHECK(test::message_of<std::invalid_argument>([&] { lstm(x_of({5, 2, 4})); }) ==
        "LSTM: input of shape (5, 2, 4) has 4 features, expected input_size 3");
  CHECK(test::message_of<std::invalid_argument>([&] { lstm.forward_with_state(x_of({5, 2, 3}), {h_of({1, 2, 4}), {}}); }) ==
        "LSTM: hidden state h has shape (1, 2, 4), expected (2, 2, 4) (num_layers * num_directions, N, hidden_size) "
        "for an input of shape (5, 2, 3)");
  CHECK(test::message_of<std::invalid_argument>([&] { lstm.forward_with_state(x_of({5, 2, 3}), {{}, c_of({2, 3, 4})}); }) ==
        "LSTM: cell state c has shape (2, 3, 4), expected (2, 2, 4) (num_layers * num_directions, N, hidden_size) "
        "for an input of shape (5, 2, 3)");
  CHECK(test::message_of<std::invalid_argument>([&] { lstm(x_of({0, 2, 3})); }) ==
        "LSTM: the input sequence is empty (shape (0, 2, 3))");
  nn::GRU<double> gru(3, 4, 1, true, true);
  CHECK(test::message_of<std::invalid_argument>([&] { gru(x_of({3})); }) ==
        "GRU: input must be 3-D (N, L, input_size) or 2-D unbatched (L, input_size), got shape (3,)");
  CHECK(test::message_of<std::invalid_argument>([&] { gru.forward_with_state(x_of({2, 5, 3}), {h_of({1, 2, 4}), c_of({1, 2, 4})}); }) ==
        "GRU: has no cell state, but the state's c is defined (shape (1, 2, 4))");

  nn::LSTMCell<double> cell(3, 4);
  CHECK(test::message_of<std::invalid_argument>([&] { cell(x_of({1, 2, 3})); }) ==
        "LSTMCell: input must be 2-D (N, input_size) or 1-D (input_size), got shape (1, 2, 3)");
  CHECK(test::message_of<std::invalid_argument>([&] { cell(x_of({2, 5})); }) ==
        "LSTMCell: input of shape (2, 5) has 5 features, expected input_size 3");
  CHECK(test::message_of<std::invalid_argument>([&] { cell.forward_with_state(x_of({2, 3}), {h_of({3, 4}), {}}); }) ==
        "LSTMCell: hidden state h has shape (3, 4), expected (2, 4) for an input of shape (2, 3)");
  nn::GRUCell<double> gru_cell(3, 4);
  CHECK(test::message_of<std::invalid_argument>([&] { gru_cell.forward_with_state(x_of({3}), {h_of({2, 4}), {}}); }) ==
        "GRUCell: hidden state h has shape (2, 4), expected (4,) for an input of shape (3,)");

  CHECK(test::message_of<std::invalid_argument>([] { nn::LSTM<double>(3, 0); }) == "LSTM: hidden_size must be positive, got 0");
  CHECK(test::message_of<std::invalid_argument>([] { nn::GRU<double>(3, 2, 0); }) == "GRU: num_layers must be positive, got 0");
  CHECK(test::message_of<std::invalid_argument>([] { nn::GRU<double>(3, 2, 2, true, false, 1.5); }) ==
        "GRU: dropout must be in [0, 1], got 1.5");
  CHECK(test::message_of<std::invalid_argument>([] { nn::GRUCell<double>(3, 0); }) ==
        "GRUCell: hidden_size must be positive, got 0");
}

TEST_CASE("GRU on an unbatched sequence equals the batch of one, and LSTM round-trips through save and load",
          "[recurrent]") {
  nn::GRU<double> gru(3, 3, 2, true, false, 0, true);
  fill(gru);
  const auto one = gru.forward_with_state(x_of({4, 3}), {h_of({4, 3}), {}});
  const auto batch = gru.forward_with_state(x_of({4, 1, 3}), {h_of({4, 1, 3}), {}});
  CHECK(one.output.shape() == Shape{4, 6});
  CHECK(one.state.h.shape() == Shape{4, 3});
  test::require_close(one.output.value(), Tensor<double>(xt::reshape_view(batch.output.value(), {4, 6})), 0.0);
  test::require_close(one.state.h.value(), Tensor<double>(xt::reshape_view(batch.state.h.value(), {4, 3})), 0.0);

  nn::LSTM<double> saved(3, 4, 2, true, true, 0, true), loaded(3, 4, 2, true, true, 0, true);
  const std::string path = (std::filesystem::temp_directory_path() / "tapegrad_recurrent_lstm.npz").string();
  nn::save(saved, path);
  nn::load(loaded, path);
  std::filesystem::remove(path);
  test::require_close(loaded(x_of({2, 5, 3})).value(), saved(x_of({2, 5, 3})).value(), 0.0);
}

TEST_CASE("LSTM and GRU backward reaches every parameter and releases the whole graph", "[recurrent]") {
  Generator gen(12);
  nn::LSTM<float> lstm(3, 4, 2, true, true, 0.3, true, gen);
  nn::GRU<float> gru(8, 2, 1, true, true, 0, false, gen);
  Variable<float> x(test::uniform<float>({2, 6, 3}, gen), true);
  {
    const auto out = lstm.forward_with_state(x);
    sum(gru(out.output) * gru(out.output)).backward();
  }
  for (const auto& [name, p] : lstm.named_parameters()) {
    INFO(name);
    CHECK(p.has_grad());
  }
  for (const auto& p : gru.parameters()) CHECK(p.has_grad());
  CHECK(x.grad().shape() == Shape{2, 6, 3});
  CHECK(tape_stats().live_nodes == 0);
}

// The input projection of each layer and direction is one GEMM over the whole sequence; a step
// adds only its hidden projection (none at the first step of a zero state).
TEST_CASE("LSTM and GRU project each layer's whole input sequence at once", "[recurrent]") {
  Generator gen(13);
  nn::LSTM<float> lstm(3, 4, 2, true, false, 0, true, gen);
  nn::GRU<float> gru(3, 4, 1, true, true, 0, false, gen);
  const std::size_t length = 6, batch = 2;
  Variable<float> x(test::uniform<float>({length, batch, 3}, gen), true);
  Variable<float> x_batch_first(test::uniform<float>({batch, length, 3}, gen), true);
  auto count_ops = [](const Variable<float>& root) {
    std::map<std::string, std::vector<Shape>> shapes;  // op -> the output shape of each node
    std::vector<std::shared_ptr<detail::VariableImpl<float>>> todo{root.impl()};
    std::set<const void*> seen;
    while (!todo.empty()) {
      const auto v = todo.back();
      todo.pop_back();
      if (!seen.insert(v.get()).second || !v->grad_fn) continue;
      const auto& s = detail::value_shape(*v);
      shapes[v->op].push_back(Shape(s.begin(), s.end()));
      for (const auto& input : v->grad_fn->inputs) {
        if (input.defined()) todo.push_back(input.impl());
      }
    }
    return shapes;
  };
  auto lstm_ops = count_ops(lstm(x));
  REQUIRE(lstm_ops["linear"].size() == 4);  // 2 layers x 2 directions
  for (const Shape& s : lstm_ops["linear"]) CHECK(s == Shape{length, batch, 16});
  CHECK(lstm_ops["recurrent_gates"].size() == 4 * (length - 1));
  CHECK(lstm_ops["lstm_cell_output"].size() == 4 * length);
  auto gru_ops = count_ops(gru(x_batch_first));
  REQUIRE(gru_ops["linear"].size() == 1 + length);  // the input's, and each step's hidden projection
  CHECK(std::count(gru_ops["linear"].begin(), gru_ops["linear"].end(), Shape{batch, length, 12}) == 1);
}
