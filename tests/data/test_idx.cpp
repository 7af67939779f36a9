// read_idx on small idx files written by the tests, raw and gzip, good and broken.
#include "synthetic.hpp"
#include "test_util.hpp"

#include "data/detail/idx_memory.hpp"

using namespace tg;
using namespace tg::data;
using Catch::Matchers::Contains;
using tg::test::message_of;

namespace {

const std::vector<std::uint8_t> kPixels = tg::test::pattern_pixels(3, 4, 5);  // 3 images of 4 x 5
const std::vector<std::uint8_t> kLabelBytes = {7, 0, 9};

std::vector<std::uint8_t> images_file(const std::vector<std::uint8_t>& data = kPixels) {
  return tg::test::idx_bytes(2051, {3, 4, 5}, data);
}

}  // namespace

TEST_CASE("read_idx reads a raw images file and a raw labels file") {
  tg::test::TempDir dir;
  tg::test::write_raw(dir.file("img"), images_file());
  IdxFile f = read_idx(dir.file("img"), IdxKind::images);
  CHECK(f.magic == 2051u);
  CHECK(f.dims == std::vector<std::size_t>{3, 4, 5});
  CHECK(f.count() == 3);
  CHECK(f.item_size() == 20);
  CHECK_FALSE(f.gzip);
  CHECK(f.path == dir.file("img"));
  CHECK(f.bytes == kPixels);

  tg::test::write_raw(dir.file("lab"), tg::test::idx_bytes(2049, {3}, kLabelBytes));
  IdxFile l = read_idx(dir.file("lab"), IdxKind::labels);
  CHECK(l.magic == 2049u);
  CHECK(l.dims == std::vector<std::size_t>{3});
  CHECK(l.item_size() == 1);
  CHECK(l.bytes == kLabelBytes);
}

TEST_CASE("read_idx reads gzip files recognised by their magic bytes and not by their name") {
  tg::test::TempDir dir;
  tg::test::write_gz(dir.file("img.gz"), images_file());
  tg::test::write_gz(dir.file("img_no_suffix"), images_file());
  tg::test::write_raw(dir.file("raw_named.gz"), images_file());
  REQUIRE(is_gzip_file(dir.file("img.gz")));
  REQUIRE(is_gzip_file(dir.file("img_no_suffix")));
  REQUIRE_FALSE(is_gzip_file(dir.file("raw_named.gz")));
  for (const char* name : {"img.gz", "img_no_suffix", "raw_named.gz"}) {
    INFO(name);
    IdxFile f = read_idx(dir.file(name), IdxKind::images);
    CHECK(f.gzip == is_gzip_file(dir.file(name)));
    CHECK(f.dims == std::vector<std::size_t>{3, 4, 5});
    CHECK(f.bytes == kPixels);
  }
  tg::test::write_gz(dir.file("lab.gz"), tg::test::idx_bytes(2049, {3}, kLabelBytes));
  CHECK(read_idx(dir.file("lab.gz"), IdxKind::labels).bytes == kLabelBytes);
}

TEST_CASE("read_idx accepts any unsigned-byte idx file when asked for any kind") {
  tg::test::TempDir dir;
  tg::test::write_raw(dir.file("m"), tg::test::idx_bytes(0x0802, {2, 3}, {1, 2, 3, 4, 5, 6}));
  IdxFile f = read_idx(dir.file("m"));
  CHECK(f.dims == std::vector<std::size_t>{2, 3});
  CHECK(f.bytes == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6});
  // ... but not as images or labels.
  std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("m"), IdxKind::images); });
  CHECK_THAT(msg, Contains("read_idx") && Contains(dir.file("m")) && Contains("magic number 2050") && Contains("2051"));
  msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("m"), IdxKind::labels); });
  CHECK_THAT(msg, Contains("magic number 2050") && Contains("2049"));
}

TEST_CASE("read_idx rejects a wrong magic number naming the file and the number") {
  tg::test::TempDir dir;
  const std::string path = dir.file("train-images-idx3-ubyte");
  tg::test::write_raw(path, tg::test::idx_bytes(2052, {3, 4, 5, 1}, kPixels));
  std::string msg = message_of<std::invalid_argument>([&] { read_idx(path, IdxKind::images); });
  CHECK_THAT(msg, Contains("read_idx: " + path + ": magic number 2052") && Contains("expected 2051"));

  SECTION("a labels file where images are expected says so") {
    tg::test::write_raw(path, tg::test::idx_bytes(2049, {3}, kLabelBytes));
    msg = message_of<std::invalid_argument>([&] { read_idx(path, IdxKind::images); });
    CHECK_THAT(msg, Contains(path) && Contains("magic number 2049") && Contains("labels file"));
  }
  SECTION("bytes that are no idx header at all") {
    tg::test::write_raw(path, {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0});
    msg = message_of<std::invalid_argument>([&] { read_idx(path); });
    CHECK_THAT(msg, Contains(path) && Contains("magic number 305419896") && Contains("0x12345678"));
  }
  SECTION("an idx file of float32 elements") {
    tg::test::write_raw(path, tg::test::idx_bytes(0x0D01, {1}, {0, 0, 0, 0}));
    msg = message_of<std::invalid_argument>([&] { read_idx(path); });
    CHECK_THAT(msg, Contains(path) && Contains("3329") && Contains("0x0d") && Contains("float32"));
  }
}

TEST_CASE("read_idx rejects a truncated file before reading the data") {
  tg::test::TempDir dir;
  std::vector<std::uint8_t> short_data(kPixels.begin(), kPixels.begin() + 50);
  tg::test::write_raw(dir.file("raw"), images_file(short_data));
  tg::test::write_gz(dir.file("gz"), images_file(short_data));
  for (const char* name : {"raw", "gz"}) {
    INFO(name);
    std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file(name), IdxKind::images); });
    CHECK_THAT(msg, Contains("read_idx: " + dir.file(name)) && Contains("header says 3 x 4 x 5 = 60 bytes of data") &&
                        Contains("holds 50 after its 16-byte header (truncated)"));
  }
}

TEST_CASE("read_idx refuses a header claiming far more data than the file holds") {
  tg::test::TempDir dir;
  // MNIST's header over 1000 bytes: refused from the file size, nothing near 47 MB is allocated.
  tg::test::write_raw(dir.file("raw"), tg::test::idx_bytes(2051, {60000, 28, 28}, std::vector<std::uint8_t>(1000)));
  std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("raw"), IdxKind::images); });
  CHECK_THAT(msg, Contains(dir.file("raw")) && Contains("60000 x 28 x 28 = 47040000 bytes of data") &&
                      Contains("holds 1000"));
  // A tiny gzip file cannot inflate to 47 MB (deflate's ratio is at most about 1032:1).
  tg::test::write_gz(dir.file("gz"), tg::test::idx_bytes(2051, {60000, 28, 28}, std::vector<std::uint8_t>(10)));
  msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("gz"), IdxKind::images); });
  CHECK_THAT(msg, Contains(dir.file("gz")) && Contains("47040000") && Contains("gzip file of") &&
                      Contains("cannot hold more than"));
  // Claims beyond 2 GiB are refused outright.
  tg::test::write_raw(dir.file("huge"), tg::test::idx_bytes(2051, {4000000000u, 28, 28}, {}));
  msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("huge"), IdxKind::images); });
  CHECK_THAT(msg, Contains(dir.file("huge")) && Contains("4000000000 x 28 x 28") && Contains("2 GiB"));
}

TEST_CASE("read_idx rejects trailing bytes after the data") {
  tg::test::TempDir dir;
  std::vector<std::uint8_t> long_data = kPixels;
  long_data.insert(long_data.end(), {1, 2, 3, 4, 5});
  tg::test::write_raw(dir.file("raw"), images_file(long_data));
  tg::test::write_gz(dir.file("gz"), images_file(long_data));
  for (const char* name : {"raw", "gz"}) {
    INFO(name);
    std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file(name), IdxKind::images); });
    CHECK_THAT(msg, Contains(dir.file(name)) && Contains("3 x 4 x 5 = 60 bytes") && Contains("holds 65") &&
                        Contains("5 trailing bytes"));
  }
}

TEST_CASE("read_idx rejects wrong dimensions and headers cut short") {
  tg::test::TempDir dir;
  SECTION("a zero image dimension") {
    tg::test::write_raw(dir.file("f"), tg::test::idx_bytes(2051, {2, 0, 28}, {}));
    std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("f"), IdxKind::images); });
    CHECK_THAT(msg, Contains(dir.file("f")) && Contains("dimension 1 of 2 x 0 x 28 is 0"));
  }
  SECTION("a header that declares 3 dimensions but ends after 2") {
    std::vector<std::uint8_t> bytes = tg::test::idx_bytes(2051, {3, 4}, {});
    tg::test::write_raw(dir.file("f"), bytes);
    tg::test::write_gz(dir.file("f.gz"), bytes);
    for (const char* name : {"f", "f.gz"}) {
      std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file(name), IdxKind::images); });
      CHECK_THAT(msg, Contains(dir.file(name)) && Contains("declares 3 dimensions (16 bytes)") &&
                          Contains("ends after 12 bytes"));
    }
  }
  SECTION("an empty file") {
    tg::test::write_raw(dir.file("f"), {});
    std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("f")); });
    CHECK_THAT(msg, Contains(dir.file("f")) && Contains("0 bytes long, too short"));
  }
}

TEST_CASE("read_idx rejects a corrupt or cut gzip stream") {
  tg::test::TempDir dir;
  tg::test::write_gz(dir.file("good.gz"), images_file());
  std::vector<std::uint8_t> gz = tg::test::read_all(dir.file("good.gz"));
  REQUIRE(gz.size() > 30);

  std::vector<std::uint8_t> cut(gz.begin(), gz.begin() + gz.size() / 2);
  tg::test::write_raw(dir.file("cut.gz"), cut);
  std::string msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("cut.gz"), IdxKind::images); });
  CHECK_THAT(msg, Contains(dir.file("cut.gz")) && Contains("truncated"));

  std::vector<std::uint8_t> garbage = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  tg::test::write_raw(dir.file("bad.gz"), garbage);
  msg = message_of<std::invalid_argument>([&] { read_idx(dir.file("bad.gz"), IdxKind::images); });
  CHECK_THAT(msg, Contains(dir.file("bad.gz")) && Contains("gzip"));
}

TEST_CASE("read_idx reports a missing file or a directory as an I/O error") {
  tg::test::TempDir dir;
  const std::string missing = dir.file("nope-idx3-ubyte");
  std::string msg = message_of<std::runtime_error>([&] { read_idx(missing); });
  CHECK_THAT(msg, Contains("read_idx: " + missing) && Contains("no such file"));
  msg = message_of<std::runtime_error>([&] { read_idx(dir.str()); });
  CHECK_THAT(msg, Contains(dir.str()) && Contains("directory"));
}

TEST_CASE("read_idx reads a gzip file of two members, as gunzip does") {
  tg::test::TempDir dir;
  tg::test::write_gz(dir.file("a.gz"), tg::test::idx_bytes(2051, {3, 4, 5}, {}));
  tg::test::write_gz(dir.file("b.gz"), kPixels);
  std::vector<std::uint8_t> both = tg::test::read_all(dir.file("a.gz"));
  const std::vector<std::uint8_t> second = tg::test::read_all(dir.file("b.gz"));
  both.insert(both.end(), second.begin(), second.end());
  tg::test::write_raw(dir.file("ab.gz"), both);
  IdxFile f = read_idx(dir.file("ab.gz"), IdxKind::images);
  CHECK(f.gzip);
  CHECK(f.bytes == kPixels);
}

TEST_CASE("read_idx from memory gives what the same bytes give from a file") {
  tg::test::TempDir dir;
  tg::test::write_gz(dir.file("good.gz"), images_file());
  const std::vector<std::uint8_t> gz = tg::test::read_all(dir.file("good.gz"));
  const std::vector<std::uint8_t> raw = images_file();
  CHECK(tg::detail::read_idx_memory(raw.data(), raw.size(), "raw", IdxKind::images).bytes == kPixels);
  IdxFile inflated = tg::detail::read_idx_memory(gz.data(), gz.size(), "gz", IdxKind::images);
  CHECK(inflated.gzip);
  CHECK(inflated.bytes == kPixels);
  // A cut stream and a short raw buffer fail with the file's messages, naming the buffer.
  std::string msg = message_of<std::invalid_argument>(
      [&] { tg::detail::read_idx_memory(gz.data(), gz.size() / 2, "cut buffer", IdxKind::images); });
  CHECK_THAT(msg, Contains("read_idx: cut buffer") && Contains("truncated"));
  msg = message_of<std::invalid_argument>([&] { tg::detail::read_idx_memory(raw.data(), 30, "short", IdxKind::images); });
  CHECK_THAT(msg, Contains("read_idx: short") && Contains("holds 14 after its 16-byte header (truncated)"));
}
