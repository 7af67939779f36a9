#include "npz.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/npy_format.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npz code writes and reads little-endian data as is");

namespace tg {

namespace detail {

// zlib returns 0 for a null buffer (that is how it gives the initial value), so an empty one is skipped.
std::uint32_t crc_of(std::uint32_t crc, const void* data, std::size_t n) {
  if (n == 0) return crc;
  return static_cast<std::uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), n));
}

std::string system_error(const std::string& prefix) { return prefix + ": " + std::strerror(errno); }

}  // namespace detail

namespace {

using namespace detail;

constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: archives are reproducible
constexpr std::uint16_t kUtf8Flag = 0x0800;

// One array to write: its name in the archive and a view of its bytes.
struct Item {
  std::string entry;  // NAME.npy
  std::string preamble;
  const void* data;
  std::size_t bytes;
  std::uint32_t crc = 0;
  std::uint32_t offset = 0;
};

template <class T>
Item item_of(const std::string& name, const Tensor<T>& t) {
  return Item{name + ".npy", detail::npy_preamble(sizeof(T) == 4 ? "<f4" : "<f8", shape_of(t)), t.data(),
              t.size() * sizeof(T)};
}

// A temporary file beside the target; removed unless commit() renamed it into place.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      path_ = fmt::format("{}.tmp.{}.{}", target, static_cast<long>(::getpid()), counter++);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    if (fd_ < 0) throw std::runtime_error(system_error(fmt::format("write_npz: cannot create '{}'", path_)));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t done = ::write(fd_, p, std::min<std::size_t>(n, 1 << 30));
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) throw std::runtime_error(system_error(fmt::format("write_npz: writing '{}' failed", path_)));
      p += done;
      n -= static_cast<std::size_t>(done);
    }
  }
  void write(const std::string& s) { write(s.data(), s.size()); }

  // Flushes to disk, closes and renames over the target (atomic on POSIX file systems).
  void commit() {
    if (::fsync(fd_) != 0) throw std::runtime_error(system_error(fmt::format("write_npz: flushing '{}' failed", path_)));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw std::runtime_error(system_error(fmt::format("write_npz: closing '{}' failed", path_)));
    if (::rename(path_.c_str(), target_.c_str()) != 0) {
      throw std::runtime_error(system_error(fmt::format("write_npz: renaming '{}' to '{}' failed", path_, target_)));
    }
    committed_ = true;
    // Make the rename itself durable; a failure here loses nothing already written.
    const std::size_t slash = target_.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : target_.substr(0, slash);
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

 private:
  std::string target_, path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Removes the temporary files "<target>.tmp.<pid>.<n>" left by saves whose process no longer
// exists (killed mid-save: SIGKILL runs no destructor), so they cannot pile up. A file of a live
// process (a save in progress) is kept; so is one whose pid was reused. Errors are ignored.
void remove_stale_temps(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path target_path(target);
  const std::string prefix = target_path.filename().string() + ".tmp.";
  const fs::path folder = target_path.has_parent_path() ? target_path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::directory_iterator it(folder, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::size_t dot = name.find('.', prefix.size());
    const std::string pid_text = name.substr(prefix.size(), dot == std::string::npos ? 0 : dot - prefix.size());
    if (pid_text.empty() || pid_text.size() > 9 || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(pid_text);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink(it->path().c_str());
  }
}

bool is_ascii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void write_items(const std::string& path, std::vector<Item>& items) {
  // Check everything before creating any file.
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (Item& item : items) {
    const std::string name = item.entry.substr(0, item.entry.size() - 4);
    if (name.empty() || name.find('\0') != std::string::npos) {
      throw std::invalid_argument(fmt::format("write_npz: '{}': array names must be non-empty and free of NUL bytes", path));
    }
    if (item.entry.size() > 65535) throw std::invalid_argument(fmt::format("write_npz: '{}': an array name is too long", path));
    if (!names.insert(item.entry).second) {
      throw std::invalid_argument(fmt::format("write_npz: '{}': the name '{}' appears twice", path, name));
    }
    const std::uint64_t size = item.preamble.size() + std::uint64_t(item.bytes);
    if (size >= 0xffffffffu || offset >= 0xffffffffu) {
      throw std::invalid_argument(fmt::format(
          "write_npz: '{}': array '{}' does not fit in a zip archive without zip64 (4 GiB limit)", path, name));
    }
    item.offset = static_cast<std::uint32_t>(offset);
    offset += kLocalSize + item.entry.size() + size;
  }
  if (items.size() >= 0xffff || offset >= 0xffffffffu) {
    throw std::invalid_argument(fmt::format("write_npz: '{}': too many or too large arrays for a zip without zip64", path));
  }

  remove_stale_temps(path);
  TempFile file(path);
  std::string central;
  for (Item& item : items) {
    item.crc = crc_of(crc_of(0, item.preamble.data(), item.preamble.size()), item.data, item.bytes);
    const std::uint32_t size = static_cast<std::uint32_t>(item.preamble.size() + item.bytes);
    const std::uint16_t flags = is_ascii(item.entry) ? 0 : kUtf8Flag;
    std::string local;
    put32(local, kLocalSig);
    put16(local, 20);  // version needed: 2.0
    put16(local, flags);
    put16(local, 0);  // stored
    put16(local, 0);  // time
    put16(local, kDosDate);
    put32(local, item.crc);
    put32(local, size);
    put32(local, size);
    put16(local, static_cast<std::uint32_t>(item.entry.size()));
    put16(local, 0);  // extra field length
    local += item.entry;
    file.write(local + item.preamble);
    file.write(item.data, item.bytes);

    put32(central, kCentralSig);
    put16(central, (3 << 8) | 20);  // made by: Unix, 2.0
    put16(central, 20);
    put16(central, flags);
    put16(central, 0);
    put16(central, 0);
    put16(central, kDosDate);
    put32(central, item.crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<std::uint32_t>(item.entry.size()));
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
    put32(central, item.offset);
    central += item.entry;
  }
  std::string end;
  put32(end, kEndSig);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<std::uint32_t>(items.size()));
  put16(end, static_cast<std::uint32_t>(items.size()));
  put32(end, static_cast<std::uint32_t>(central.size()));
  put32(end, static_cast<std::uint32_t>(offset));
  put16(end, 0);  // comment
  file.write(central + end);
  file.commit();
}

}  // namespace

void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor<float>>>& arrays) {
  std::vector<Item> items;
  for (const auto& [name, t] : arrays) items.push_back(item_of(name, t));
  write_items(path, items);
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor<double>>>& arrays) {
  std::vector<Item> items;
  for (const auto& [name, t] : arrays) items.push_back(item_of(name, t));
  write_items(path, items);
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, NpyArray>>& arrays) {
  std::vector<Item> items;
  for (const auto& [name, a] : arrays) {
    items.push_back(a.is_float32() ? item_of(name, a.get<float>()) : item_of(name, a.get<double>()));
  }
  write_items(path, items);
}

}  // namespace tg
