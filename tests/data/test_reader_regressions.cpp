// Replays every input in tests/fuzz/regressions/<target>/ (crashes the fuzzers found during
// development, plus hand-picked hostile files) through the reader: each must load or throw
// std::invalid_argument / std::runtime_error. Each npz input has its expected outcome in a table.
// Under the sanitizer build this also checks memory.
#include <catch2/catch.hpp>
#include <tapegrad/tapegrad.hpp>

#include <filesystem>
#include <map>
#include <set>
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

namespace {

enum class Outcome { loads, invalid_argument, runtime_error };

struct Expected {
  Outcome outcome;
  std::string message_part;  // for a refusal: a distinctive part of the message
};

// What read_npz makes of each file in tests/fuzz/regressions/fuzz_npz/. A file added there needs
// a line here (the test fails until it has one), and a line needs its file.
const std::map<std::string, Expected>& npz_expectations() {
  static const std::map<std::string, Expected> table{
      {"hostile-bad_crc.npz", {Outcome::invalid_argument, "entry 'a.npy': CRC mismatch"}},
      {"hostile-big_shape.npz", {Outcome::invalid_argument, "shape (9999999999, 3) needs 119999999988 bytes"}},
      {"hostile-not_npy.npz", {Outcome::invalid_argument, "entry 'x.npy': not an NPY file (bad magic)"}},
      {"hostile-overlap.npz", {Outcome::invalid_argument, "entry 'b.npy' has 384 bytes of data but the entries before it"}},
      {"hostile-truncated.npz", {Outcome::invalid_argument, "not a zip archive"}},
  };
  return table;
}

// What reading `path` did: the outcome and, for an exception, its message.
std::pair<Outcome, std::string> outcome_of(const std::string& path) {
  try {
    tg::read_npz(path);
    return {Outcome::loads, ""};
  } catch (const std::invalid_argument& e) {
    return {Outcome::invalid_argument, e.what()};
  } catch (const std::runtime_error& e) {
    return {Outcome::runtime_error, e.what()};
  }
}

const char* name_of(Outcome outcome) {
  switch (outcome) {
    case Outcome::loads: return "loads";
    case Outcome::invalid_argument: return "std::invalid_argument";
    case Outcome::runtime_error: return "std::runtime_error";
  }
  return "?";
}

}  // namespace

TEST_CASE("every npz fuzzing regression input is read or refused as its table line says") {
  const auto files = inputs_of("fuzz_npz");
  REQUIRE(!files.empty());
  std::set<std::string> seen;
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    INFO("input " << file.string());
    const auto expected = npz_expectations().find(name);
    if (expected == npz_expectations().end()) {
      FAIL("no expected outcome for " << name << ": add a line to npz_expectations() in " << __FILE__);
    }
    seen.insert(name);
    const auto [outcome, message] = outcome_of(file.string());
    INFO("message: " << message);
    CHECK(std::string(name_of(outcome)) == name_of(expected->second.outcome));
    if (outcome != Outcome::loads) {
      CHECK_THAT(message, Catch::Matchers::Contains(name) && Catch::Matchers::Contains(expected->second.message_part));
    }
  }
  for (const auto& [name, expected] : npz_expectations()) {
    INFO("npz_expectations() names " << name << ", which is not in tests/fuzz/regressions/fuzz_npz/");
    CHECK(seen.count(name) == 1);
  }
}
