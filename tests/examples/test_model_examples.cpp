// mnist_lstm, mnist_transformer, fashion_resnet and mnist_autoencoder end to end: one short epoch
// each on a tiny synthetic MNIST-format data set, checking the lines users read and the picture.
#include "png_read.hpp"
#include "test_util.hpp"
#include "tiny_mnist.hpp"

#include <regex>

using Catch::Matchers::Contains;

namespace {

const std::regex kEpochLine("epoch  1/1  train loss [0-9.]+  train accuracy +[0-9.]+%  test accuracy +[0-9.]+%  [0-9.]+ s");
const std::regex kFinalLine("\ntest accuracy: [0-9]+\\.[0-9]{2}%\n$");

// Trains `program` for one epoch of the tiny set and checks its per-epoch and final lines and
// that its summary names `layer`.
void check_classifier(const std::string& program, const std::string& extra, const std::string& layer) {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  tg::test::ProgramRun r =
      tg::test::run_program(program, "--data " + dir.str() + " --epochs 1 --batch-size 8 --threads 1 " + extra);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Contains(layer));
  CHECK_THAT(r.output, Contains("(32 training, 12 test images)"));
  CHECK(std::regex_search(r.output, kEpochLine));
  CHECK(std::regex_search(r.output, kFinalLine));
}

void check_help(const std::string& program, const std::string& defaults) {
  tg::test::ProgramRun r = tg::test::run_program(program, "--help");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Contains("Usage: " + program) && Contains(defaults));
}

}  // namespace

TEST_CASE("mnist_lstm trains one epoch and reports its test accuracy") {
  check_classifier("mnist_lstm", "", "RowLSTM(LSTM(28, 128, batch_first=True) -> Linear(128, 10))");
  check_help("mnist_lstm", "--epochs INT:INT in [1 - 100000]=5");
}

TEST_CASE("mnist_transformer trains one epoch and reports its test accuracy") {
  check_classifier("mnist_transformer", "", "2 x TransformerEncoderLayer(");
  check_help("mnist_transformer", "--epochs INT:INT in [1 - 100000]=10");
}

TEST_CASE("fashion_resnet trains one epoch and reports its test accuracy") {
  check_classifier("fashion_resnet", "--dataset fashion", "ResidualBlock(16, 32, stride=2, 1x1 shortcut)");
  check_help("fashion_resnet", "--dataset TEXT:{mnist,fashion}=fashion");
}

TEST_CASE("mnist_autoencoder reports its test mse and draws digits over their reconstructions") {
  tg::test::TempDir dir;
  tg::test::write_tiny_mnist(dir);
  const std::string png = dir.file("reconstructions.png");
  tg::test::ProgramRun r = tg::test::run_program(
      "mnist_autoencoder", "--data " + dir.str() + " --epochs 1 --batch-size 8 --threads 1 --png " + png);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.output, Contains("ConvTranspose2d(32, 16, kernel_size=3, stride=2, padding=1, output_padding=1)"));
  CHECK(std::regex_search(r.output, std::regex("epoch  1/1  train mse 0\\.[0-9]{4}  test mse 0\\.[0-9]{4}  [0-9.]+ s")));
  CHECK(std::regex_search(r.output, std::regex("\ntest mse: 0\\.[0-9]{4}\n$")));
  CHECK_THAT(r.output, Contains("wrote test digits and their reconstructions to " + png));

  // Ten of the twelve test digits, enlarged 3x (84 pixels) with 4-pixel gaps, in two rows, grey.
  tg::test::ReadPng image = tg::test::read_png(png);
  REQUIRE(image.ok);
  CHECK(image.width == 10 * (84 + 4) + 4);
  CHECK(image.height == 2 * (84 + 4) + 4);
  CHECK(image.channels == 1);
  // The background is mid-grey; both the digits and the reconstructions draw other values.
  auto differs_from_background = [&](std::size_t row0) {
    for (std::size_t y = row0; y < row0 + 84; ++y) {
      for (std::size_t x = 4; x < 4 + 84; ++x) {
        if (image.pixels[y * image.width + x] != 128) return true;
      }
    }
    return false;
  };
  CHECK(differs_from_background(4));
  CHECK(differs_from_background(4 + 84 + 4));
  CHECK(image.pixels[0] == 128);
  // The top row is the test digits themselves: test image i's pixel (x, y) is (7 i + 28 y + x) mod 256
  // (tests/data/synthetic.hpp), drawn at (4 + 88 i + 3 x, 4 + 3 y) and the two pixels right and below.
  for (std::size_t i : {0, 9}) {
    for (std::size_t y = 0; y < 28; y += 9) {
      for (std::size_t x = 0; x < 28; x += 5) {
        INFO("image " << i << " pixel (" << x << ", " << y << ")");
        const std::size_t px = 4 + 88 * i + 3 * x + 2, py = 4 + 3 * y + 2;
        CHECK(int(image.pixels[py * image.width + px]) == int((7 * i + 28 * y + x) % 256));
      }
    }
  }
}

TEST_CASE("mnist_autoencoder names a data folder it cannot read") {
  tg::test::TempDir dir;
  tg::test::check_reports_error("mnist_autoencoder", "--data " + dir.file("missing") + " --png \"\"", "missing");
}
