// read_npz: every length field is checked against the file before it is used.
#include "npz.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "detail/npy_format.hpp"

namespace tg {
namespace {

using namespace detail;

// An open file that is only ever read inside its size.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(system_error(fmt::format("read_npz: cannot open '{}'", path)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      ::close(fd_);
      throw std::runtime_error(system_error(fmt::format("read_npz: cannot stat '{}'", path)));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw std::runtime_error(fmt::format("read_npz: '{}' is not a regular file", path));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~Source() { ::close(fd_); }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  std::uint64_t size() const { return size_; }

  [[noreturn]] void bad(const std::string& problem) const {
    throw std::invalid_argument(fmt::format("read_npz: '{}': {}", path_, problem));
  }

  // Reads exactly n bytes at `offset`; the range must lie inside the file.
  void read(std::uint64_t offset, void* out, std::size_t n, const char* what) const {
    if (offset > size_ || n > size_ - offset) {
      bad(fmt::format("{} ({} bytes at offset {}) runs past the end of the {}-byte file", what, n, offset, size_));
    }
    char* p = static_cast<char*>(out);
    while (n > 0) {
      const ssize_t done = ::pread(fd_, p, std::min<std::size_t>(n, 1 << 30), static_cast<off_t>(offset));
      if (done < 0 && errno == EINTR) continue;
      if (done < 0) throw std::runtime_error(system_error(fmt::format("read_npz: reading '{}' failed", path_)));
      if (done == 0) bad(fmt::format("{} is cut short: the file shrank while being read", what));
      p += done;
      offset += static_cast<std::uint64_t>(done);
      n -= static_cast<std::size_t>(done);
    }
  }
  std::vector<unsigned char> read(std::uint64_t offset, std::size_t n, const char* what) const {
    std::vector<unsigned char> out;
    if (offset <= size_ && n <= size_ - offset) out.resize(n);  // never allocate past the file
    read(offset, out.data(), n, what);
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

struct Entry {
  std::string name;  // as stored, NAME.npy
  std::uint32_t method, crc;
  std::uint64_t compressed, size;  // bytes in the file, bytes of the .npy
  std::uint64_t header_offset, data_offset = 0;
};

[[noreturn]] void zip64_unsupported(const Source& src) {
  src.bad("zip64 archives (over 4 GiB or 65535 entries) are not supported");
}

// The central directory's entries, each checked against the file and its local header;
// entries may not overlap, so the data read is never more than the file holds.
std::vector<Entry> list_entries(const Source& src) {
  const std::uint64_t tail = std::min<std::uint64_t>(src.size(), kEndSize + 0xffff);
  if (src.size() < kEndSize) src.bad(fmt::format("not a zip archive (only {} bytes)", src.size()));
  const std::vector<unsigned char> buf = src.read(src.size() - tail, tail, "the end of the archive");
  std::size_t at = tail - kEndSize + 1;  // one past the candidate position
  bool found = false;
  while (at-- > 0) {
    if (get32(&buf[at]) == kEndSig && at + kEndSize + get16(&buf[at + 20]) == tail) {
      found = true;
      break;
    }
  }
  if (!found) src.bad("not a zip archive (no end of central directory record)");
  const unsigned char* e = &buf[at];
  const std::uint64_t end_offset = src.size() - tail + at;
  const std::uint32_t count = get16(e + 10), cd_size = get32(e + 12), cd_offset = get32(e + 16);
  if (get16(e + 4) != 0 || get16(e + 6) != 0 || get16(e + 8) != count) src.bad("multi-disk zip archives are not supported");
  if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) zip64_unsupported(src);
  if (std::uint64_t(cd_offset) + cd_size > end_offset) {
    src.bad(fmt::format("the central directory ({} bytes at offset {}) overlaps the end record at {}", cd_size,
                        cd_offset, end_offset));
  }
  if (std::uint64_t(count) * kCentralSize > cd_size) {
    src.bad(fmt::format("the central directory of {} bytes cannot hold {} entries", cd_size, count));
  }
  const std::vector<unsigned char> cd = src.read(cd_offset, cd_size, "the central directory");

  std::vector<Entry> entries;
  std::size_t pos = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (cd_size - pos < kCentralSize || get32(&cd[pos]) != kCentralSig) {
      src.bad(fmt::format("central directory entry {} is missing or has a bad signature", i));
    }
    const unsigned char* c = &cd[pos];
    const std::size_t name_len = get16(c + 28), extra_len = get16(c + 30), comment_len = get16(c + 32);
    if (cd_size - pos - kCentralSize < name_len + extra_len + comment_len) {
      src.bad(fmt::format("central directory entry {} runs past the directory", i));
    }
    Entry entry{std::string(reinterpret_cast<const char*>(c + kCentralSize), name_len), get16(c + 10), get32(c + 16),
                get32(c + 20), get32(c + 24), get32(c + 42)};
    const std::uint32_t flags = get16(c + 8);
    if (flags & 0x41) src.bad(fmt::format("entry '{}' is encrypted", entry.name));
    if (entry.method != 0 && entry.method != 8) {
      src.bad(fmt::format("entry '{}' uses compression method {} (only stored and deflate are read)", entry.name,
                          entry.method));
    }
    if (entry.compressed == 0xffffffffu || entry.size == 0xffffffffu || entry.header_offset == 0xffffffffu) {
      zip64_unsupported(src);
    }
    if (entry.method == 0 && entry.compressed != entry.size) {
      src.bad(fmt::format("stored entry '{}' has compressed size {} but size {}", entry.name, entry.compressed,
                          entry.size));
    }
    pos += kCentralSize + name_len + extra_len + comment_len;

    // The local header: same name and method; the data must end before the central directory.
    if (entry.header_offset + kLocalSize > cd_offset) {
      src.bad(fmt::format("entry '{}' has its header at offset {}, past the data area", entry.name, entry.header_offset));
    }
    unsigned char local[kLocalSize];
    src.read(entry.header_offset, local, kLocalSize, "a local file header");
    if (get32(local) != kLocalSig) src.bad(fmt::format("entry '{}' has a bad local header signature", entry.name));
    const std::size_t local_name = get16(local + 26), local_extra = get16(local + 28);
    entry.data_offset = entry.header_offset + kLocalSize + local_name + local_extra;
    if (entry.data_offset > cd_offset || entry.compressed > cd_offset - entry.data_offset) {
      src.bad(fmt::format("the data of entry '{}' ({} bytes at offset {}) runs into the central directory", entry.name,
                          entry.compressed, entry.data_offset));
    }
    if (get16(local + 8) != entry.method || local_name != name_len ||
        src.read(entry.header_offset + kLocalSize, local_name, "an entry name") !=
            std::vector<unsigned char>(entry.name.begin(), entry.name.end())) {
      src.bad(fmt::format("entry '{}': its local header disagrees with the central directory", entry.name));
    }
    entries.push_back(std::move(entry));
  }
  if (pos != cd_size) src.bad(fmt::format("the central directory has {} bytes after its {} entries", cd_size - pos, count));

  std::vector<const Entry*> by_offset;
  for (const Entry& entry : entries) by_offset.push_back(&entry);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->header_offset < b->header_offset; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->header_offset < by_offset[i - 1]->data_offset + by_offset[i - 1]->compressed) {
      src.bad(fmt::format("entries '{}' and '{}' overlap", by_offset[i - 1]->name, by_offset[i]->name));
    }
  }
  return entries;
}

// Inflates a deflated entry into exactly entry.size bytes.
std::vector<unsigned char> inflate_entry(const Source& src, const Entry& entry, const std::string& where) {
  // Deflate cannot expand data more than about 1032:1; a larger claim is a lie, refused before allocating.
  if (entry.size > entry.compressed * 1032 + 1024) {
    src.bad(fmt::format("entry '{}' claims {} bytes from {} compressed bytes", entry.name, entry.size, entry.compressed));
  }
  const std::vector<unsigned char> in = src.read(entry.data_offset, entry.compressed, "compressed data");
  std::vector<unsigned char> out(entry.size);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw std::runtime_error(where + ": cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  z.next_in = const_cast<Bytef*>(in.data());
  z.next_out = out.data();
  std::size_t in_left = in.size(), out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    const uInt in_chunk = static_cast<uInt>(std::min<std::size_t>(in_left, UINT_MAX));
    const uInt out_chunk = static_cast<uInt>(std::min<std::size_t>(out_left, UINT_MAX));
    z.avail_in = in_chunk;
    z.avail_out = out_chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    out_left -= out_chunk - z.avail_out;
    if (rc == Z_OK && in_chunk == z.avail_in && out_chunk == z.avail_out) rc = Z_BUF_ERROR;  // no progress
  }
  if (rc != Z_STREAM_END || out_left != 0) {
    src.bad(fmt::format("entry '{}': corrupt deflate data ({})", entry.name,
                        rc == Z_STREAM_END ? "shorter than its stated size" : z.msg ? z.msg : "truncated or too long"));
  }
  return out;
}

// Reads one .npy entry into an array: the header is parsed and checked against the entry's size
// before the array is allocated, and the CRC of everything read is checked at the end.
NpyArray read_array(const Source& src, const Entry& entry, const std::string& where) {
  std::vector<unsigned char> inflated;
  if (entry.method == 8) inflated = inflate_entry(src, entry, where);
  const std::size_t size = static_cast<std::size_t>(entry.size);
  auto read_bytes = [&](std::uint64_t offset, void* out, std::size_t n) {
    if (entry.method == 8) std::memcpy(out, inflated.data() + offset, n);
    else src.read(entry.data_offset + offset, out, n, "array data");
  };
  unsigned char prefix[detail::kNpyPrefixMax];
  const std::size_t available = std::min(size, detail::kNpyPrefixMax);
  read_bytes(0, prefix, available);
  const std::size_t preamble_length = detail::npy_preamble_length(prefix, available, size, where);
  std::vector<unsigned char> preamble(preamble_length);
  read_bytes(0, preamble.data(), preamble_length);
  const detail::NpyHeader header = detail::parse_npy_preamble(preamble.data(), preamble_length, where);
  if (header.data_bytes != size - preamble_length) {
    src.bad(fmt::format("entry '{}': shape {} needs {} bytes of data but the entry holds {}", entry.name,
                        format_shape(header.shape), header.data_bytes, size - preamble_length));
  }
  auto fill = [&](auto tensor) {
    read_bytes(preamble_length, tensor.data(), header.data_bytes);
    const std::uint32_t crc = crc_of(crc_of(0, preamble.data(), preamble_length), tensor.data(), header.data_bytes);
    if (crc != entry.crc) {
      src.bad(fmt::format("entry '{}': CRC mismatch (stored {:08x}, computed {:08x}): the data is corrupt", entry.name,
                          entry.crc, crc));
    }
    return NpyArray(std::move(tensor));
  };
  if (header.item_size == 4) return fill(Tensor<float>::from_shape(header.shape));
  return fill(Tensor<double>::from_shape(header.shape));
}

}  // namespace

NpzEntries read_npz(const std::string& path) {
  Source src(path);
  NpzEntries out;
  for (const Entry& entry : list_entries(src)) {
    const std::string where = fmt::format("read_npz: '{}': entry '{}'", path, entry.name);
    if (entry.name.size() <= 4 || entry.name.compare(entry.name.size() - 4, 4, ".npy") != 0) {
      src.bad(fmt::format("entry '{}' is not an .npy array", entry.name));
    }
    std::string name = entry.name.substr(0, entry.name.size() - 4);
    if (out.count(name)) src.bad(fmt::format("the array '{}' appears twice", name));
    out.emplace(std::move(name), read_array(src, entry, where));
  }
  return out;
}

}  // namespace tg
