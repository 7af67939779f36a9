// libFuzzer target: the .npz reader on arbitrary bytes must return or throw std::invalid_argument /
// std::runtime_error; never crash, leak, hang or allocate more than the input can hold. The bytes
// are read from memory (libzip's buffer source), the path read_npz takes after opening a file.
#include <cstdint>
#include <stdexcept>

#include "core/detail/npz_read.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    tg::NpzEntries entries = tg::detail::read_npz_memory(data, size, "fuzz.npz");
    std::size_t bytes = 0;
    for (const auto& [name, array] : entries) {
      std::size_t n = 1;
      for (std::size_t d : array.shape()) n *= d;
      bytes += n * (array.is_float32() ? 4 : 8);
    }
    // Stored entries cannot hold more than the input; deflated ones at most ~1032x.
    if (bytes > size * 1032 + 1024) __builtin_trap();
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
