// What the examples' main() functions share around their work: a stopwatch, and parsing the
// command line, then running with an error reported as "NAME: message" and exit status 1.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace example {

// Seconds since construction.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }

 private:
  using clock = std::chrono::steady_clock;
  clock::time_point start_ = clock::now();
};

// Parses the command line into `app`'s options (--help and mistakes end there, as CLI11_PARSE
// does), then returns body()'s exit status; an exception is printed as "NAME: message", NAME
// being the app's name, and gives 1.
template <class Body>
int parse_and_run(CLI::App& app, int argc, char** argv, Body body) {
  CLI11_PARSE(app, argc, argv);
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", app.get_name().c_str(), e.what());
    return 1;
  }
}

}  // namespace example
