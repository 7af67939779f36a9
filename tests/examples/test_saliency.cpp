// The saliency example end to end on a tiny synthetic MNIST-format data set.
#include <array>
#include <cstdio>
#include <memory>

#include "../data/synthetic.hpp"
#include "png_read.hpp"
#include "test_util.hpp"

TEST_CASE("saliency trains on a small data set and writes both pictures") {
  tg::test::TempDir dir;
  auto write_split = [&](const std::string& prefix, std::size_t count) {
    std::vector<std::uint8_t> labels(count);
    for (std::size_t i = 0; i < count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    tg::test::write_raw(
        dir.file(prefix + "-images-idx3-ubyte"),
        tg::test::idx_bytes(2051, {std::uint32_t(count), 28, 28}, tg::test::pattern_pixels(count, 28, 28)));
    tg::test::write_raw(dir.file(prefix + "-labels-idx1-ubyte"),
                        tg::test::idx_bytes(2049, {std::uint32_t(count)}, labels));
  };
  write_split("train", 32);
  write_split("t10k", 12);

  const std::string command = std::string(TAPEGRAD_EXAMPLES_DIR) + "/saliency --data " + dir.str() +
                              " --epochs 1 --batch-size 16 --count 5 --threads 1 --out " + dir.file("pictures") +
                              " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get())) output += buffer.data();
  const int status = pclose(pipe.release());
  INFO(output);
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK_THAT(output, Catch::Matchers::Contains("image 4: label 4"));
  CHECK_THAT(output, Catch::Matchers::Contains("saliency on the strokes"));

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
