// A save killed at a random moment (SIGKILL: no destructor, no cleanup) never costs the last
// complete checkpoint: the file always loads and holds exactly one complete version.
#include "test_util.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

using namespace tg;
namespace fs = std::filesystem;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kElements = std::size_t(1) << 21;  // 8 MiB of floats: ASan's memcpy is slower
#else
constexpr std::size_t kElements = std::size_t(1) << 23;  // 32 MiB of floats
#endif

// Version v of the checkpoint: two arrays, every element equal to v.
std::vector<std::pair<std::string, Tensor<float>>> version(float v) {
  std::vector<std::pair<std::string, Tensor<float>>> arrays;
  arrays.emplace_back("weight", Tensor<float>::from_shape({kElements / 1024, 1024}));
  arrays.emplace_back("bias", Tensor<float>::from_shape({1024}));
  for (auto& [name, t] : arrays) std::fill(t.begin(), t.end(), v);
  return arrays;
}

// The version the file holds; fails the test unless it is one complete, consistent version.
float version_in(const std::string& path) {
  NpzEntries entries = read_npz(path);  // throws on a torn or truncated file
  REQUIRE(entries.size() == 2);
  const Tensor<float>& w = entries.at("weight").get<float>();
  const Tensor<float>& b = entries.at("bias").get<float>();
  REQUIRE(w.size() == kElements);
  REQUIRE(b.size() == 1024);
  const float v = b(0);
  REQUIRE(std::all_of(w.begin(), w.end(), [v](float e) { return e == v; }));
  REQUIRE(std::all_of(b.begin(), b.end(), [v](float e) { return e == v; }));
  return v;
}

std::vector<fs::path> temp_files(const fs::path& folder) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(entry.path());
  }
  return out;
}

}  // namespace

TEST_CASE("a checkpoint save killed with SIGKILL at random moments never loses the last complete checkpoint") {
  const fs::path folder = fs::temp_directory_path() / ("tapegrad_kill_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  const std::string path = (folder / "checkpoint.npz").string();
  write_npz(path, version(0));
  float last = version_in(path);
  REQUIRE(last == 0);

  // Time one save so the kills can be spread over a few saves.
  const auto t0 = std::chrono::steady_clock::now();
  write_npz(path, version(0));
  const double save_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::mt19937_64 rng(20240601);
  // Kill until enough kills have landed inside a save: how many do depends on the machine's load,
  // so the number of rounds does too (bounded, so a save that never shows its file still fails).
  constexpr int kMinRounds = 24, kMaxRounds = 200, kMidSaveKills = 6;
  int mid_save = 0, advanced = 0, rounds = 0;
  std::size_t temps = 0, max_temps = 0;
  for (int round = 1; round <= kMaxRounds && (round <= kMinRounds || mid_save < kMidSaveKills); ++round) {
    rounds = round;
    // The child saves versions round*1000 + 1, + 2, ... over the same file until it is killed.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      try {
        for (int k = 1;; ++k) write_npz(path, version(static_cast<float>(round * 1000 + k)));
      } catch (...) {
        ::_exit(1);  // the parent sees an exit instead of SIGKILL and fails
      }
    }
    std::uniform_real_distribution<double> delay(0.0, 1.5 * save_ms + 5.0);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay(rng)));
    const bool in_progress = !temp_files(folder).empty();  // a save had its temporary file open
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    mid_save += in_progress;

    const float now = version_in(path), last_before = last;
    INFO("round " << round << ": the file holds version " << now << ", before the round " << last);
    // Either the last version seen, or one this child completed.
    REQUIRE((now == last || (now > round * 1000 && now < (round + 1) * 1000)));
    advanced += now != last;
    last = now;
    // A killed save leaves its temporary file; every save first removes those of dead processes.
    // So a round adds at most one file, and once the child has begun a save only its own is left.
    const std::size_t before = temps;
    temps = temp_files(folder).size();
    REQUIRE(temps <= before + 1);
    if (now != last_before) REQUIRE(temps <= 1);
    max_temps = std::max(max_temps, temps);
  }
  INFO("save of " << kElements * 4 / (1 << 20) << " MiB took " << save_ms << " ms; " << mid_save << " of "
                  << rounds << " kills hit a save in progress; the file advanced in " << advanced << " rounds; at most "
                  << max_temps << " temporary files at once");
  CHECK(mid_save >= kMidSaveKills);  // the kills did land inside saves, not only between them

  // A complete save clears every temporary file left by a killed one.
  write_npz(path, version(1));
  CHECK(version_in(path) == 1);
  CHECK(temp_files(folder).empty());
  fs::remove_all(folder);
}
