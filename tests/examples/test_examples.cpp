// Runs the small example programs and checks what they print.
#include "test_util.hpp"

#include <regex>

#include "tiny_mnist.hpp"

using tg::test::run_program;

TEST_CASE("seed_network prints the textbook's output") {
  auto r = run_program("seed_network", "");
  CHECK(r.status == 0);
  // The textbook (numpy, same weights) prints [0.31682708 0.69627909].
  CHECK(r.output == "[0.31682708 0.69627909]\n");
}

TEST_CASE("xor learns all four cases and its loss falls") {
  auto r = run_program("xor", "");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("correct: 4/4"));
  std::smatch first, last;
  REQUIRE(std::regex_search(r.output, first, std::regex("step 100  loss ([0-9.]+)")));
  REQUIRE(std::regex_search(r.output, last, std::regex("final loss: ([0-9.]+)")));
  CHECK(std::stod(last[1]) < 0.05);
  CHECK(std::stod(last[1]) < std::stod(first[1]));
}

TEST_CASE("custom_op passes the right gradient and reports the wrong one") {
  auto r = run_program("custom_op", "");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Matchers::Contains("gradcheck passed"));
  CHECK_THAT(r.output, Catch::Matchers::Contains("gradcheck FAILED"));
  // softplus_wrong's backward is exp(x): at x = 2.5 (element [1, 1]) analytic e^2.5 = 12.182494, numeric sigmoid(2.5) = 0.924142
  CHECK_THAT(r.output, Catch::Matchers::Contains("input element [1, 1]") && Catch::Matchers::Contains("12.18249") &&
                           Catch::Matchers::Contains("0.924141"));
}
