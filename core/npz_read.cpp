// read_npz: libzip walks the zip structure, opened with ZIP_CHECKCONS so that the end records, the
// central directory and every local header must agree, and checks each entry's CRC and size as
// it is read to the end. tapegrad checks what an .npz adds: entries are '.npy' arrays, stored or
// deflated, unencrypted, with sizes the file can hold (checked before anything is allocated), and
// an NPY header that matches the entry's size.
#include "detail/npz_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#include "errors.hpp"
#include "detail/atomic_file.hpp"
#include "detail/npy_format.hpp"
#include "detail/zip_archive.hpp"

namespace tg {
namespace {

using namespace detail;

// The archive being read: its name for messages, its size, and whether it is a file (whose read
// errors are I/O failures) or bytes in memory (where every libzip error means bad content).
struct Input {
  std::string name;
  std::uint64_t size;
  bool is_file;
};

[[noreturn]] void malformed(const Input& in, const std::string& problem) {
  throw std::invalid_argument(fmt::format("read_npz: '{}': {}", in.name, problem));
}

// What a libzip error code means for an .npz; nullptr where libzip's own text says it well enough.
const char* problem_of(int code) {
  switch (code) {
    case ZIP_ER_NOZIP: return "not a zip archive (no end of central directory record, or entries outside the file)";
    case ZIP_ER_INCONS: return "damaged zip structure (the end record, central directory and local headers disagree)";
    case ZIP_ER_CRC: return "CRC mismatch: the data is corrupt";
    case ZIP_ER_EOF: return "truncated: the data runs past the end of the file";
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA: return "corrupt deflate data";
    case ZIP_ER_MULTIDISK: return "multi-disk zip archives are not supported";
    case ZIP_ER_EXISTS: return "an array appears twice (two entries have the same name)";
    default: return nullptr;
  }
}

// Throws for a libzip failure: std::runtime_error if reading the file failed, else std::invalid_argument.
[[noreturn]] void zip_failed(const Input& in, const std::string& context, zip_error_t* error) {
  const int code = zip_error_code_zip(error);
  const char* problem = problem_of(code);
  const std::string text = zip_error_strerror(error);
  const std::string message = fmt::format("read_npz: '{}': {}{}", in.name, context,
                                          problem ? fmt::format("{} [libzip: {}]", problem, text) : text);
  const bool io_failure = code == ZIP_ER_MEMORY || (in.is_file && (code == ZIP_ER_OPEN || code == ZIP_ER_READ ||
                                                                    code == ZIP_ER_TELL || code == ZIP_ER_CLOSE));
  if (io_failure) throw std::runtime_error(message);
  throw std::invalid_argument(message);
}

// The file as a libzip source. It is opened here so that a missing or unreadable file, or a folder,
// is a std::runtime_error with the system's reason.
ZipSource file_source(const std::string& path, std::uint64_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(system_error(fmt::format("read_npz: cannot open '{}'", path)));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(::fdopen(fd, "rb"), std::fclose);
  if (!file) {
    const std::string message = system_error(fmt::format("read_npz: cannot open '{}'", path));
    ::close(fd);
    throw std::runtime_error(message);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::runtime_error(system_error(fmt::format("read_npz: cannot stat '{}'", path)));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(fmt::format("read_npz: '{}' is not a regular file", path));
  size = static_cast<std::uint64_t>(st.st_size);
  ZipError error;
  ZipSource source(zip_source_filep_create(file.get(), 0, -1, error.get()));
  if (!source) throw std::runtime_error(fmt::format("read_npz: '{}': {}", path, zip_error_strerror(error.get())));
  file.release();  // the source closes it
  return source;
}

ZipArchive open_archive(ZipSource source, const Input& in) {
  // libzip takes an empty file for an empty archive; numpy does not, and neither does tapegrad.
  constexpr std::uint64_t kEndRecordSize = 22;
  if (in.size < kEndRecordSize) malformed(in, fmt::format("not a zip archive (only {} bytes)", in.size));
  ZipError error;
  zip_t* archive = zip_open_from_source(source.get(), ZIP_RDONLY | ZIP_CHECKCONS, error.get());
  if (archive == nullptr) zip_failed(in, "", error.get());
  source.release();  // the archive owns it now
  return ZipArchive(archive);
}

// An entry libzip lets through but an .npz must not hold, or sizes that are lies: refused before
// anything is allocated. `claimed` counts the data bytes of the entries checked so far: together
// they must fit in the file, so that entries sharing (overlapping) their data cannot multiply what
// a small file expands to.
void check_entry(const zip_stat_t& entry, const Input& in, std::uint64_t& claimed) {
  const std::string name = entry.name;
  if (entry.encryption_method != ZIP_EM_NONE) malformed(in, fmt::format("entry '{}' is encrypted", name));
  if (entry.comp_method != ZIP_CM_STORE && entry.comp_method != ZIP_CM_DEFLATE) {
    malformed(in, fmt::format("entry '{}' uses compression method {} (only stored and deflate are read)", name,
                              entry.comp_method));
  }
  if (entry.comp_size > in.size - claimed) {
    malformed(in, fmt::format("entry '{}' has {} bytes of data but the entries before it already take {} of the "
                              "file's {} bytes: entries overlap or sizes are forged",
                              name, entry.comp_size, claimed, in.size));
  }
  claimed += entry.comp_size;
  if (entry.comp_method == ZIP_CM_STORE && entry.comp_size != entry.size) {
    malformed(in, fmt::format("stored entry '{}' has compressed size {} but size {}", name, entry.comp_size, entry.size));
  }
  // Deflate cannot expand data more than about 1032:1; a larger claim is a lie.
  if (entry.size > 1024 && (entry.size - 1024) / 1032 > entry.comp_size) {
    malformed(in, fmt::format("entry '{}' claims {} bytes from {} compressed bytes", name, entry.size, entry.comp_size));
  }
}

std::vector<zip_stat_t> list_entries(zip_t* archive, const Input& in) {
  const zip_int64_t count = zip_get_num_entries(archive, 0);
  std::vector<zip_stat_t> entries(static_cast<std::size_t>(std::max<zip_int64_t>(count, 0)));
  std::uint64_t claimed = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (zip_stat_index(archive, i, 0, &entries[i]) != 0) zip_failed(in, "", zip_get_error(archive));
    check_entry(entries[i], in, claimed);
  }
  return entries;
}

// One entry read front to back. libzip checks its CRC and size when the reading reaches the end,
// so finish() reads once past it.
class EntryReader {
 public:
  EntryReader(zip_t* archive, const zip_stat_t& entry, const Input& in)
      : file_(zip_fopen_index(archive, entry.index, 0)), in_(in), context_(fmt::format("entry '{}': ", entry.name)) {
    if (!file_) zip_failed(in_, context_, zip_get_error(archive));
  }

  void read(void* out, std::size_t n) {
    const zip_int64_t got = n == 0 ? 0 : zip_fread(file_.get(), out, n);
    if (got == static_cast<zip_int64_t>(n)) return;
    if (got >= 0 && zip_fread(file_.get(), out, 1) >= 0) {  // the second read reports a pending error
      malformed(in_, fmt::format("{}the data ends after {} of {} bytes", context_, got, n));
    }
    zip_failed(in_, context_, zip_file_get_error(file_.get()));
  }

  void finish() {
    char extra;
    const zip_int64_t got = zip_fread(file_.get(), &extra, 1);
    if (got < 0) zip_failed(in_, context_, zip_file_get_error(file_.get()));
    if (got > 0) malformed(in_, fmt::format("{}more data than its stated size", context_));
  }

 private:
  ZipFile file_;
  const Input& in_;
  std::string context_;
};

// Reads one .npy entry: the header is parsed and checked against the entry's size before the
// array is allocated.
NpyArray read_array(zip_t* archive, const zip_stat_t& entry, const Input& in) {
  const std::string where = fmt::format("read_npz: '{}': entry '{}'", in.name, entry.name);
  const auto size = static_cast<std::size_t>(entry.size);
  EntryReader reader(archive, entry, in);
  std::vector<unsigned char> preamble(std::min(size, kNpyPrefixMax));
  reader.read(preamble.data(), preamble.size());
  const std::size_t prefix = preamble.size();
  preamble.resize(npy_preamble_length(preamble.data(), prefix, size, where));
  reader.read(preamble.data() + prefix, preamble.size() - prefix);
  const NpyHeader header = parse_npy_preamble(preamble.data(), preamble.size(), where);
  if (header.data_bytes != size - preamble.size()) {
    malformed(in, fmt::format("entry '{}': shape {} needs {} bytes of data but the entry holds {}", entry.name,
                              format_shape(header.shape), header.data_bytes, size - preamble.size()));
  }
  auto fill = [&](auto tensor) {
    reader.read(tensor.data(), header.data_bytes);
    reader.finish();
    return NpyArray(std::move(tensor));
  };
  if (header.item_size == 4) return fill(Tensor<float>::from_shape(header.shape));
  return fill(Tensor<double>::from_shape(header.shape));
}

// NAME for an entry NAME.npy.
std::string array_name(const zip_stat_t& entry, const Input& in) {
  const std::string name = entry.name;
  if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
    malformed(in, fmt::format("entry '{}' is not an .npy array", name));
  }
  return name.substr(0, name.size() - 4);
}

NpzEntries read_archive(ZipSource source, const Input& in) {
  ZipArchive archive = open_archive(std::move(source), in);
  NpzEntries out;
  for (const zip_stat_t& entry : list_entries(archive.get(), in)) {
    std::string name = array_name(entry, in);
    if (out.count(name)) malformed(in, fmt::format("the array '{}' appears twice", name));
    out.emplace(std::move(name), read_array(archive.get(), entry, in));
  }
  return out;
}

}  // namespace

NpzEntries read_npz(const std::string& path) {
  Input in{path, 0, true};
  ZipSource source = file_source(path, in.size);
  return read_archive(std::move(source), in);
}

namespace detail {

NpzEntries read_npz_memory(const void* data, std::size_t size, const std::string& name) {
  const Input in{name, size, false};
  ZipError error;
  ZipSource source(zip_source_buffer_create(size > 0 ? data : nullptr, size, 0, error.get()));
  if (!source) throw std::runtime_error(fmt::format("read_npz: '{}': {}", name, zip_error_strerror(error.get())));
  return read_archive(std::move(source), in);
}

}  // namespace detail
}  // namespace tg
