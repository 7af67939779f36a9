// Misuse: what a user can do wrong, each ending in a correct result or a clear exception of the
// right type that names the function. (Concurrent backward passes and models built on several
// threads are in tests/concurrency/.) Under the sanitizer build these also show that nothing
// reads out of bounds before refusing.
#include "test_util.hpp"

#include <limits>

#include <tapegrad/tapegrad.hpp>

using namespace tg;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using tg::test::message_of;

namespace {

template <class F>
std::string logic_error_of(F&& f) {
  std::string message;
  try {
    f();
  } catch (const std::invalid_argument& e) {
    FAIL("threw invalid_argument, expected a plain logic_error: " << e.what());
  } catch (const std::logic_error& e) {
    message = e.what();
  } catch (const std::exception& e) {
    FAIL("threw the wrong exception type: " << e.what());
  }
  if (message.empty()) FAIL("did not throw");
  return message;
}

constexpr std::size_t huge = std::size_t(1) << 63;

}  // namespace

// --- shape arithmetic that would wrap around ---

TEST_CASE("misuse: reshape to a shape whose element count wraps around to the input's size is refused") {
  const Variable<double> x(Tensor<double>{1, 2, 3, 4, 5, 6}, true);
  // (2^63 + 3) * 2 = 6 modulo 2^64: a wrapping product would accept it.
  const std::string message = message_of<std::invalid_argument>([&] { reshape(x, {huge + 3, 2}); });
  CHECK(message == "reshape: shape (9223372036854775811, 2) has more elements than a tensor can hold (the count overflows)");
}

TEST_CASE("misuse: DataLoader over raw arrays refuses sizes whose product wraps around") {
  // 4 x 2^62 x 4 = 2^66 = 0 modulo 2^64: a wrapping product would match the empty image array.
  const std::string message = message_of<std::invalid_argument>([] {
    data::DataLoader<float>(std::vector<std::uint8_t>{}, Labels{0, 1, 0, 1}, std::size_t(1) << 62, 4,
                            data::DataLoaderOptions{});
  });
  CHECK(message ==
        "DataLoader: 4 labels of 4611686018427387904 x 4 images need more bytes than a tensor can hold (the count "
        "4 x 4611686018427387904 x 4 overflows)");
  // One image too large, whatever the number of labels.
  CHECK_THAT(message_of<std::invalid_argument>([] {
               data::DataLoader<float>(std::vector<std::uint8_t>{}, Labels{}, huge, 4, data::DataLoaderOptions{});
             }),
             StartsWith("DataLoader: 0 labels of 9223372036854775808 x 4 images need more bytes"));
}

TEST_CASE("misuse: products of empty operands whose result would be too large are refused") {
  // (2^40, 0) x (0, 2^40) holds nothing, but the product would be (2^40, 2^40), 2^80 elements.
  const std::size_t big = std::size_t(1) << 40;
  const Variable<float> a(Tensor<float>::from_shape({big, 0}), true), b(Tensor<float>::from_shape({0, big}), true);
  CHECK(message_of<std::invalid_argument>([&] { matmul(a, b); }) ==
        "matmul: shape (1099511627776, 1099511627776) has more elements than a tensor can hold (the count overflows)");
  const Variable<float> w(Tensor<float>::from_shape({big, 0}), true);
  CHECK(message_of<std::invalid_argument>([&] { linear(a, w, Variable<float>()); }) ==
        "linear: shape (1099511627776, 1099511627776) has more elements than a tensor can hold (the count overflows)");
}

TEST_CASE("misuse: concat, expand and flatten refuse sizes that overflow") {
  // The inputs are empty, and their shapes keep every stride xtensor computes within ptrdiff_t;
  // only what the op would make from them overflows.
  const std::size_t quarter = std::size_t(1) << 62;
  const Variable<float> a(Tensor<float>::from_shape({quarter, 0}), true);
  CHECK(message_of<std::invalid_argument>([&] { concat({a, a, a, a}, 0); }) ==
        "concat: size 13835058055282163712 + 4611686018427387904 overflows");
  const Variable<float> one(Tensor<float>{1.0f}, true);
  CHECK(message_of<std::invalid_argument>([&] { expand(one, {huge, 4}); }) ==
        "expand: shape (9223372036854775808, 4) has more elements than a tensor can hold (the count overflows)");
  // 2 x 2^61 elements fit xtensor's strides but not tapegrad's limit (bytes of 8-byte elements in ptrdiff_t).
  const Variable<float> empty(Tensor<float>::from_shape({0, 2, quarter / 2}), true);
  CHECK(message_of<std::invalid_argument>([&] { flatten(empty, 1); }) ==
        "flatten: shape (2, 2305843009213693952) has more elements than a tensor can hold (the count overflows)");
}

TEST_CASE("misuse: a module whose parameter would be too large is refused") {
  CHECK_THAT(message_of<std::invalid_argument>([] { nn::Linear<float>(huge, 4); }),
             StartsWith("init::uniform: shape (4, 9223372036854775808) has more elements"));
}

// --- values replaced or edited after an op recorded them ---

TEST_CASE("misuse: linear's recorded input replaced by one of another shape is refused before any kernel reads it") {
  Variable<float> x(Tensor<float>::from_shape({4, 3}), true);
  x.value().fill(1);
  Variable<float> w(Tensor<float>::from_shape({2, 3}), true), b(Tensor<float>{0.5f, 0.5f}, true);
  w.value().fill(1);
  SECTION("the input, smaller: a kernel sized by the recorded shape would read past its end") {
    Variable<float> loss = sum(linear(x, w, b));
    x.value() = Tensor<float>::from_shape({1, 3});
    CHECK(logic_error_of([&] { loss.backward(); }) ==
          "backward: input 0 of 'linear' had shape (4, 3) when the op was recorded and now has shape (1, 3): its value "
          "was replaced through the non-const Variable::value() after the op used it; compute the output again from "
          "the new value");
  }
  SECTION("the weight") {
    Variable<float> loss = sum(linear(x, w, b));
    w.value() = Tensor<float>::from_shape({2, 1});
    CHECK_THAT(logic_error_of([&] { loss.backward(); }),
               StartsWith("backward: input 1 of 'linear' had shape (2, 3) when the op was recorded and now has shape (2, 1)"));
  }
  SECTION("the bias, which linear's backward does not read") {
    Variable<float> loss = sum(linear(x, w, b));
    b.value() = Tensor<float>{1, 2, 3};
    CHECK_THAT(logic_error_of([&] { loss.backward(); }),
               StartsWith("backward: input 2 of 'linear' had shape (2,) when the op was recorded and now has shape (3,)"));
  }
  CHECK(!w.has_grad());  // refused before anything accumulated
  CHECK(!x.has_grad());
}

TEST_CASE("misuse: matmul's and conv2d's recorded inputs replaced by ones of another shape are refused") {
  Variable<double> a(Tensor<double>::from_shape({3, 4}), true), m(Tensor<double>::from_shape({4, 5}), true);
  a.value().fill(1);
  m.value().fill(1);
  Variable<double> loss = sum(matmul(a, m));
  m.value() = Tensor<double>::from_shape({4, 1});
  CHECK_THAT(logic_error_of([&] { loss.backward(); }),
             StartsWith("backward: input 1 of 'matmul' had shape (4, 5) when the op was recorded and now has shape (4, 1)"));

  Variable<double> x(Tensor<double>::from_shape({2, 1, 5, 5}), true), w(Tensor<double>::from_shape({3, 1, 3, 3}), true);
  x.value().fill(1);
  w.value().fill(1);
  Variable<double> y = sum(conv2d(x, w, Variable<double>()));
  x.value() = Tensor<double>::from_shape({1, 1, 2, 2});
  CHECK_THAT(logic_error_of([&] { y.backward(); }),
             StartsWith("backward: input 0 of 'conv2d' had shape (2, 1, 5, 5) when the op was recorded and now has shape (1, 1, 2, 2)"));
  CHECK(!w.has_grad());
}

TEST_CASE("misuse: an output replaced by one of another shape is refused before its backward runs") {
  Variable<double> x(Tensor<double>{1, 2, 3, 4, 5}, true);
  Variable<double> y = slice(x, 0, 0, 5);
  y.value() = Tensor<double>{1};  // slice's backward would write 5 values from this 1
  CHECK(logic_error_of([&] { y.backward(Tensor<double>{1}); }) ==
        "backward: the output of 'slice' had shape (5,) when the op was recorded and now has shape (1,): its value "
        "was replaced through the non-const Variable::value() after the op used it; compute the output again from "
        "the new value");
}

TEST_CASE("misuse: an in-place edit after recording makes backward throw naming the op and both versions") {
  Variable<double> x(Tensor<double>{1, 2, 3}, true);
  Variable<double> y = sum(x * x);
  x.value()(0) = 10;
  CHECK(logic_error_of([&] { y.backward(); }) ==
        "backward: one of the variables needed for gradient computation has been modified by an in-place operation: "
        "input 0 of 'mul' (shape (3,)) was at version 0 when 'mul' recorded it and is now at version 1 (written by an "
        "optimiser step or through the non-const Variable::value(), which counts as a write: read through a const "
        "reference such as std::as_const(v).value()); compute it again, or edit a copy (detach())");
  CHECK(!x.has_grad());
  // Computed again from the edited value, it is right: d/dx sum(x^2) = 2x.
  sum(x * x).backward();
  test::require_close(x.grad(), Tensor<double>{20, 4, 6});
}

TEST_CASE("misuse: an optimiser step between two backward calls of a retained graph makes the second throw") {
  nn::Linear<double> fc(3, 2);
  const Variable<double> x(Tensor<double>{{1, 2, 3}});
  Variable<double> loss = sum(fc(x));
  optim::SGD<double> sgd(fc.parameters(), optim::SGDOptions{0.1});
  loss.backward(/*retain_graph=*/true);
  sgd.step();
  CHECK_THAT(logic_error_of([&] { loss.backward(); }),
             StartsWith("backward: one of the variables needed for gradient computation has been modified by an "
                        "in-place operation: input 1 of 'linear' (shape (2, 3)) was at version 0 when 'linear' "
                        "recorded it and is now at version 1 (written by an optimiser step"));
}

TEST_CASE("misuse: a leaf that grew after an earlier backward gets a clear error, then works after zero_grad") {
  Variable<double> x(Tensor<double>{1, 2}, true);
  sum(x * x).backward();
  x.value() = Tensor<double>{1, 2, 3};
  CHECK(logic_error_of([&] { sum(x * x).backward(); }) ==
        "backward: cannot accumulate a gradient of shape (3,) into the gradient of shape (2,) that this leaf (now of "
        "shape (3,)) kept from an earlier backward: its value was replaced by one of another shape since; call "
        "zero_grad() after such a replacement");
  x.zero_grad();
  sum(x * x).backward();
  test::require_close(x.grad(), Tensor<double>{2, 4, 6});
}

TEST_CASE("misuse: a leaf that grew after an elementwise op recorded it is refused, saved or not") {
  Variable<double> x(Tensor<double>{1, 2}, true);
  Variable<double> y = sum(x + 1.0);  // add reads no input in its backward, only their shapes
  x.value() = Tensor<double>{1, 2, 3};
  CHECK_THAT(logic_error_of([&] { y.backward(); }),
             StartsWith("backward: input 0 of 'add' had shape (2,) when the op was recorded and now has shape (3,)"));
  CHECK(!x.has_grad());
}
