// Internal to write_npz: a file is written beside its target and renamed over it only once it is
// complete and on disk, so a reader never sees a partial file and a failed or killed save leaves
// the previous file intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tg::detail {

// `prefix` + ": " + strerror(errno).
std::string system_error(const std::string& prefix);

// A new temporary file "<target>.tmp.<pid>.<n>" beside `target`, removed by the destructor unless
// commit() renamed it over the target. Failures are std::runtime_error starting with `who`.
class AtomicFile {
 public:
  AtomicFile(std::string target, std::string who);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Writes all n bytes at `offset`.
  void write_at(std::uint64_t offset, const void* data, std::size_t n);
  // Flushes to disk, closes and renames over the target (atomic on POSIX file systems).
  void commit();

 private:
  void sync_folder() const;

  std::string target_, who_, path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Removes the temporary files "<target>.tmp.<pid>.<n>..." left by saves whose process no longer
// exists (killed mid-save: SIGKILL runs no destructor), so they cannot pile up. A file of a live
// process (a save in progress) is kept; so is one whose pid was reused. Errors are ignored.
void remove_stale_temps(const std::string& target);

}  // namespace tg::detail
