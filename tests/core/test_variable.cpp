// Variable<T> as a handle, its accessors and their errors; undefined variables; shape formatting,
// axis normalisation and the Generator.
#include "test_util.hpp"

#include <tapegrad/tapegrad.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using tg::test::message_of;

TEST_CASE("a new Variable holds its value and is a leaf without a gradient") {
  Variable<double> x(Tensor<double>{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK(x.defined());
  CHECK(x.shape() == Shape{2, 3});
  CHECK(x.size() == 6);
  CHECK(x.ndim() == 2);
  CHECK(x.value()(1, 2) == 6.0);
  CHECK_FALSE(x.requires_grad());
  CHECK_FALSE(x.has_grad());
  CHECK(x.is_leaf());
  CHECK(x.op().empty());
  CHECK(x.name().empty());

  Variable<float> s(Tensor<float>(2.5f), true);
  CHECK(s.shape().empty());
  CHECK(s.size() == 1);
  CHECK(s.ndim() == 0);
  CHECK(s.item() == 2.5f);
  CHECK(s.requires_grad());
}

TEST_CASE("copies of a Variable share value gradient and flags") {
  Variable<double> a(Tensor<double>{1.0, 2.0}, true);
  Variable<double> b = a;
  b.value()(0) = 10.0;
  CHECK(a.value()(0) == 10.0);
  (b * 3.0).backward(Tensor<double>{1.0, 1.0});
  REQUIRE(a.has_grad());
  CHECK(a.grad()(1) == 3.0);
  b.set_requires_grad(false);
  CHECK_FALSE(a.requires_grad());
  a.set_name("weight");
  CHECK(b.name() == "weight");
  CHECK(Variable<double>::from_impl(a.impl()).name() == "weight");
}

TEST_CASE("item converts one-element variables and names the shape otherwise") {
  CHECK(Variable<double>(Tensor<double>(4.0)).item() == 4.0);
  CHECK(Variable<double>(Tensor<double>(-2.0 * xt::ones<double>({1, 1}))).item() == -2.0);
  std::string msg = message_of<std::invalid_argument>([] { Variable<double>(xt::zeros<double>({2, 3})).item(); });
  CHECK_THAT(msg, Contains("item") && Contains("(2, 3)"));
  msg = message_of<std::invalid_argument>([] { Variable<float>(Tensor<float>{1.0f, 2.0f}).item(); });
  CHECK_THAT(msg, Contains("item") && Contains("(2,)"));
}

TEST_CASE("grad() without a gradient throws naming grad and the shape") {
  Variable<double> x(xt::zeros<double>({4}), true);
  std::string msg = message_of<std::logic_error>([&] { x.grad(); });
  CHECK_THAT(msg, Contains("grad") && Contains("(4,)") && Contains("backward"));
  Variable<double> c(Tensor<double>(1.0));
  msg = message_of<std::logic_error>([&] { c.grad(); });
  CHECK_THAT(msg, Contains("does not require grad"));
}

TEST_CASE("zero_grad drops the gradient like set_to_none") {
  Variable<double> x(Tensor<double>(2.0), true);
  (x * x).backward();
  REQUIRE(x.has_grad());
  x.zero_grad();
  CHECK_FALSE(x.has_grad());
  CHECK_THROWS_AS(x.grad(), std::logic_error);
  x.zero_grad();  // harmless without a gradient
}

TEST_CASE("op() names the op that made a variable and only leaves stop requiring grad") {
  Variable<double> a(Tensor<double>(1.0), true), b(Tensor<double>(2.0), true);
  Variable<double> y = a * b;
  CHECK(y.op() == "mul");
  CHECK_FALSE(y.is_leaf());
  CHECK((a + b).op() == "add");
  CHECK((-a).op() == "neg");
  std::string msg = message_of<std::logic_error>([&] { y.set_requires_grad(false); });
  CHECK_THAT(msg, Contains("set_requires_grad") && Contains("detach"));
  y.backward();  // releases y's node: y is still not a leaf and still cannot stop requiring grad
  CHECK_THROWS_AS(y.set_requires_grad(false), std::logic_error);
  a.set_requires_grad(false);
  CHECK_FALSE(a.requires_grad());
}

TEST_CASE("an op output is never a leaf whatever the op's name") {
  Variable<double> a(Tensor<double>(1.0), true);
  Variable<double> y = record_op<double>("", Tensor<double>(a.value()), {a},
                                         [](const Tensor<double>& g) { return std::vector<Tensor<double>>{g}; });
  CHECK_FALSE(y.is_leaf());
  y.backward();
  CHECK_FALSE(y.is_leaf());
  CHECK(a.is_leaf());
}

TEST_CASE("detach copies the value into a new leaf") {
  Variable<double> x(Tensor<double>{1.0, 2.0}, true);
  Variable<double> y = x * 2.0;
  Variable<double> d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  test::require_close(d.value(), Tensor<double>{2.0, 4.0}, 0.0);
}

TEST_CASE("an undefined Variable throws from its methods instead of crashing") {
  Variable<double> u;
  CHECK_FALSE(u.defined());
  CHECK_FALSE(u.requires_grad());
  CHECK_FALSE(u.has_grad());
  const Variable<double>& cu = u;
  auto undefined = [](auto&& call, const char* function) {
    std::string msg = message_of<std::logic_error>(call);
    CHECK_THAT(msg, Contains(function) && Contains("undefined"));
  };
  undefined([&] { cu.value(); }, "value");
  undefined([&] { u.value(); }, "value");
  undefined([&] { u.grad(); }, "grad");
  undefined([&] { u.shape(); }, "shape");
  undefined([&] { u.size(); }, "size");
  undefined([&] { u.ndim(); }, "ndim");
  undefined([&] { u.item(); }, "item");
  undefined([&] { u.backward(); }, "backward");
  undefined([&] { u.backward(Tensor<double>(1.0)); }, "backward");
  undefined([&] { u.zero_grad(); }, "zero_grad");
  undefined([&] { u.detach(); }, "detach");
  undefined([&] { u.is_leaf(); }, "is_leaf");
  undefined([&] { u.op(); }, "op");
  undefined([&] { u.name(); }, "name");
  undefined([&] { u.set_name("w"); }, "set_name");
  undefined([&] { u.set_requires_grad(true); }, "set_requires_grad");
  Variable<double> x(Tensor<double>(1.0), true);
  CHECK_THROWS_AS(x + u, std::logic_error);
  CHECK_THROWS_AS(u * 2.0, std::logic_error);
}

TEST_CASE("will_record is true only with grad mode on and an input that requires grad") {
  Variable<double> p(Tensor<double>(1.0), true), c(Tensor<double>(1.0)), u;
  CHECK(will_record<double>({c, p}));
  CHECK(will_record<double>({u, p}));
  CHECK_FALSE(will_record<double>({c, u}));
  CHECK_FALSE(will_record<double>({}));
  NoGradGuard guard;
  CHECK_FALSE(will_record<double>({p}));
}

TEST_CASE("format_shape prints shapes like NumPy") {
  CHECK(format_shape(Shape{3, 4}) == "(3, 4)");
  CHECK(format_shape(Shape{4}) == "(4,)");
  CHECK(format_shape(Shape{}) == "()");
  CHECK(format_shape_of(Tensor<float>(xt::zeros<float>({2, 1, 5}))) == "(2, 1, 5)");
  CHECK(format_shape(Axes{-1}) == "(-1,)");
}

TEST_CASE("tg::fail throws invalid_argument prefixed with the function") {
  std::string msg = message_of<std::invalid_argument>([] { fail("myop", "bad shape {}", format_shape(Shape{2})); });
  CHECK(msg == "myop: bad shape (2,)");
}

TEST_CASE("normalize_axis counts negative axes from the end and names out-of-range ones") {
  CHECK(normalize_axis("f", 0, 3) == 0);
  CHECK(normalize_axis("f", 2, 3) == 2);
  CHECK(normalize_axis("f", -1, 3) == 2);
  CHECK(normalize_axis("f", -3, 3) == 0);
  std::string msg = message_of<std::invalid_argument>([] { normalize_axis("softmax", 3, 3); });
  CHECK_THAT(msg, Contains("softmax") && Contains("axis 3") && Contains("-3 to 2"));
  msg = message_of<std::invalid_argument>([] { normalize_axis("sum", -4, 3); });
  CHECK_THAT(msg, Contains("sum") && Contains("-4"));
  msg = message_of<std::invalid_argument>([] { normalize_axis("max", 0, 0); });
  CHECK_THAT(msg, Contains("max") && Contains("axis 0") && Contains("0-dimensional"));
}

TEST_CASE("normalize_axes sorts expands an empty list to every axis and rejects duplicates") {
  CHECK(normalize_axes("f", Axes{}, 3) == std::vector<std::size_t>{0, 1, 2});
  CHECK(normalize_axes("f", Axes{-1, 0}, 3) == std::vector<std::size_t>{0, 2});
  std::string msg = message_of<std::invalid_argument>([] { normalize_axes("mean", Axes{1, -2}, 3); });
  CHECK_THAT(msg, Contains("mean") && Contains("(1, -2)") && Contains("twice"));
  CHECK_THROWS_AS(normalize_axes("mean", Axes{5}, 3), std::invalid_argument);
}

TEST_CASE("a Generator repeats its sequence for the same seed") {
  Generator a(42), b(42), c(43);
  for (int i = 0; i < 5; ++i) {
    const double u = a.uniform(-1, 1);
    CHECK(u == b.uniform(-1, 1));
    CHECK(u >= -1.0);
    CHECK(u < 1.0);
  }
  CHECK(a.next() == b.next());
  CHECK(a.normal() == b.normal());
  CHECK(a.next() != c.next());
}

TEST_CASE("tape_stats counts recorded and live nodes") {
  const TapeStats before = tape_stats();
  {
    Variable<double> x(Tensor<double>(1.0), true);
    Variable<double> y = x * x;
    Variable<double> z = y + 1.0;
    CHECK(tape_stats().live_nodes == before.live_nodes + 2);
    CHECK(tape_stats().recorded_nodes == before.recorded_nodes + 2);
  }
  CHECK(tape_stats().live_nodes == before.live_nodes);
  CHECK(tape_stats().recorded_nodes == before.recorded_nodes + 2);
}

TEST_CASE("the value of a temporary Variable is safe to bind to a const reference") {
  tg::Variable<double> a(tg::Tensor<double>{1.0, 2.0, 3.0}, true);
  const tg::Tensor<double>& doubled = (a * 2.0).value();  // the temporary dies at the semicolon
  std::vector<tg::Variable<double>> churn;                 // reuse freed memory if it were dangling
  for (int i = 0; i < 50; ++i) churn.push_back(a * -7.0);
  CHECK(doubled(0) == 2.0);
  CHECK(doubled(2) == 6.0);
  tg::Variable<double> kept = a * 3.0;
  tg::Tensor<double> copy = std::move(kept).value();  // shared by nobody else: moved out
  CHECK(copy(1) == 6.0);
}
