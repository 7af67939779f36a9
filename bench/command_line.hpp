// The bench programs' command lines: "--flag value" pairs only, and a mistake reported as
// "PROGRAM: message" and the usage, with exit status 2. No tapegrad or torch here.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

// `usage` is the text after "usage: ".
[[noreturn]] inline void usage(const char* program, const std::string& usage, const std::string& message) {
  std::fprintf(stderr, "%s: %s\nusage: %s\n", program, message.c_str(), usage.c_str());
  std::exit(2);
}

// Calls set(flag, value) for each flag in argv, where value() takes the argument after the flag;
// set returns false for a flag it does not know. Either mistake ends the program through usage().
template <class Set>
void parse_flags(const char* program, const std::string& usage_text, int argc, char** argv, Set set) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(program, usage_text, "missing value after " + flag);
      return argv[++i];
    };
    if (!set(flag, value)) usage(program, usage_text, "unknown argument " + flag);
  }
}

}  // namespace bench
