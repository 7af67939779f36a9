// libFuzzer target: a short program of tapegrad calls decoded from the bytes (api_program.hpp).
// Each call succeeds or throws std::invalid_argument / std::logic_error / std::runtime_error;
// another exception escapes and aborts, and ASan/UBSan report memory errors, undefined behaviour
// and leaks.
#include <cstdint>

#include "api_program.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tg::fuzz::run_api_program(data, size);
  return 0;
}
