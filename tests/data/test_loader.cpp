// DataLoader on synthetic arrays (and one synthetic MNIST directory).
#include <algorithm>
#include <numeric>
#include <type_traits>

#include "synthetic.hpp"
#include "test_util.hpp"

using namespace tg;
using namespace tg::data;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

// n images of rows x cols whose every pixel is the image's index (mod 256); labels i % 10.
DataLoader<float> indexed_loader(std::size_t n, DataLoaderOptions options, std::size_t rows = 3, std::size_t cols = 2) {
  std::vector<std::uint8_t> images(n * rows * cols);
  for (std::size_t i = 0; i < n; ++i) std::fill_n(images.begin() + i * rows * cols, rows * cols, std::uint8_t(i % 256));
  Labels labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = std::int64_t(i % 10);
  return DataLoader<float>(std::move(images), std::move(labels), rows, cols, options);
}

DataLoaderOptions opts(std::size_t batch_size, bool shuffle = false, std::uint64_t seed = 0, bool drop_last = false) {
  DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  o.seed = seed;
  o.drop_last = drop_last;
  return o;
}

std::vector<std::size_t> epoch_indices(DataLoader<float>& loader) {
  std::vector<std::size_t> seen;
  for (auto& batch : loader) seen.insert(seen.end(), batch.indices.begin(), batch.indices.end());
  return seen;
}

}  // namespace

TEST_CASE("DataLoader yields (B 1 rows cols) batches with a smaller last one") {
  DataLoader<float> loader = indexed_loader(10, opts(4));
  REQUIRE(loader.num_batches() == 3);
  std::vector<Shape> shapes;
  std::vector<std::size_t> sizes;
  for (auto& batch : loader) {
    shapes.push_back(batch.images.shape());
    sizes.push_back(batch.size());
    CHECK_FALSE(batch.images.requires_grad());
  }
  CHECK(shapes == std::vector<Shape>{{4, 1, 3, 2}, {4, 1, 3, 2}, {2, 1, 3, 2}});
  CHECK(sizes == std::vector<std::size_t>{4, 4, 2});
}

TEST_CASE("DataLoader drop_last drops the incomplete batch") {
  struct Case { std::size_t n, batch; std::size_t keep_last, drop_last; };
  for (Case c : {Case{10, 4, 3, 2}, Case{10, 5, 2, 2}, Case{10, 3, 4, 3}, Case{10, 20, 1, 0}, Case{10, 1, 10, 10},
                 Case{0, 4, 0, 0}}) {
    INFO("n " << c.n << " batch " << c.batch);
    DataLoader<float> keep = indexed_loader(c.n, opts(c.batch, false, 0, false));
    DataLoader<float> drop = indexed_loader(c.n, opts(c.batch, false, 0, true));
    CHECK(keep.num_batches() == c.keep_last);
    CHECK(drop.num_batches() == c.drop_last);
    std::size_t counted = 0;
    for (auto& batch : drop) {
      CHECK(batch.size() == c.batch);
      ++counted;
    }
    CHECK(counted == c.drop_last);
    CHECK(std::size_t(std::distance(keep.begin(), keep.end())) == c.keep_last);
  }
}

TEST_CASE("DataLoader scales bytes to [0 1] as byte / 255") {
  // Four 1 x 2 images with known bytes.
  std::vector<std::uint8_t> images = {0, 255, 51, 102, 128, 1, 254, 204};
  DataLoader<float> f(images, Labels{3, 1, 4, 1}, 1, 2, opts(4));
  DataLoader<double> d(images, Labels{3, 1, 4, 1}, 1, 2, opts(4));
  auto fb = f.begin();
  auto db = d.begin();
  // 51 / 255 = 0.2, 102 / 255 = 0.4, 204 / 255 = 0.8; the others by the same division.
  Tensor<double> expected = {{{{0.0, 1.0}}}, {{{0.2, 0.4}}}, {{{128.0 / 255, 1.0 / 255}}}, {{{254.0 / 255, 0.8}}}};
  tg::test::require_close(db->images.value(), expected, 1e-15);
  Tensor<float> expected_f = xt::cast<float>(expected);
  tg::test::require_close(fb->images.value(), expected_f, 1e-7);
  CHECK(fb->images.value()(2, 0, 0, 0) == 128.0f / 255.0f);  // the same float division as torchvision
  CHECK(fb->labels == Labels{3, 1, 4, 1});
}

TEST_CASE("DataLoader keeps the order without shuffle and repeats a seeded order") {
  DataLoader<float> plain = indexed_loader(9, opts(4));
  std::vector<std::size_t> in_order(9);
  std::iota(in_order.begin(), in_order.end(), std::size_t(0));
  CHECK(epoch_indices(plain) == in_order);
  CHECK(epoch_indices(plain) == in_order);

  DataLoader<float> a = indexed_loader(100, opts(8, true, 42)), b = indexed_loader(100, opts(8, true, 42));
  DataLoader<float> c = indexed_loader(100, opts(8, true, 43));
  std::vector<std::size_t> a0 = epoch_indices(a), b0 = epoch_indices(b), c0 = epoch_indices(c);
  CHECK(a0 == b0);              // same seed, same order
  CHECK(a0 != c0);              // another seed, another order
  CHECK(a0 != std::vector<std::size_t>(a0.size()) /* not all zero */);
  std::vector<std::size_t> identity(100);
  std::iota(identity.begin(), identity.end(), std::size_t(0));
  CHECK(a0 != identity);        // actually shuffled

  std::vector<std::size_t> a1 = epoch_indices(a), b1 = epoch_indices(b);
  CHECK(a.epoch() == 2);
  CHECK(a1 == b1);
  CHECK(a1 != a0);              // a new order every epoch
  CHECK(a.order(0) == a0);
  CHECK(a.order(1) == a1);
  a.set_epoch(0);               // replay an epoch, e.g. when resuming
  CHECK(epoch_indices(a) == a0);
}

TEST_CASE("DataLoader visits every sample exactly once per epoch with its own image and label") {
  for (bool drop_last : {false, true}) {
    DataLoader<float> loader = indexed_loader(23, opts(5, true, 7, drop_last));
    for (int epoch = 0; epoch < 3; ++epoch) {
      std::vector<int> visits(23, 0);
      for (auto& batch : loader) {
        const Tensor<float>& x = batch.images.value();
        for (std::size_t k = 0; k < batch.size(); ++k) {
          const std::size_t i = batch.indices[k];
          ++visits.at(i);
          CHECK(batch.labels[k] == std::int64_t(i % 10));
          CHECK(x(k, 0, 2, 1) == float(i) / 255.0f);
          CHECK(x(k, 0, 0, 0) == float(i) / 255.0f);
        }
      }
      const auto once = std::count(visits.begin(), visits.end(), 1);
      CHECK(once == (drop_last ? 20 : 23));
      CHECK(std::count(visits.begin(), visits.end(), 0) == (drop_last ? 3 : 0));
    }
  }
}

TEST_CASE("DataLoader over an MNIST dataset shares its bytes and outlives it") {
  tg::test::TempDir dir;
  tg::test::write_raw(dir.file("train-images-idx3-ubyte"),
                      tg::test::idx_bytes(2051, {6, 28, 28}, tg::test::pattern_pixels(6, 28, 28)));
  tg::test::write_raw(dir.file("train-labels-idx1-ubyte"), tg::test::idx_bytes(2049, {6}, {5, 0, 4, 1, 9, 2}));
  DataLoader loader(MNIST(dir.str()), 4, true, 1);  // the dataset is a temporary; T defaults to float
  static_assert(std::is_same_v<decltype(loader), DataLoader<float>>);
  CHECK(loader.num_batches() == 2);
  for (auto& batch : loader) {
    REQUIRE(batch.images.shape()[1] == 1);
    CHECK(batch.images.shape() == Shape{batch.size(), 1, 28, 28});
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const std::size_t i = batch.indices[k];
      CHECK(batch.labels[k] == Labels{5, 0, 4, 1, 9, 2}[i]);
      CHECK(batch.images.value()(k, 0, 1, 3) == float((7 * i + 28 + 3) % 256) / 255.0f);
    }
  }
}

TEST_CASE("DataLoader rejects a zero batch size and arrays that do not match") {
  std::string msg = message_of<std::invalid_argument>([] { indexed_loader(4, opts(0)); });
  CHECK_THAT(msg, Contains("DataLoader") && Contains("batch_size") && Contains("0"));
  msg = message_of<std::invalid_argument>(
      [] { DataLoader<float>(std::vector<std::uint8_t>(11), Labels{1, 2}, 2, 3, DataLoaderOptions{}); });
  CHECK_THAT(msg, Contains("DataLoader") && Contains("2 x 2 x 3 = 12") && Contains("got 11"));
  msg = message_of<std::invalid_argument>(
      [] { DataLoader<float>(std::vector<std::uint8_t>{}, Labels{}, 0, 3, DataLoaderOptions{}); });
  CHECK_THAT(msg, Contains("0 x 3"));
}

TEST_CASE("DataLoader never overwrites images a caller still holds and reuses them otherwise") {
  DataLoader<float> loader = indexed_loader(12, opts(4));
  auto it = loader.begin();
  Variable<float> kept = it->images;  // a handle, as a recorded graph keeps one
  const Tensor<float> batch0 = kept.value();
  it->images.set_requires_grad(true);
  ++it;
  CHECK(bool(kept.value() == batch0));           // batch 0 untouched
  CHECK(it->indices == std::vector<std::size_t>{4, 5, 6, 7});
  CHECK(it->images.value()(0, 0, 0, 0) == 4.0f / 255.0f);
  CHECK_FALSE(it->images.requires_grad());       // a fresh Variable, whatever was done to the last one
  const float* buffer = it->images.value().data();
  ++it;                                          // nobody else holds batch 1: its buffer is reused
  CHECK(it->images.value().data() == buffer);
  CHECK(it->images.value()(3, 0, 2, 1) == 11.0f / 255.0f);
  CHECK(bool(kept.value() == batch0));
}
