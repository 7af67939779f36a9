// The saliency example and mnist_mlp --dot end to end on a tiny synthetic MNIST-format data set.
#include "png_read.hpp"
#include "test_util.hpp"
#include "tiny_mnist.hpp"

using Catch::Matchers::Contains;

TEST_CASE("saliency trains on a small data set and writes both pictures") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  tg::test::ProgramRun r = tg::test::run_program(
      "saliency",
      "--data " + dir.str() + " --epochs 1 --batch-size 16 --count 5 --threads 1 --out " + dir.file("pictures"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Contains("image 4: label 4"));
  CHECK_THAT(r.output, Contains("saliency on the strokes"));

  // Five 28x28 images enlarged 4x with 4-pixel gaps: one band of two rows.
  tg::test::ReadPng saliency = tg::test::read_png(dir.file("pictures/saliency.png"));
  REQUIRE(saliency.ok);
  CHECK(saliency.width == 5 * (112 + 4) + 4);
  CHECK(saliency.height == 2 * 112 + 3 * 4 + 4);
  // 32 filters of 3x3 enlarged 12x, 8 per row.
  tg::test::ReadPng filters = tg::test::read_png(dir.file("pictures/filters.png"));
  REQUIRE(filters.ok);
  CHECK(filters.width == 8 * (36 + 4) + 4);
  CHECK(filters.height == 4 * (36 + 4) + 4);
}

TEST_CASE("saliency reports a checkpoint it cannot load") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  tg::test::check_reports_error(
      "saliency", "--data " + dir.str() + " --load " + dir.file("missing.npz") + " --out " + dir.str(), "missing.npz");
}

TEST_CASE("mnist_mlp --dot writes the graph of the first training step") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  tg::test::ProgramRun r = tg::test::run_program(
      "mnist_mlp", "--data " + dir.str() + " --epochs 1 --batch-size 16 --threads 1 --dot " + dir.file("step.dot"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::vector<std::uint8_t> bytes = tg::test::read_all(dir.file("step.dot"));
  const std::string dot(bytes.begin(), bytes.end());
  INFO(dot);
  CHECK(dot.rfind("digraph", 0) == 0);
  for (const char* label :
       {"cross_entropy\\n()", "linear\\n(16, 256)", "1.weight\\n(256, 784)", "5.bias\\n(10,)", "input\\n(16, 784)"}) {
    CHECK_THAT(dot, Contains(label));
  }
}
