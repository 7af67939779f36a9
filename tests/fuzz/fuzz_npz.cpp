// libFuzzer target: read_npz on arbitrary bytes must return or throw std::invalid_argument /
// std::runtime_error; never crash, leak, hang or allocate more than the file can hold.
#include <cstdint>
#include <stdexcept>

#include "memory_file.hpp"
#include "core/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static MemoryFile file;
  const std::string& path = file.hold(data, size);
  try {
    tg::NpzEntries entries = tg::read_npz(path);
    std::size_t bytes = 0;
    for (const auto& [name, array] : entries) {
      std::size_t n = 1;
      for (std::size_t d : array.shape()) n *= d;
      bytes += n * (array.is_float32() ? 4 : 8);
    }
    // Stored entries cannot hold more than the file; deflated ones at most ~1032x.
    if (bytes > size * 1032 + 1024) __builtin_trap();
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
