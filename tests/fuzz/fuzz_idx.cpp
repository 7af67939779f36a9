// libFuzzer target: read_idx on arbitrary bytes (raw or gzip) must return or throw
// std::invalid_argument / std::runtime_error; never crash, leak, hang or allocate past the claim.
// The bytes are parsed from memory (the same parser and inflate loop as a file) so that a run
// costs no system calls.
#include <cstdint>
#include <stdexcept>

#include "data/detail/idx_memory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The last byte, if any, also picks the expected kind, so every check_magic branch is reached.
  const tg::data::IdxKind kind = size == 0 ? tg::data::IdxKind::any : static_cast<tg::data::IdxKind>(data[size - 1] % 3);
  try {
    tg::data::IdxFile idx = tg::detail::read_idx_memory(data, size, "fuzz", kind);
    std::size_t product = idx.dims.empty() ? 0 : 1;
    for (std::size_t d : idx.dims) product *= d;
    if (idx.bytes.size() != product) __builtin_trap();  // a success must hold exactly what it claims
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  }
  return 0;
}
