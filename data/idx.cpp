#include "idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "detail/idx_memory.hpp"

namespace tg::data {
namespace {

namespace fs = std::filesystem;

// deflate cannot expand data by more than about 1032:1; a gzip file of n bytes holds at most
// this much, so a header claiming more is refused before anything is allocated.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::size_t kChunk = std::size_t(1) << 20;

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw std::runtime_error("read_idx: " + path + ": " + what);
}

template <class... Args>
[[noreturn]] void bad(const std::string& path, fmt::format_string<Args...> message, Args&&... args) {
  fail("read_idx", "{}: {}", path, fmt::format(message, std::forward<Args>(args)...));
}

// The bytes of an idx file in order, raw or inflated (chosen by the first two bytes), from a
// file or from memory. A gzip file is read whole and inflated from memory, so a file and a
// buffer (the fuzz target's input) go through the same inflate loop.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::error_code ec;
    fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) io_error(path, "no such file");
    if (fs::is_directory(st)) io_error(path, "is a directory, not an idx file");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) io_error(path, fmt::format("cannot open: {}", std::strerror(errno)));
    size_ = fs::file_size(path, ec);
    if (ec) {
      std::fclose(f);
      io_error(path, fmt::format("cannot get the file size: {}", ec.message()));
    }
    unsigned char head[2] = {0, 0};
    gzip_ = std::fread(head, 1, 2, f) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    std::rewind(f);
    raw_ = f;
    if (!gzip_) return;
    compressed_.resize(size_);
    const std::size_t got = read_file(compressed_.data(), compressed_.size());
    std::fclose(raw_);
    raw_ = nullptr;
    if (got != size_) io_error(path, "the file shrank while it was read");
    start_inflate(compressed_.data(), compressed_.size());
  }

  Source(const std::string& name, const std::uint8_t* data, std::size_t size) : path_(name), size_(size) {
    gzip_ = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (gzip_) {
      start_inflate(data, size);
    } else {
      memory_ = data;
    }
  }

  ~Source() {
    if (raw_) std::fclose(raw_);
    if (inflating_) inflateEnd(&stream_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  bool gzip() const { return gzip_; }
  std::uint64_t stored_size() const { return size_; }  // on disk or in memory, before inflating

  // Reads up to n bytes; returns fewer only at the end of the (decompressed) data.
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    if (gzip_) return inflate_into(out, n);
    if (raw_) return read_file(out, n);
    const std::size_t take = std::min<std::size_t>(n, size_ - position_);
    if (take > 0) std::memcpy(out, memory_ + position_, take);
    position_ += take;
    return take;
  }

 private:
  std::size_t read_file(unsigned char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const std::size_t want = std::min<std::size_t>(n - done, kChunk);
      const std::size_t got = std::fread(out + done, 1, want, raw_);
      if (got < want && std::ferror(raw_)) io_error(path_, fmt::format("read error: {}", std::strerror(errno)));
      done += got;
      if (got < want) break;
    }
    return done;
  }

  void start_inflate(const std::uint8_t* data, std::size_t size) {
    if (size > UINT_MAX) bad(path_, "a gzip stream of {} bytes is more than read_idx inflates (4 GiB)", size);
    stream_ = z_stream{};
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) io_error(path_, "zlib could not start inflating");
    inflating_ = true;
    stream_.next_in = const_cast<Bytef*>(data);  // zlib's API is not const, but never writes its input
    stream_.avail_in = static_cast<uInt>(size);
  }

  std::size_t inflate_into(unsigned char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n && !ended_) {
      const std::size_t want = std::min<std::size_t>(n - done, kChunk);
      stream_.next_out = out + done;
      stream_.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      done += want - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        // gzip allows members one after another (cat a.gz b.gz); anything else after the end is ignored.
        const bool member_follows = stream_.avail_in >= 2 && stream_.next_in[0] == 0x1f && stream_.next_in[1] == 0x8b;
        if (member_follows) {
          inflateReset(&stream_);
        } else {
          ended_ = true;
        }
      } else if (rc == Z_BUF_ERROR && stream_.avail_in == 0) {
        bad(path_, "the gzip stream is truncated");  // it needs input that is not there
      } else if (rc != Z_OK) {
        bad(path_, "corrupt gzip data: {}", stream_.msg ? stream_.msg : zError(rc));
      }
    }
    return done;
  }

  std::string path_;
  std::uint64_t size_ = 0;
  bool gzip_ = false;
  std::FILE* raw_ = nullptr;                 // an uncompressed file, read as it goes
  const std::uint8_t* memory_ = nullptr;     // an uncompressed buffer
  std::size_t position_ = 0;                 // in memory_
  std::vector<std::uint8_t> compressed_;     // a gzip file's bytes
  z_stream stream_{};
  bool inflating_ = false, ended_ = false;
};

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

const char* idx_type_name(unsigned type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown type";
  }
}

void check_magic(const std::string& path, std::uint32_t magic, IdxKind expected) {
  if (expected == IdxKind::images && magic != kIdxImagesMagic) {
    bad(path, "magic number {} (0x{:08x}), expected 2051 (0x00000803, images){}", magic, magic,
        magic == kIdxLabelsMagic ? "; this is a labels file" : "");
  }
  if (expected == IdxKind::labels && magic != kIdxLabelsMagic) {
    bad(path, "magic number {} (0x{:08x}), expected 2049 (0x00000801, labels){}", magic, magic,
        magic == kIdxImagesMagic ? "; this is an images file" : "");
  }
  const unsigned type = (magic >> 8) & 0xffu, ndims = magic & 0xffu;
  if ((magic >> 16) != 0 || ndims == 0) {
    bad(path, "magic number {} (0x{:08x}), expected 2051 (images) or 2049 (labels) or another idx magic 0x000008NN",
        magic, magic);
  }
  if (type != 0x08) {
    bad(path, "magic number {} (0x{:08x}) declares element type 0x{:02x} ({}); only unsigned-byte (0x08) idx files "
        "are supported, e.g. 2051 (images) or 2049 (labels)", magic, magic, type, idx_type_name(type));
  }
}

std::string describe_claim(const std::vector<std::size_t>& dims, std::uint64_t bytes) {
  return fmt::format("{} = {} bytes of data", fmt::join(dims, " x "), bytes);
}

}  // namespace

std::size_t IdxFile::item_size() const {
  std::size_t n = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

bool is_gzip_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char head[2] = {0, 0};
  std::size_t n = std::fread(head, 1, 2, f);
  std::fclose(f);
  return n == 2 && head[0] == 0x1f && head[1] == 0x8b;
}

namespace {

IdxFile parse_idx(Source& src, const std::string& path, IdxKind expected) {
  const char* what = src.gzip() ? "the decompressed data" : "the file";

  unsigned char word[4];
  std::size_t got = src.read(word, 4);
  if (got < 4) bad(path, "{} is {} bytes long, too short for an idx magic number (4 bytes)", what, got);
  IdxFile out;
  out.path = path;
  out.gzip = src.gzip();
  out.magic = big_endian(word);
  check_magic(path, out.magic, expected);

  const std::size_t ndims = out.magic & 0xffu;
  const std::uint64_t header = 4 + 4 * std::uint64_t(ndims);
  std::vector<unsigned char> dim_bytes(4 * ndims);
  got = src.read(dim_bytes.data(), dim_bytes.size());
  if (got < dim_bytes.size()) {
    bad(path, "the header declares {} dimension{} ({} bytes) but {} ends after {} bytes", ndims, ndims == 1 ? "" : "s",
        header, what, 4 + got);
  }
  std::uint64_t claim = 1;
  bool too_big = false;
  for (std::size_t i = 0; i < ndims; ++i) {
    out.dims.push_back(big_endian(&dim_bytes[4 * i]));
    claim *= out.dims.back();  // each factor < 2^32: check after every step so this cannot overflow
    if (claim > kIdxMaxDataBytes) too_big = true, claim = kIdxMaxDataBytes + 1;
  }
  for (std::size_t i = 1; i < ndims; ++i) {
    if (out.dims[i] == 0) bad(path, "dimension {} of {} is 0", i, fmt::join(out.dims, " x "));
  }
  if (too_big) {
    bad(path, "header says {} bytes of data, more than the {} bytes (2 GiB) read_idx accepts",
        fmt::join(out.dims, " x "), kIdxMaxDataBytes);
  }
  const std::string claimed = describe_claim(out.dims, claim);

  if (!src.gzip()) {
    // The size is known up front: refuse a wrong one before allocating.
    const std::uint64_t held = src.stored_size() - header;
    if (held < claim) bad(path, "header says {} but the file holds {} after its {}-byte header (truncated)", claimed, held, header);
    if (held > claim) {
      bad(path, "header says {} but the file holds {} after its {}-byte header ({} trailing bytes)", claimed, held,
          header, held - claim);
    }
    out.bytes.resize(claim);
    if (src.read(out.bytes.data(), claim) != claim) io_error(path, "the file shrank while it was read");
    return out;
  }

  // gzip: the decompressed size is unknown until the end; bound the claim by what deflate can hold.
  const std::uint64_t bound = src.stored_size() * kMaxDeflateRatio;
  if (claim > bound) {
    bad(path, "header says {} but a gzip file of {} bytes cannot hold more than {} (truncated)", claimed,
        src.stored_size(), bound);
  }
  out.bytes.reserve(claim);
  while (out.bytes.size() < claim) {
    std::size_t at = out.bytes.size(), want = std::min<std::size_t>(kChunk, claim - at);
    out.bytes.resize(at + want);
    std::size_t n = src.read(out.bytes.data() + at, want);
    if (n < want) {
      bad(path, "header says {} but the decompressed data holds {} after its {}-byte header (truncated)", claimed,
          at + n, header);
    }
  }
  std::vector<unsigned char> scratch(64 * 1024);
  std::uint64_t trailing = 0;
  for (std::size_t n; (n = src.read(scratch.data(), scratch.size())) > 0;) trailing += n;
  if (trailing > 0) {
    bad(path, "header says {} but the decompressed data holds {} after its {}-byte header ({} trailing bytes)",
        claimed, claim + trailing, header, trailing);
  }
  return out;
}

}  // namespace

IdxFile read_idx(const std::string& path, IdxKind expected) {
  Source src(path);
  return parse_idx(src, path, expected);
}


}  // namespace tg::data

namespace tg::detail {

data::IdxFile read_idx_memory(const std::uint8_t* data, std::size_t size, const std::string& name, data::IdxKind expected) {
  data::Source src(name, data, size);
  return data::parse_idx(src, name, expected);
}

}  // namespace tg::detail
