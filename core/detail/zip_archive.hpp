// Internal to the .npz code: the libzip objects it uses, owned by RAII types, and the output that
// writes a new archive atomically (through AtomicFile) instead of libzip's own temporary file.
#pragma once

#include <zip.h>

#include <cstdint>
#include <exception>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "atomic_file.hpp"

namespace tg::detail {

struct ZipSourceFree {
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};
struct ZipDiscard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileClose {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using ZipSource = std::unique_ptr<zip_source_t, ZipSourceFree>;
using ZipArchive = std::unique_ptr<zip_t, ZipDiscard>;  // zip_close() is called explicitly, then release()
using ZipFile = std::unique_ptr<zip_file_t, ZipFileClose>;

// A zip_error_t that frees its message.
class ZipError {
 public:
  ZipError() { zip_error_init(&error_); }
  ~ZipError() { zip_error_fini(&error_); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
  zip_error_t* get() { return &error_; }

 private:
  zip_error_t error_;
};

// libzip's output for a new archive, written to an AtomicFile beside `target` (created when libzip
// begins writing, in zip_close) and renamed over it when libzip commits. libzip is C: an exception
// must not cross it, so a failure of the file is kept and rethrown after zip_close.
class AtomicZipOutput {
 public:
  AtomicZipOutput(std::string target, std::string who) : target_(std::move(target)), who_(std::move(who)) {
    zip_error_init(&error_);
  }
  ~AtomicZipOutput() { zip_error_fini(&error_); }
  AtomicZipOutput(const AtomicZipOutput&) = delete;
  AtomicZipOutput& operator=(const AtomicZipOutput&) = delete;

  // A new, empty archive writing to this output, which must outlive it.
  ZipArchive create_archive();
  // Rethrows the exception that made a write, the commit or the file's creation fail, if any.
  void rethrow_failure() const;

 private:
  static zip_int64_t callback(void* self, void* data, zip_uint64_t length, zip_source_cmd_t command);
  zip_int64_t handle(void* data, zip_uint64_t length, zip_source_cmd_t command);
  zip_int64_t write(const void* data, zip_uint64_t length);
  bool patch_pending(const void* data, std::size_t length);
  void flush();
  zip_int64_t seek(void* args, zip_uint64_t length);
  zip_int64_t refuse(int zip_code, int system_code);

  std::string target_, who_;
  std::optional<AtomicFile> file_;
  std::uint64_t position_ = 0, end_ = 0;
  // libzip writes in small pieces (headers; data 8 KiB at a time) and goes back to complete each
  // local header; pieces are gathered here, the file bytes from pending_start_ on, into large writes.
  std::vector<char> pending_;
  std::uint64_t pending_start_ = 0;
  zip_error_t error_;
  std::exception_ptr failure_;
};

}  // namespace tg::detail
