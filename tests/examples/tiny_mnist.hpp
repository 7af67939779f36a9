// A tiny MNIST-format data set on disk and a way to run an example program, for the example tests.
#pragma once

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include "../data/synthetic.hpp"

namespace tg::test {

// Writes {train,t10k}-{images-idx3,labels-idx1}-ubyte with `train` and `test` patterned 28x28
// images labelled 0, 1, ..., 9, 0, ... into `dir`.
inline void write_tiny_mnist(const TempDir& dir, std::size_t train = 32, std::size_t test = 12) {
  auto write_split = [&](const std::string& prefix, std::size_t count) {
    std::vector<std::uint8_t> labels(count);
    for (std::size_t i = 0; i < count; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    write_raw(dir.file(prefix + "-images-idx3-ubyte"),
              idx_bytes(2051, {std::uint32_t(count), 28, 28}, pattern_pixels(count, 28, 28)));
    write_raw(dir.file(prefix + "-labels-idx1-ubyte"), idx_bytes(2049, {std::uint32_t(count)}, labels));
  };
  write_split("train", train);
  write_split("t10k", test);
}

struct ProgramRun {
  int status;
  std::string output;  // stdout and stderr
};

// Runs build/examples/<program> <arguments>.
inline ProgramRun run_program(const std::string& program, const std::string& arguments) {
  const std::string command = std::string(TAPEGRAD_EXAMPLES_DIR) + "/" + program + " " + arguments + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get())) output += buffer.data();
  const int status = pclose(pipe.release());
  return {WEXITSTATUS(status), output};
}

// Runs `program` expecting it to fail: exit status 1 and a message "<program>: ..." naming `culprit`.
inline void check_reports_error(const std::string& program, const std::string& arguments, const std::string& culprit) {
  const ProgramRun r = run_program(program, arguments);
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK_THAT(r.output, Catch::Matchers::Contains(program + ": ") && Catch::Matchers::Contains(culprit));
}

}  // namespace tg::test
