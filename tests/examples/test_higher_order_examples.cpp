// The higher-order-gradient examples end to end, on settings small enough for a few seconds:
// pinn (u'' through two nested tg::grad calls), wgan_gp (gradient penalty) on a tiny synthetic
// MNIST-format data set, and custom_op's gradgradcheck outcomes.
#include <numeric>
#include <regex>

#include "png_read.hpp"
#include "test_util.hpp"
#include "tiny_mnist.hpp"

using Catch::Matchers::Contains;

namespace {

// Whether some pixel of an RGB image has exactly this colour.
bool has_colour(const tg::test::ReadPng& png, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  for (std::size_t i = 0; i + 2 < png.pixels.size(); i += 3) {
    if (png.pixels[i] == r && png.pixels[i + 1] == g && png.pixels[i + 2] == b) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("pinn trains a few steps, prints its error line and plots both curves") {
  tg::test::TempDir dir;
  auto r = tg::test::run_program("pinn", "--steps 30 --log-every 10 --points 16 --hidden 8 --layers 2 --out " +
                                             dir.file("plot.png"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Contains("step     10  residual"));
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m,
                            std::regex(R"(max \|u\(x\) - sin\(pi x\)\| over 1000 points: ([0-9.e+-]+) after 30 steps in ([0-9.]+) s)")));
  const double error = std::stod(m[1]);
  CHECK(error >= 0);
  CHECK(std::isfinite(error));

  tg::test::ReadPng png = tg::test::read_png(dir.file("plot.png"));
  REQUIRE(png.ok);
  CHECK(png.width == 640);
  CHECK(png.height == 400);
  REQUIRE(png.channels == 3);
  CHECK(has_colour(png, 110, 170, 255));  // the exact solution
  CHECK(has_colour(png, 200, 30, 30));    // the learned one
  CHECK(has_colour(png, 0, 0, 0));        // the axes
}

TEST_CASE("pinn reports a plot it cannot write") {
  tg::test::TempDir dir;
  tg::test::check_reports_error("pinn", "--steps 2 --hidden 4 --out " + dir.file("no/such/folder/plot.png"), "plot.png");
}

TEST_CASE("wgan_gp trains on a tiny data set, writes its grids and judges its samples") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  const std::string common = "--data " + dir.str() + " --train-size 0 --batch-size 8 --n-critic 2 --hidden 16 "
                             "--samples 50 --threads 1 --out-dir " + dir.file("out");
  auto r = tg::test::run_program("wgan_gp", common + " --epochs 2");
  INFO(r.output);
  REQUIRE(r.status == 0);
  // No classifier given: mnist_cnn is trained for one epoch first and saved for the next run.
  CHECK_THAT(r.output, Contains("training mnist_cnn for 1 epoch"));
  CHECK(std::filesystem::exists(dir.file("out/mnist_cnn.npz")));
  // 32 images in batches of 8: 4 critic steps, 2 generator steps per epoch.
  CHECK_THAT(r.output, Contains("(4 critic, 2 generator steps)"));

  for (int epoch = 1; epoch <= 2; ++epoch) {
    CAPTURE(epoch);
    std::smatch m;
    const std::string e = std::to_string(epoch);
    REQUIRE(std::regex_search(r.output, m, std::regex("epoch " + e + R"( digits \(50 samples\):((  \d: [0-9.]+%){10}))")));
    const std::string shares_text = m[1];
    double total = 0;
    int digits = 0;
    const std::regex share(R"(  (\d): ([0-9.]+)%)");
    for (auto it = std::sregex_iterator(shares_text.begin(), shares_text.end(), share); it != std::sregex_iterator(); ++it) {
      CHECK((*it)[1] == std::to_string(digits));
      total += std::stod((*it)[2]);
      ++digits;
    }
    CHECK(digits == 10);
    CHECK(total == Approx(100.0).margin(0.5));
    REQUIRE(std::regex_search(r.output, m, std::regex("epoch " + e + R"( mean confidence: ([0-9.]+))")));
    const double confidence = std::stod(m[1]);
    CHECK(confidence >= 0.0);
    CHECK(confidence <= 1.0);

    // 8 x 8 digits enlarged 2x with 2-pixel gaps, grey.
    tg::test::ReadPng grid = tg::test::read_png(dir.file("out/epoch_0" + e + ".png"));
    REQUIRE(grid.ok);
    CHECK(grid.width == 8 * (56 + 2) + 2);
    CHECK(grid.height == 8 * (56 + 2) + 2);
    CHECK(grid.channels == 1);
  }
  CHECK_THAT(r.output, Contains("total time: "));

  SECTION("a second run reuses the saved classifier") {
    auto again = tg::test::run_program("wgan_gp", common + " --epochs 1");
    INFO(again.output);
    REQUIRE(again.status == 0);
    CHECK_THAT(again.output, Contains("classifier: " + dir.file("out/mnist_cnn.npz")));
    CHECK_THAT(again.output, !Contains("training mnist_cnn"));
  }
}

TEST_CASE("wgan_gp reports a classifier it cannot load") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  tg::test::check_reports_error(
      "wgan_gp", "--data " + dir.str() + " --classifier " + dir.file("missing.npz") + " --out-dir " + dir.file("out"),
      "missing.npz");
}

TEST_CASE("custom_op: record_differentiable_op passes gradgradcheck, record_op's Tensor form fails it by name") {
  auto r = tg::test::run_program("custom_op", "");
  INFO(r.output);
  CHECK(r.status == 0);
  const std::size_t second = r.output.find("Second derivatives of softplus_twice_differentiable");
  const std::size_t first_order = r.output.find("Second derivatives of softplus (record_op");
  REQUIRE(second != std::string::npos);
  REQUIRE(first_order != std::string::npos);
  REQUIRE(second < first_order);
  const std::string passing = r.output.substr(second, first_order - second);
  const std::string failing = r.output.substr(first_order);
  CHECK_THAT(passing, Contains("gradgradcheck passed"));
  CHECK_THAT(failing, Contains("gradgradcheck FAILED") && Contains("'softplus' is first-order only"));
  CHECK_THAT(failing, Contains("ops recorded by f: softplus"));
}
