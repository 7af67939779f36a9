#include "atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace tg::detail {

std::string system_error(const std::string& prefix) { return prefix + ": " + std::strerror(errno); }

AtomicFile::AtomicFile(std::string target, std::string who) : target_(std::move(target)), who_(std::move(who)) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
    path_ = fmt::format("{}.tmp.{}.{}", target_, static_cast<long>(::getpid()), counter++);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) throw std::runtime_error(system_error(fmt::format("{}: cannot create '{}'", who_, path_)));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void AtomicFile::write_at(std::uint64_t offset, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t done = ::pwrite(fd_, p, std::min<std::size_t>(n, 1 << 30), static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) throw std::runtime_error(system_error(fmt::format("{}: writing '{}' failed", who_, path_)));
    p += done;
    offset += static_cast<std::uint64_t>(done);
    n -= static_cast<std::size_t>(done);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) throw std::runtime_error(system_error(fmt::format("{}: flushing '{}' failed", who_, path_)));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw std::runtime_error(system_error(fmt::format("{}: closing '{}' failed", who_, path_)));
  if (::rename(path_.c_str(), target_.c_str()) != 0) {
    throw std::runtime_error(system_error(fmt::format("{}: renaming '{}' to '{}' failed", who_, path_, target_)));
  }
  committed_ = true;
  sync_folder();
}

// Makes the rename itself durable; a failure here loses nothing already written.
void AtomicFile::sync_folder() const {
  const std::size_t slash = target_.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : target_.substr(0, slash);
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

namespace {

// The pid in "<prefix><pid>.<n>...", or 0 if the name does not have that form.
long pid_in(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return 0;
  const std::size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return 0;
  const std::string digits = name.substr(prefix.size(), dot - prefix.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stol(digits);
}

}  // namespace

void remove_stale_temps(const std::string& target) {
  namespace fs = std::filesystem;
  const fs::path target_path(target);
  const std::string prefix = target_path.filename().string() + ".tmp.";
  const fs::path folder = target_path.has_parent_path() ? target_path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::directory_iterator it(folder, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const long pid = pid_in(it->path().filename().string(), prefix);
    if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink(it->path().c_str());
  }
}

}  // namespace tg::detail
