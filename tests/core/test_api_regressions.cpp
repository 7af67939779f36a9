// Replays every input in tests/fuzz/regressions/fuzz_api/ (programs of API calls that made the
// fuzzer find a bug, fixed since, and hand-written ones) through the fuzzer's own interpreter:
// each must run to its end, every call succeeding or refused with std::invalid_argument,
// std::logic_error or std::runtime_error. Under the sanitizer build this also checks memory.
#include "../fuzz/api_program.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

TEST_CASE("every fuzz_api regression input runs to its end with only documented exceptions") {
  const fs::path folder = fs::path(TAPEGRAD_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / "fuzz_api";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().filename() != "README") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());
  for (const auto& file : files) {
    INFO("input " << file.string());
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    REQUIRE_NOTHROW(tg::fuzz::run_api_program(bytes.data(), bytes.size()));
  }
}
