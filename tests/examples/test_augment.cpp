// The examples' training-time augmentation (examples/augment.hpp: random shift with zero padding
// and random horizontal flip, in place on the batch) and fashion_resnet's --augment option.
#include <numeric>

#include "augment.hpp"
#include "test_util.hpp"
#include "tiny_mnist.hpp"

using Catch::Matchers::Contains;

namespace {

// A (B, C, H, W) tensor holding 1, 2, 3, ... in row-major order.
tg::Tensor<float> counting(std::size_t b, std::size_t c, std::size_t h, std::size_t w) {
  tg::Tensor<float> t = tg::Tensor<float>::from_shape({b, c, h, w});
  std::iota(t.begin(), t.end(), 1.0f);
  return t;
}

std::vector<float> values(const tg::Tensor<float>& t) { return std::vector<float>(t.begin(), t.end()); }

}  // namespace

TEST_CASE("transform_images mirrors, shifts and zero-fills each image as worked out by hand") {
  std::vector<float> scratch;
  SECTION("a flip mirrors every row and keeps the pixel sum") {
    tg::Tensor<float> t = counting(1, 1, 2, 3);  // [[1 2 3] [4 5 6]]
    example::transform_images(t, {{0, 0, true}}, scratch);
    CHECK(values(t) == std::vector<float>{3, 2, 1, 6, 5, 4});
  }
  SECTION("shift_rows 1 moves the picture up one row; the bottom row is zero") {
    tg::Tensor<float> t = counting(1, 1, 3, 2);  // [[1 2] [3 4] [5 6]]
    example::transform_images(t, {{1, 0, false}}, scratch);
    CHECK(values(t) == std::vector<float>{3, 4, 5, 6, 0, 0});
  }
  SECTION("shift_cols -1 moves the picture right one column; the left column is zero") {
    tg::Tensor<float> t = counting(1, 1, 2, 3);
    example::transform_images(t, {{0, -1, false}}, scratch);
    CHECK(values(t) == std::vector<float>{0, 1, 2, 0, 4, 5});
  }
  SECTION("shift and flip together: out[y][x] = in[y + dy][W-1-x + dx]") {
    tg::Tensor<float> t = counting(1, 1, 3, 3);  // [[1 2 3] [4 5 6] [7 8 9]]
    // dy = -1: row 0 zero, rows 1 and 2 from input rows 0 and 1; dx = 1: x=0 reads column 3 (zero),
    // x=1 column 2, x=2 column 1.
    example::transform_images(t, {{-1, 1, true}}, scratch);
    CHECK(values(t) == std::vector<float>{0, 0, 0, 0, 3, 2, 0, 6, 5});
  }
  SECTION("a shift by the whole width leaves zeros") {
    tg::Tensor<float> t = counting(1, 1, 2, 2);
    example::transform_images(t, {{0, 2, false}}, scratch);
    CHECK(values(t) == std::vector<float>{0, 0, 0, 0});
  }
  SECTION("each image takes its own transform, the same for all its channels") {
    tg::Tensor<float> t = counting(2, 2, 1, 2);  // image 0: [1 2], [3 4]; image 1: [5 6], [7 8]
    example::transform_images(t, {{0, 0, true}, {0, 1, false}}, scratch);
    CHECK(values(t) == std::vector<float>{2, 1, 4, 3, 6, 0, 8, 0});
  }
  SECTION("bad input") {
    tg::Tensor<float> t = counting(2, 1, 2, 2);
    CHECK_THROWS_MATCHES(example::transform_images(t, {{0, 0, true}}, scratch), std::invalid_argument,
                         Catch::Matchers::Message("transform_images: expected a (B, C, H, W) batch and B transforms, "
                                                  "got 4 dimensions and 1 transforms"));
    CHECK_THROWS_AS(example::BatchAugmenter(-1, 0), std::invalid_argument);
  }
}

TEST_CASE("BatchAugmenter draws shifts within the padding and fair flips, repeatably") {
  // 64 images of 8 x 8 with a 2 x 3 block of distinct values at rows 3-4, columns 2-4: a shift of
  // at most 2 keeps it inside, so each image keeps its pixel sum and the block lands where its
  // transform says.
  const std::size_t count = 64, side = 8;
  tg::Tensor<float> original = tg::Tensor<float>::from_shape({count, 1, side, side});
  std::fill(original.begin(), original.end(), 0.0f);
  for (std::size_t n = 0; n < count; ++n)
    for (std::size_t y = 3; y < 5; ++y)
      for (std::size_t x = 2; x < 5; ++x) original(n, 0, y, x) = static_cast<float>(1 + n + 10 * y + x);

  example::BatchAugmenter augment(2, 7);
  tg::Tensor<float> images = original;
  augment(images);
  const auto& drawn = augment.last_transforms();
  REQUIRE(drawn.size() == count);
  std::size_t flips = 0;
  for (std::size_t n = 0; n < count; ++n) {
    const auto& t = drawn[n];
    CHECK(std::abs(t.shift_rows) <= 2);
    CHECK(std::abs(t.shift_cols) <= 2);
    flips += t.flip;
    double before = 0, after = 0;
    for (std::size_t y = 0; y < side; ++y)
      for (std::size_t x = 0; x < side; ++x) {
        before += original(n, 0, y, x);
        after += images(n, 0, y, x);
        // Where the pixel (y, x) of the output comes from.
        const long source_y = static_cast<long>(y) + t.shift_rows;
        const long source_x = (t.flip ? static_cast<long>(side) - 1 - static_cast<long>(x) : static_cast<long>(x)) + t.shift_cols;
        const bool inside = source_y >= 0 && source_y < long(side) && source_x >= 0 && source_x < long(side);
        const float expected = inside ? original(n, 0, std::size_t(source_y), std::size_t(source_x)) : 0.0f;
        CHECK(images(n, 0, y, x) == expected);
      }
    CHECK(after == before);
  }
  CHECK(flips > count / 4);  // 64 fair coins: 32 expected
  CHECK(flips < 3 * count / 4);

  // The same seed gives the same batch; the next batch draws anew.
  example::BatchAugmenter again(2, 7);
  tg::Tensor<float> repeat = original;
  again(repeat);
  CHECK(values(repeat) == values(images));
  tg::Tensor<float> next = original;
  again(next);
  CHECK(values(next) != values(images));
}

TEST_CASE("fashion_resnet augments by default and trains without it on --no-augment") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  const std::string common = "--data " + dir.str() + " --epochs 1 --batch-size 16 --threads 1";
  tg::test::ProgramRun with = tg::test::run_program("fashion_resnet", common);
  INFO(with.output);
  REQUIRE(with.status == 0);
  CHECK_THAT(with.output, Contains("augmentation: random horizontal flip, random shift up to 1 pixel\n"));
  CHECK_THAT(with.output, Contains("test accuracy:"));
  tg::test::ProgramRun without = tg::test::run_program("fashion_resnet", common + " --no-augment");
  INFO(without.output);
  REQUIRE(without.status == 0);
  CHECK(without.output.find("augmentation:") == std::string::npos);
  tg::test::ProgramRun shifted = tg::test::run_program("fashion_resnet", common + " --augment-pad 2");
  CHECK_THAT(shifted.output, Contains("random shift up to 2 pixels"));
  tg::test::ProgramRun help = tg::test::run_program("fashion_resnet", "--help");
  CHECK_THAT(help.output, Contains("--augment,--no-augment"));
  CHECK_THAT(help.output, Contains("(default: on)"));
  CHECK_THAT(help.output, Contains("--label-smoothing FLOAT:FLOAT in [0 - 1]=0.1"));
  // The other examples keep their data as it is unless asked.
  CHECK_THAT(tg::test::run_program("mnist_mlp", "--help").output, Contains("(default: off)"));
}
