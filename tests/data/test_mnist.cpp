// The MNIST dataset class on synthetic directories; the real data sets only when they are present.
#include <algorithm>
#include <fstream>
#include <numeric>

#include "synthetic.hpp"
#include "test_util.hpp"

using namespace tg;
using namespace tg::data;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

enum class Style { dash, dot };  // train-images-idx3-ubyte / train-images.idx3-ubyte

std::string file_name(const std::string& prefix, const std::string& what, Style style, bool gz) {
  const std::string idx = what == "images" ? "idx3" : "idx1";
  return prefix + "-" + what + (style == Style::dash ? "-" : ".") + idx + "-ubyte" + (gz ? ".gz" : "");
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes, bool gz) {
  if (gz) tg::test::write_gz(path, bytes);
  else tg::test::write_raw(path, bytes);
}

// Writes a split of `count` 28 x 28 pattern images with labels i % 10.
void write_split(const tg::test::TempDir& dir, const std::string& prefix, std::size_t count, Style style, bool gz) {
  std::vector<std::uint8_t> labels(count);
  for (std::size_t i = 0; i < count; ++i) labels[i] = std::uint8_t(i % 10);
  write_file(dir.file(file_name(prefix, "images", style, gz)),
             tg::test::idx_bytes(2051, {std::uint32_t(count), 28, 28}, tg::test::pattern_pixels(count, 28, 28)), gz);
  write_file(dir.file(file_name(prefix, "labels", style, gz)),
             tg::test::idx_bytes(2049, {std::uint32_t(count)}, labels), gz);
}

void check_contents(const MNIST& ds, std::size_t count) {
  REQUIRE(ds.size() == count);
  CHECK(ds.rows() == 28);
  CHECK(ds.cols() == 28);
  CHECK(ds.image_size() == 784);
  CHECK(ds.images() == tg::test::pattern_pixels(count, 28, 28));
  for (std::size_t i = 0; i < count; ++i) CHECK(ds.labels()[i] == std::int64_t(i % 10));
  CHECK(ds.image(2)[5] == std::uint8_t((7 * 2 + 5) % 256));
  CHECK(ds.label(3) == 3);
}

// VmHWM of this process in KiB (0 where /proc is unavailable).
std::size_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

// What is known of a real data set's files: the first five labels of each split and the pixel
// sums of the first training image, the last one and all of them.
struct KnownValues {
  Labels first_train_labels, first_test_labels;
  std::uint64_t first_image_sum, last_image_sum, all_images_sum;
};

// Checks the split sizes (60000 and 10000) and the known values.
template <class Dataset>
void check_known_values(const Dataset& train, const Dataset& test, const KnownValues& known) {
  CHECK(train.size() == 60000);
  CHECK(test.size() == 10000);
  CHECK(Labels(train.labels().begin(), train.labels().begin() + 5) == known.first_train_labels);
  CHECK(Labels(test.labels().begin(), test.labels().begin() + 5) == known.first_test_labels);
  const std::vector<std::uint8_t>& px = train.images();
  CHECK(std::accumulate(px.begin(), px.begin() + 784, std::uint64_t(0)) == known.first_image_sum);
  CHECK(std::accumulate(px.end() - 784, px.end(), std::uint64_t(0)) == known.last_image_sum);
  CHECK(std::accumulate(px.begin(), px.end(), std::uint64_t(0)) == known.all_images_sum);
}

}  // namespace

TEST_CASE("MNIST reads a split in the dash naming style raw") {
  tg::test::TempDir dir;
  write_split(dir, "train", 12, Style::dash, false);
  write_split(dir, "t10k", 5, Style::dash, false);
  MNIST train(dir.str(), Split::train);
  check_contents(train, 12);
  CHECK(train.images_path() == dir.file("train-images-idx3-ubyte"));
  CHECK(train.labels_path() == dir.file("train-labels-idx1-ubyte"));
  CHECK(train.split() == Split::train);
  CHECK(train.kind() == MnistKind::mnist);
  MNIST test(dir.str(), Split::test);
  check_contents(test, 5);
  CHECK(test.images_path() == dir.file("t10k-images-idx3-ubyte"));
}

TEST_CASE("MNIST reads a split in the dot naming style gzip") {
  tg::test::TempDir dir;
  write_split(dir, "t10k", 7, Style::dot, true);
  MNIST test(dir.str(), Split::test);
  check_contents(test, 7);
  CHECK(test.images_path() == dir.file("t10k-images.idx3-ubyte.gz"));
  CHECK(test.labels_path() == dir.file("t10k-labels.idx1-ubyte.gz"));
}

TEST_CASE("FashionMNIST is the same format with its own class names") {
  tg::test::TempDir dir;
  write_split(dir, "train", 4, Style::dash, true);
  FashionMNIST fashion(dir.str());
  check_contents(fashion, 4);
  CHECK(fashion.kind() == MnistKind::fashion);
  CHECK(MNIST::class_names(MnistKind::fashion)[9] == "Ankle boot");
  CHECK(MNIST::class_names(MnistKind::fashion)[0] == "T-shirt/top");
  CHECK(MNIST::class_names(MnistKind::mnist)[7] == "7");
}

TEST_CASE("MNIST copies share their bytes") {
  tg::test::TempDir dir;
  write_split(dir, "train", 3, Style::dash, false);
  MNIST a(dir.str());
  MNIST b = a;
  CHECK(&a.images() == &b.images());
}

TEST_CASE("MNIST lists what it looked for where and how to fetch it when files are missing") {
  tg::test::TempDir dir;
  std::string msg = message_of<std::runtime_error>([&] { MNIST(dir.str(), Split::train); });
  CHECK_THAT(msg, Contains("MNIST") && Contains("train images") && Contains("in " + dir.str()) &&
                      Contains("train-images-idx3-ubyte") && Contains("train-images.idx3-ubyte") &&
                      Contains("train-images-idx3-ubyte.gz") && Contains("scripts/fetch_mnist.sh " + dir.str()));

  write_split(dir, "t10k", 3, Style::dash, false);
  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte"));
  msg = message_of<std::runtime_error>([&] { MNIST(dir.str(), Split::test); });
  CHECK_THAT(msg, Contains("test labels") && Contains("t10k-labels-idx1-ubyte") && Contains("t10k-labels.idx1-ubyte.gz"));

  msg = message_of<std::runtime_error>([&] { FashionMNIST(dir.file("absent")); });
  CHECK_THAT(msg, Contains("FashionMNIST") && Contains(dir.file("absent") + " does not exist") &&
                      Contains("scripts/fetch_fashion_mnist.sh"));
}

TEST_CASE("MNIST rejects image and label counts that disagree naming both files") {
  tg::test::TempDir dir;
  write_split(dir, "train", 5, Style::dash, false);
  tg::test::write_raw(dir.file("train-labels-idx1-ubyte"), tg::test::idx_bytes(2049, {4}, {0, 1, 2, 3}));
  std::string msg = message_of<std::invalid_argument>([&] { MNIST(dir.str()); });
  CHECK_THAT(msg, Contains("MNIST") && Contains(dir.file("train-images-idx3-ubyte") + " holds 5 images") &&
                      Contains(dir.file("train-labels-idx1-ubyte") + " holds 4 labels"));
}

TEST_CASE("MNIST rejects images that are not 28 x 28") {
  tg::test::TempDir dir;
  write_split(dir, "train", 2, Style::dash, false);
  tg::test::write_raw(dir.file("train-images-idx3-ubyte"),
                      tg::test::idx_bytes(2051, {2, 27, 28}, tg::test::pattern_pixels(2, 27, 28)));
  std::string msg = message_of<std::invalid_argument>([&] { MNIST(dir.str()); });
  CHECK_THAT(msg, Contains(dir.file("train-images-idx3-ubyte")) && Contains("images are 27 x 28, expected 28 x 28"));
}

TEST_CASE("MNIST rejects a label outside 0-9 and files swapped for each other") {
  tg::test::TempDir dir;
  write_split(dir, "train", 3, Style::dash, false);
  tg::test::write_raw(dir.file("train-labels-idx1-ubyte"), tg::test::idx_bytes(2049, {3}, {1, 12, 3}));
  std::string msg = message_of<std::invalid_argument>([&] { MNIST(dir.str()); });
  CHECK_THAT(msg, Contains(dir.file("train-labels-idx1-ubyte")) && Contains("label 12 at index 1"));

  tg::test::write_raw(dir.file("train-images-idx3-ubyte"), tg::test::idx_bytes(2049, {3}, {1, 2, 3}));
  msg = message_of<std::invalid_argument>([&] { MNIST(dir.str()); });
  CHECK_THAT(msg, Contains(dir.file("train-images-idx3-ubyte")) && Contains("magic number 2049") &&
                      Contains("expected 2051"));
}

TEST_CASE("MNIST index accessors check their range") {
  tg::test::TempDir dir;
  write_split(dir, "train", 3, Style::dash, false);
  MNIST ds(dir.str());
  CHECK_THAT(message_of<std::invalid_argument>([&] { ds.image(3); }), Contains("MNIST") && Contains("index 3"));
  CHECK_THAT(message_of<std::invalid_argument>([&] { ds.label(7); }), Contains("index 7") && Contains("3 labels"));
}

// Real data sets: checked only where they are installed (scripts/fetch_mnist.sh, scripts/fetch_fashion_mnist.sh).
TEST_CASE("the real MNIST in data/mnist when fetched") {
  const std::string dir = std::string(TAPEGRAD_SOURCE_DIR) + "/data/mnist";
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte")) {
    WARN("skipped: no MNIST in " << dir << " (scripts/fetch_mnist.sh fetches it)");
    return;
  }
  MNIST train(dir, Split::train), test(dir, Split::test);
  // The first labels of each split as published; pixel sums printed by Python (sum of the bytes
  // after the 16-byte header of train-images-idx3-ubyte).
  check_known_values(train, test, {{5, 0, 4, 1, 9}, {7, 2, 1, 0, 4}, 27525u, 20920u, 1567298545u});
  // The count of zeros in the training set, as published.
  CHECK(std::count(train.labels().begin(), train.labels().end(), 0) == 5923);

  // Memory: both splits plus a shuffled epoch of float batches stay far below 200 MiB.
  DataLoader<float> loader(train, 128, true, 1);
  std::size_t seen = 0;
  for (auto& batch : loader) seen += batch.size();
  CHECK(seen == 60000);
  const std::size_t peak = peak_rss_kib();
  INFO("peak resident set " << peak / 1024 << " MiB");
  CHECK(peak < 200 * 1024);
}

TEST_CASE("the real Fashion-MNIST from Debian when installed") {
  const std::string dir = kFashionMnistDebianDir;
  if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) {
    WARN("skipped: no Fashion-MNIST in " << dir << " (scripts/fetch_fashion_mnist.sh installs it)");
    return;
  }
  FashionMNIST train(dir, Split::train), test(dir, Split::test);
  // Values printed by Python's gzip module from the same files.
  check_known_values(train, test, {{9, 0, 0, 3, 0}, {9, 2, 1, 1, 6}, 76247u, 16684u, 3431114169u});
  for (std::int64_t c = 0; c < 10; ++c) CHECK(std::count(train.labels().begin(), train.labels().end(), c) == 6000);
}
