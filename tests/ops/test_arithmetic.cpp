#include "test_util.hpp"

using namespace tg;
using tg::test::message_of;

TEST_CASE("add broadcasts (3,4) with (4,) and sums the gradient back") {
  Generator gen(1);
  auto a = test::param(test::uniform({3, 4}, gen)), b = test::param(test::uniform({4}, gen));
  test::require_gradcheck([](auto& v) { return v[0] + v[1]; }, {a, b});
}

TEST_CASE("add rejects shapes NumPy would refuse, naming both") {
  Variable<double> a(xt::zeros<double>({3, 4})), b(xt::zeros<double>({5}));
  std::string msg = message_of<std::invalid_argument>([&] { a + b; });
  CHECK_THAT(msg, Catch::Matchers::Contains("add") && Catch::Matchers::Contains("(3, 4)") &&
                      Catch::Matchers::Contains("(5,)"));
}
