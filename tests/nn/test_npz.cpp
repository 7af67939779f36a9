// The .npz format: round trips, what numpy makes of our files and we of numpy's, atomic saves,
// and damaged files (every truncation, every flipped byte, forged length fields) giving clear errors.
#include "test_util.hpp"

#include "core/detail/npz_read.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace tg;
using tg::NpyArray;
using tg::test::message_of;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A fresh folder under /tmp, removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    // tmpfs where there is one: the damage tests write a few thousand small files.
    char tmpl[] = "/dev/shm/tapegrad_npz_XXXXXX";
    if (!fs::is_directory("/dev/shm")) std::strcpy(tmpl, "/tmp/tapegrad_npz_XXXXXX");
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

template <class T>
Tensor<T> ramp(const Shape& shape, double start, double step) {
  Tensor<T> t = Tensor<T>::from_shape(shape);
  double v = start;
  for (auto& e : t) { e = static_cast<T>(v); v += step; }
  return t;
}

template <class T>
void require_same(const NpyArray& a, const Tensor<T>& expected) {
  REQUIRE(a.dtype() == std::string(sizeof(T) == 4 ? "<f4" : "<f8"));
  const Tensor<T>& got = a.get<T>();
  REQUIRE(format_shape(got.shape()) == format_shape(expected.shape()));
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got.data()[i] == expected.data()[i]);
}

// The arrays of the round-trip tests: 2-d, 0-d, 3-d, empty.
std::vector<std::pair<std::string, Tensor<float>>> float_arrays() {
  return {{"0.weight", ramp<float>({2, 3}, -1.25, 0.5)},
          {"scalar", Tensor<float>(3.5f)},
          {"cube", ramp<float>({2, 3, 4}, 0.1, 0.37)},
          {"empty", Tensor<float>::from_shape({0, 3})}};
}

bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// Runs a Python script with numpy and returns what it printed.
std::string run_python(const TempDir& dir, const std::string& script) {
  spit(dir.file("script.py"), script);
  const std::string cmd = "/usr/bin/python3 " + dir.file("script.py") + " > " + dir.file("out.txt") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(slurp(dir.file("out.txt")));
  REQUIRE(rc == 0);
  return slurp(dir.file("out.txt"));
}

std::uint32_t get32(const std::string& s, std::size_t at) {
  return std::uint32_t(std::uint8_t(s[at])) | std::uint32_t(std::uint8_t(s[at + 1])) << 8 |
         std::uint32_t(std::uint8_t(s[at + 2])) << 16 | std::uint32_t(std::uint8_t(s[at + 3])) << 24;
}
void put32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
// Replaces `from` with `to` (padded with spaces to the same length) wherever it occurs; requires one place.
std::string patched(std::string s, const std::string& from, std::string to) {
  REQUIRE(to.size() <= from.size());
  to.resize(from.size(), ' ');
  std::size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  for (; at != std::string::npos; at = s.find(from, at + 1)) s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("npz: float and double arrays of any rank round-trip exactly") {
  TempDir dir;
  auto floats = float_arrays();
  write_npz(dir.file("f.npz"), floats);
  auto back = read_npz(dir.file("f.npz"));
  REQUIRE(back.size() == 4);
  for (auto& [name, t] : floats) {
    INFO(name);
    REQUIRE(back.count(name) == 1);
    require_same(back.at(name), t);
  }
  CHECK(back.at("scalar").shape().empty());
  CHECK(back.at("scalar").to<double>()() == 3.5);

  std::vector<std::pair<std::string, Tensor<double>>> doubles{{"pi", Tensor<double>(3.141592653589793)},
                                                              {"m", ramp<double>({3, 1, 2, 2}, 1e-300, 1.0 / 3)}};
  write_npz(dir.file("d.npz"), doubles);
  auto dback = read_npz(dir.file("d.npz"));
  require_same(dback.at("pi"), doubles[0].second);
  require_same(dback.at("m"), doubles[1].second);
  auto msg = message_of<std::invalid_argument>([&] { dback.at("m").get<float>(); });
  CHECK_THAT(msg, Contains("<f8") && Contains("<f4"));

  // Mixed dtypes in one archive; an empty archive is valid too.
  std::vector<std::pair<std::string, NpyArray>> mixed;
  mixed.emplace_back("f", NpyArray(ramp<float>({5}, 1, 1)));
  mixed.emplace_back("d", NpyArray(ramp<double>({2, 2}, -2, 0.25)));
  write_npz(dir.file("mixed.npz"), mixed);
  auto mback = read_npz(dir.file("mixed.npz"));
  CHECK(mback.at("f").is_float32());
  CHECK(mback.at("d").is_float64());
  require_same(mback.at("d"), ramp<double>({2, 2}, -2, 0.25));
  write_npz(dir.file("none.npz"), std::vector<std::pair<std::string, Tensor<float>>>{});
  CHECK(read_npz(dir.file("none.npz")).empty());
}

TEST_CASE("npz: the file is a zip of NPY 1.0 files with 64-byte aligned data") {
  TempDir dir;
  write_npz(dir.file("f.npz"), float_arrays());
  const std::string bytes = slurp(dir.file("f.npz"));
  CHECK(bytes.substr(0, 4) == std::string("PK\x03\x04", 4));
  // The first entry: local header (30 bytes) + "0.weight.npy", then the NPY preamble.
  const std::size_t npy = 30 + std::string("0.weight.npy").size();
  CHECK(bytes.substr(30, 12) == "0.weight.npy");
  CHECK(bytes.substr(npy, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_len = std::uint8_t(bytes[npy + 8]) | std::uint8_t(bytes[npy + 9]) << 8;
  CHECK((10 + header_len) % 64 == 0);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(bytes.substr(npy + 10, dict.size()) == dict);
  CHECK(bytes[npy + 10 + header_len - 1] == '\n');
  CHECK(bytes.find("'shape': (), }") != std::string::npos);
  CHECK(bytes.find("'shape': (0, 3), }") != std::string::npos);
  // The end of central directory record says 4 entries.
  CHECK(bytes.substr(bytes.size() - 22, 4) == std::string("PK\x05\x06", 4));
  CHECK(bytes[bytes.size() - 12] == 4);
}

TEST_CASE("npz: numpy.load reads our files (skipped without numpy)") {
  if (!have_numpy()) {
    WARN("numpy is not available to /usr/bin/python3: skipped");
    return;
  }
  TempDir dir;
  write_npz(dir.file("f.npz"), float_arrays());
  write_npz(dir.file("d.npz"), std::vector<std::pair<std::string, Tensor<double>>>{
                                       {"layer.0.bias", ramp<double>({3}, 0.1, 0.2)}});
  const std::string out = run_python(dir, R"(
import sys, zipfile, numpy as np
for path in [')" + dir.file("f.npz") + "', '" + dir.file("d.npz") + R"(']:
    assert zipfile.ZipFile(path).testzip() is None   # checks every CRC
    with np.load(path) as z:
        for name in sorted(z.files):
            a = z[name]
            print(name, a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'], ' '.join(repr(float(x)) for x in a.ravel()))
)");
  std::istringstream lines(out);
  std::string line;
  std::vector<std::string> got;
  while (std::getline(lines, line)) got.push_back(line);
  REQUIRE(got.size() == 5);
  CHECK(got[0] == "0.weight <f4 (2, 3) True -1.25 -0.75 -0.25 0.25 0.75 1.25");
  CHECK(got[1].rfind("cube <f4 (2, 3, 4) True 0.10000000149011612 0.4699999988079071", 0) == 0);
  CHECK(got[2] == "empty <f4 (0, 3) True ");
  CHECK(got[3] == "scalar <f4 () True 3.5");
  CHECK(got[4] == "layer.0.bias <f8 (3,) True 0.1 0.30000000000000004 0.5");
  // Every value of the cube, parsed back.
  std::istringstream cube(got[1].substr(got[1].find("True") + 5));
  Tensor<float> expected = ramp<float>({2, 3, 4}, 0.1, 0.37);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double v;
    REQUIRE(cube >> v);
    CHECK(static_cast<float>(v) == expected.data()[i]);
  }
}

TEST_CASE("npz: we read what numpy.savez and savez_compressed write (skipped without numpy)") {
  if (!have_numpy()) {
    WARN("numpy is not available to /usr/bin/python3: skipped");
    return;
  }
  TempDir dir;
  run_python(dir, "import numpy as np\n"
                  "a = np.arange(12, dtype=np.float32).reshape(3, 4) / 8\n"
                  "b = np.arange(7) / 4 - 1\n"
                  "c = np.float64(2.5)\n"
                  "d = np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, ::-1, :]  # saved in C order\n"
                  "np.savez('" + dir.file("plain.npz") + "', a=a, b=b, c=c, d=d)\n"
                  "np.savez_compressed('" + dir.file("packed.npz") + "', a=a, b=b, c=c, d=d, z=np.zeros(100000))\n"
                  "np.savez('" + dir.file("ints.npz") + "', i=np.arange(3))\n"
                  "np.savez('" + dir.file("fortran.npz") + "', f=np.asfortranarray(a))\n"
                  "np.savez('" + dir.file("big.npz") + "', x=np.zeros(3, dtype='>f8'))\n");
  for (const char* file : {"plain.npz", "packed.npz"}) {
    INFO(file);
    auto z = read_npz(dir.file(file));
    require_same(z.at("a"), Tensor<float>(ramp<float>({3, 4}, 0, 0.125)));
    require_same(z.at("b"), Tensor<double>(ramp<double>({7}, -1, 0.25)));
    require_same(z.at("c"), Tensor<double>(2.5));
    const Tensor<float>& d = z.at("d").get<float>();
    CHECK(d(0, 0, 0) == 8.0f);  // row 2 of the first block comes first
    CHECK(d(1, 2, 3) == 15.0f);
  }
  CHECK(read_npz(dir.file("packed.npz")).at("z").shape() == Shape{100000});
  auto msg = message_of<std::invalid_argument>([&] { read_npz(dir.file("ints.npz")); });
  CHECK_THAT(msg, Contains("ints.npz") && Contains("i.npy") && Contains("'<i8'"));
  msg = message_of<std::invalid_argument>([&] { read_npz(dir.file("fortran.npz")); });
  CHECK_THAT(msg, Contains("fortran.npz") && Contains("Fortran"));
  msg = message_of<std::invalid_argument>([&] { read_npz(dir.file("big.npz")); });
  CHECK_THAT(msg, Contains("big.npz") && Contains("'>f8'"));
}

TEST_CASE("npz: a failed save leaves the previous file intact and no partial file") {
  TempDir dir;
  const std::string path = dir.file("model.npz");
  write_npz(path, float_arrays());
  const std::string before = slurp(path);

  // The disk "fills up" half way: writes past 64 KiB fail (EFBIG) while a 400 KB array is written.
  {
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 64 * 1024;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string msg;
    try {
      write_npz(path, std::vector<std::pair<std::string, Tensor<float>>>{{"big", xt::ones<float>({100000})}});
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    CHECK_THAT(msg, Contains("write_npz") && Contains("model.npz") && Contains("File too large"));
  }
  CHECK(slurp(path) == before);
  CHECK(dir.listing() == std::vector<std::string>{"model.npz"});

  // A folder that does not exist.
  auto msg = message_of<std::runtime_error>([&] { write_npz(dir.file("missing/m.npz"), float_arrays()); });
  CHECK_THAT(msg, Contains("write_npz") && Contains("missing/m.npz") && Contains("No such file"));
  // The target is a folder: the rename at the very end fails, the temporary file is removed.
  fs::create_directory(dir.file("folder.npz"));
  msg = message_of<std::runtime_error>([&] { write_npz(dir.file("folder.npz"), float_arrays()); });
  CHECK_THAT(msg, Contains("write_npz") && Contains("folder.npz") && Contains("renaming"));
  CHECK(dir.listing() == std::vector<std::string>{"folder.npz", "model.npz"});
  // An unwritable folder (root ignores permissions, so only checked for other users).
  if (::geteuid() != 0) {
    fs::create_directory(dir.file("locked"));
    fs::permissions(dir.file("locked"), fs::perms::owner_read | fs::perms::owner_exec);
    msg = message_of<std::runtime_error>([&] { write_npz(dir.file("locked/m.npz"), float_arrays()); });
    CHECK_THAT(msg, Contains("locked/m.npz") && Contains("Permission denied"));
  }
  // Bad names are refused before any file is made.
  msg = message_of<std::invalid_argument>([&] {
    write_npz(path, std::vector<std::pair<std::string, Tensor<float>>>{{"a", Tensor<float>(1.f)}, {"a", Tensor<float>(2.f)}});
  });
  CHECK_THAT(msg, Contains("write_npz") && Contains("model.npz") && Contains("'a' appears twice"));
  msg = message_of<std::invalid_argument>([&] {
    write_npz(path, std::vector<std::pair<std::string, Tensor<float>>>{{"", Tensor<float>(1.f)}});
  });
  CHECK_THAT(msg, Contains("non-empty"));
  CHECK(slurp(path) == before);
  CHECK(dir.listing() == std::vector<std::string>{"folder.npz", "model.npz"});
}

TEST_CASE("npz: missing or truncated or non-zip files give clear errors") {
  TempDir dir;
  auto msg = message_of<std::runtime_error>([&] { read_npz(dir.file("nope.npz")); });
  CHECK_THAT(msg, Contains("read_npz") && Contains("nope.npz") && Contains("No such file"));
  msg = message_of<std::runtime_error>([&] { read_npz(dir.path.string()); });
  CHECK_THAT(msg, Contains("not a regular file"));
  spit(dir.file("text.npz"), "hello, this is not a zip archive at all, but it is long enough to look at");
  msg = message_of<std::invalid_argument>([&] { read_npz(dir.file("text.npz")); });
  CHECK_THAT(msg, Contains("read_npz") && Contains("text.npz") && Contains("not a zip archive"));

  write_npz(dir.file("f.npz"), float_arrays());
  const std::string good = slurp(dir.file("f.npz"));
  for (std::size_t len = 0; len < good.size(); ++len) {
    spit(dir.file("cut.npz"), good.substr(0, len));
    INFO("truncated to " << len << " of " << good.size() << " bytes");
    msg = message_of<std::invalid_argument>([&] { read_npz(dir.file("cut.npz")); });
    CHECK_THAT(msg, Contains("cut.npz"));
  }
}

TEST_CASE("npz: every flipped byte is caught or harmless and random damage never crashes") {
  TempDir dir;
  auto arrays = float_arrays();
  write_npz(dir.file("f.npz"), arrays);
  const std::string good = slurp(dir.file("f.npz"));
  std::size_t caught = 0;
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    spit(dir.file("bad.npz"), bad);
    INFO("byte " << at << " flipped");
    try {
      auto back = read_npz(dir.file("bad.npz"));
      // Only bytes nothing depends on (dates, attributes, the local copies of sizes and CRC) may pass,
      // and then the arrays must be intact.
      REQUIRE(back.size() == arrays.size());
      for (auto& [name, t] : arrays) require_same(back.at(name), t);
    } catch (const std::invalid_argument& e) {
      ++caught;
      CHECK_THAT(e.what(), Contains("bad.npz"));
    }
  }
  CHECK(caught > good.size() * 3 / 4);

  Generator gen(5);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = good.substr(0, good.size() - static_cast<std::size_t>(gen.uniform(0, 3)) * 7);
    const int flips = 1 + static_cast<int>(gen.uniform(0, 4));
    for (int f = 0; f < flips; ++f) {
      bad[static_cast<std::size_t>(gen.uniform(0, static_cast<double>(bad.size())))] = static_cast<char>(gen.next());
    }
    spit(dir.file("bad.npz"), bad);
    try {
      read_npz(dir.file("bad.npz"));
    } catch (const std::invalid_argument&) {
    }
  }
}

TEST_CASE("npz: forged length fields and headers are refused before allocating") {
  TempDir dir;
  write_npz(dir.file("f.npz"), std::vector<std::pair<std::string, Tensor<float>>>{{"w", ramp<float>({2, 3}, 0, 1)}});
  const std::string good = slurp(dir.file("f.npz"));
  auto error_for = [&](const std::string& bytes) {
    spit(dir.file("forged.npz"), bytes);
    return message_of<std::invalid_argument>([&] { read_npz(dir.file("forged.npz")); });
  };
  const std::size_t cd = good.find("PK\x01\x02");
  REQUIRE(cd != std::string::npos);

  // The zip structure, which libzip checks: the end record, the central directory and the local
  // headers must agree, and the entries lie inside the file.
  std::string bad = good;  // an entry claiming almost 4 GiB
  put32(bad, cd + 20, 0xfffffff0u);
  put32(bad, cd + 24, 0xfffffff0u);
  CHECK_THAT(error_for(bad), Contains("forged.npz") && Contains("entries outside the file"));
  bad = good;  // a size that disagrees with the local header's
  put32(bad, cd + 24, get32(good, cd + 24) + 1);
  CHECK_THAT(error_for(bad), Contains("damaged zip structure"));
  bad = good;  // a local header offset pointing past the data
  put32(bad, cd + 42, 0x7fffffffu);
  CHECK_THAT(error_for(bad), Contains("entries outside the file"));
  bad = good;  // 65000 entries in a directory of one
  bad[good.size() - 12] = static_cast<char>(0xe8);
  bad[good.size() - 11] = static_cast<char>(0xfd);
  bad[good.size() - 14] = bad[good.size() - 12];
  bad[good.size() - 13] = bad[good.size() - 11];
  CHECK_THAT(error_for(bad), Contains("damaged zip structure"));
  bad = good;  // a central directory said to start beyond the end
  put32(bad, good.size() - 6, 0x10000000u);
  CHECK_THAT(error_for(bad), Contains("damaged zip structure"));

  // What a consistent zip may hold but an .npz must not: the same forgery in the local header (at
  // `at`) and in the central directory, where each field sits 2 bytes further on.
  auto forged = [&](std::size_t at, std::uint32_t value, bool wide) {
    std::string s = good;
    for (std::size_t field : {at, cd + at + 2}) {
      if (wide) put32(s, field, value);
      else for (int i = 0; i < 2; ++i) s[field + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
    return error_for(s);
  };
  const std::uint32_t size = get32(good, cd + 24);
  CHECK_THAT(forged(22, size + 1, true), Contains("stored entry 'w.npy' has compressed size") && Contains("but size"));
  CHECK_THAT(forged(6, 1, false), Contains("entry 'w.npy' is encrypted"));
  CHECK_THAT(forged(8, 12, false), Contains("entry 'w.npy' uses compression method 12"));
  std::string deflate_bomb = good;  // a deflated entry claiming 2 GiB from a few bytes
  for (std::size_t at : {std::size_t(8), cd + 10}) deflate_bomb[at] = 8;
  for (std::size_t at : {std::size_t(22), cd + 24}) put32(deflate_bomb, at, 0x7fffffffu);
  CHECK_THAT(error_for(deflate_bomb), Contains("entry 'w.npy' claims 2147483647 bytes from"));

  // NPY headers (the CRC would catch these too, but the header is checked first).
  CHECK_THAT(error_for(patched(good, "(2, 3), }", "(2, 4), }")),
             Contains("w.npy") && Contains("(2, 4)") && Contains("needs 32 bytes") && Contains("holds 24"));
  CHECK_THAT(error_for(patched(good, "(2, 3), }" + std::string(30, ' '), "(99999999999, 99999999999), }")), Contains("overflows"));
  CHECK_THAT(error_for(patched(good, "'<f4'", "'<i4'")), Contains("unsupported dtype '<i4'"));
  CHECK_THAT(error_for(patched(good, "False", "True ")), Contains("Fortran"));
  CHECK_THAT(error_for(patched(good, "'descr'", "'dtype'")), Contains("unexpected or repeated key 'dtype'"));
  CHECK_THAT(error_for(patched(good, "NUMPY", "NUMPZ")), Contains("bad magic"));
  CHECK_THAT(error_for(patched(good, std::string("NUMPY\x01", 6), std::string("NUMPY\x07", 6))),
             Contains("version 7.0"));
  // A changed value: only the CRC can tell.
  std::string data_flip = good;
  data_flip[cd - 1] = static_cast<char>(data_flip[cd - 1] ^ 1);
  CHECK_THAT(error_for(data_flip), Contains("w.npy") && Contains("CRC mismatch"));
  // An entry that is not an array, and one listed twice.
  CHECK_THAT(error_for(patched(good, "w.npy", "w.txt")), Contains("'w.txt' is not an .npy array"));

  std::string two = slurp(dir.file("f.npz"));
  write_npz(dir.file("two.npz"), std::vector<std::pair<std::string, Tensor<float>>>{{"a", Tensor<float>(1.f)},
                                                                                          {"b", Tensor<float>(1.f)}});
  CHECK_THAT(error_for(patched(slurp(dir.file("two.npz")), "b.npy", "a.npy")), Contains("appears twice"));
}

TEST_CASE("npz: a zip64 archive, as numpy writes past 4 GiB, loads") {
  // tests/nn/fixtures/zip64.npz was written by make_zip64_npz.py beside it (Python's zipfile,
  // force_zip64=True, zip64 sizes and offsets in the central directory, zip64 end records).
  const std::string path = std::string(TAPEGRAD_SOURCE_DIR) + "/tests/nn/fixtures/zip64.npz";
  const std::string bytes = slurp(path);
  REQUIRE(bytes.find(std::string("PK\x06\x06", 4)) != std::string::npos);  // zip64 end of central directory
  REQUIRE(bytes.find(std::string("PK\x06\x07", 4)) != std::string::npos);  // and its locator
  auto z = read_npz(path);
  REQUIRE(z.size() == 2);
  Tensor<float> f32 = Tensor<float>::from_shape({2, 3});
  f32 = {{-0.5f, -0.25f, 0.f}, {0.25f, 0.5f, 0.75f}};
  require_same(z.at("f32"), f32);
  Tensor<double> f64 = Tensor<double>::from_shape({4});
  f64 = {1.0 / 3, -2.5e-300, 1e300, 0.1};
  require_same(z.at("f64"), f64);
}

TEST_CASE("npz: more than 65535 arrays are written with zip64 records and read back") {
  constexpr std::size_t kCount = 65536 + 100;
  TempDir dir;
  std::vector<std::pair<std::string, Tensor<float>>> arrays;
  arrays.reserve(kCount);
  for (std::size_t i = 0; i < kCount; ++i) arrays.emplace_back(std::to_string(i), Tensor<float>(static_cast<float>(i)));
  write_npz(dir.file("many.npz"), arrays);
  const std::string bytes = slurp(dir.file("many.npz"));
  CHECK(bytes.find(std::string("PK\x06\x06", 4)) != std::string::npos);
  auto back = read_npz(dir.file("many.npz"));
  REQUIRE(back.size() == kCount);
  CHECK(back.at("0").get<float>()() == 0.f);
  CHECK(back.at("65535").get<float>()() == 65535.f);
  CHECK(back.at(std::to_string(kCount - 1)).get<float>()() == static_cast<float>(kCount - 1));
  if (!have_numpy()) return;
  const std::string out = run_python(dir, "import numpy as np\n"
                                          "with np.load('" + dir.file("many.npz") + "') as z:\n"
                                          "    print(len(z.files), float(z['65599']))\n");
  CHECK(out == "65636 65599.0\n");
}

TEST_CASE("npz: the same arrays make the same bytes, and array names are UTF-8") {
  TempDir dir;
  write_npz(dir.file("a.npz"), float_arrays());
  write_npz(dir.file("b.npz"), float_arrays());
  CHECK(slurp(dir.file("a.npz")) == slurp(dir.file("b.npz")));

  const std::string name = "gr\xc3\xb6\xc3\x9f" "e";  // "größe"
  write_npz(dir.file("utf8.npz"), std::vector<std::pair<std::string, Tensor<float>>>{{name, Tensor<float>(2.f)}});
  CHECK(read_npz(dir.file("utf8.npz")).at(name).get<float>()() == 2.f);
  if (have_numpy()) {
    const std::string out = run_python(dir, "import numpy as np\n"
                                            "with np.load('" + dir.file("utf8.npz") + "') as z:\n"
                                            "    print(ascii(z.files), float(z['gr\\xf6\\xdfe']))\n");
    CHECK(out == "['gr\\xf6\\xdfe'] 2.0\n");
  }
  auto msg = message_of<std::invalid_argument>([&] {
    write_npz(dir.file("latin1.npz"), std::vector<std::pair<std::string, Tensor<float>>>{{"gr\xf6\xdf" "e", Tensor<float>(1.f)}});
  });
  CHECK_THAT(msg, Contains("write_npz") && Contains("latin1.npz") && Contains("not valid UTF-8"));
  for (const std::string& file : dir.listing()) CHECK(file.find("latin1") == std::string::npos);
}

TEST_CASE("npz: the in-memory reader (the fuzzer's) reads and refuses exactly as read_npz") {
  TempDir dir;
  write_npz(dir.file("f.npz"), float_arrays());
  const std::string good = slurp(dir.file("f.npz"));
  auto back = detail::read_npz_memory(good.data(), good.size(), "memory.npz");
  REQUIRE(back.size() == 4);
  for (auto& [name, t] : float_arrays()) require_same(back.at(name), t);

  std::string bad = good;
  bad[good.find('\n', good.find("'shape': (2, 3), }")) + 1] ^= 1;  // a data byte: only the CRC can tell
  spit(dir.file("bad.npz"), bad);
  const std::string from_file = message_of<std::invalid_argument>([&] { read_npz(dir.file("bad.npz")); });
  const std::string from_memory = message_of<std::invalid_argument>([&] {
    detail::read_npz_memory(bad.data(), bad.size(), dir.file("bad.npz"));
  });
  CHECK_THAT(from_memory, Contains("CRC mismatch"));
  CHECK(from_memory == from_file);
  CHECK_THAT(message_of<std::invalid_argument>([&] { detail::read_npz_memory(nullptr, 0, "empty.npz"); }),
             Contains("empty.npz") && Contains("not a zip archive (only 0 bytes)"));
}
