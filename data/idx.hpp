// Reading idx files (the MNIST format), raw or gzip-compressed, into unsigned bytes.
//
// An idx file is a big-endian header followed by the data:
//   magic: 0x00 0x00 <type> <ndims>   (type 0x08 = unsigned byte, the only type read here)
//   ndims big-endian uint32 dimension sizes
//   product(dims) elements, row-major
// MNIST images have magic 2051 (0x00000803, 3 dims: count x rows x cols) and labels 2049
// (0x00000801, 1 dim: count). Whether a file is gzip is decided by its first two bytes
// (1f 8b), not by its name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tg::data {

// What the caller expects the file to hold.
enum class IdxKind {
  any,     // any unsigned-byte idx file (magic 0x000008NN, 1 <= NN)
  images,  // magic 2051: count x rows x cols
  labels,  // magic 2049: count
};

inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // 2051
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // 2049

// Files claiming more data than this are refused before anything is allocated.
inline constexpr std::uint64_t kIdxMaxDataBytes = std::uint64_t(2) << 30;  // 2 GiB

struct IdxFile {
  std::string path;
  std::uint32_t magic = 0;
  std::vector<std::size_t> dims;    // dims[0] is the number of items
  std::vector<std::uint8_t> bytes;  // product(dims) bytes, row-major
  bool gzip = false;                // the file was gzip-compressed

  std::size_t count() const { return dims.empty() ? 0 : dims[0]; }
  std::size_t item_size() const;  // product of dims[1..] (1 for labels)
};

// Reads and validates the whole file. Throws std::runtime_error when the file cannot be
// opened or read, std::invalid_argument when its content is wrong (magic, type, dimensions,
// truncated or trailing data, corrupt gzip stream); every message starts with
// "read_idx: <path>: " and names the offending value.
IdxFile read_idx(const std::string& path, IdxKind expected = IdxKind::any);

// True when the file starts with the gzip magic bytes 1f 8b (false if it cannot be read).
bool is_gzip_file(const std::string& path);

}  // namespace tg::data
