// Replays every input in tests/fuzz/regressions/<target>/ (crashes the fuzzers found during
// development, plus hand-picked hostile files) through the reader: each must load or throw
// std::invalid_argument / std::runtime_error. Under the sanitizer build this also checks memory.
#include <catch2/catch.hpp>
#include <tapegrad/tapegrad.hpp>

#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_of(const std::string& target) {
  const fs::path folder = fs::path(TAPEGRAD_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / target;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().filename() != "README") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs `read`; a clean exception or a result is fine, anything else fails with the file's name.
template <class F>
void replay(const fs::path& file, F&& read) {
  INFO("input " << file.string());
  try {
    read(file.string());
    SUCCEED();
  } catch (const std::invalid_argument& e) {
    SUCCEED(e.what());
  } catch (const std::runtime_error& e) {
    SUCCEED(e.what());
  }
}

}  // namespace

TEST_CASE("every idx fuzzing regression input is read or refused cleanly") {
  const auto files = inputs_of("fuzz_idx");
  REQUIRE(!files.empty());
  for (const auto& file : files) {
    for (auto kind : {tg::data::IdxKind::any, tg::data::IdxKind::images, tg::data::IdxKind::labels}) {
      replay(file, [kind](const std::string& path) {
        tg::data::IdxFile idx = tg::data::read_idx(path, kind);
        std::size_t product = 1;
        for (std::size_t d : idx.dims) product *= d;
        REQUIRE(idx.bytes.size() == product);
      });
    }
  }
}

TEST_CASE("every npz fuzzing regression input is read or refused cleanly") {
  const auto files = inputs_of("fuzz_npz");
  REQUIRE(!files.empty());
  for (const auto& file : files) replay(file, [](const std::string& path) { tg::read_npz(path); });
}
