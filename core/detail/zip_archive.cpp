#include "zip_archive.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace tg::detail {

namespace {
constexpr std::size_t kWriteChunk = std::size_t(1) << 20;
}  // namespace

ZipArchive AtomicZipOutput::create_archive() {
  ZipError error;
  ZipSource source(zip_source_function_create(&AtomicZipOutput::callback, this, error.get()));
  zip_t* archive = source ? zip_open_from_source(source.get(), ZIP_CREATE | ZIP_EXCL, error.get()) : nullptr;
  if (archive == nullptr) {
    throw std::runtime_error(fmt::format("{}: '{}': cannot start a zip archive: {}", who_, target_,
                                         zip_error_strerror(error.get())));
  }
  source.release();  // the archive owns it now
  return ZipArchive(archive);
}

void AtomicZipOutput::rethrow_failure() const {
  if (failure_) std::rethrow_exception(failure_);
}

zip_int64_t AtomicZipOutput::callback(void* self, void* data, zip_uint64_t length, zip_source_cmd_t command) {
  return static_cast<AtomicZipOutput*>(self)->handle(data, length, command);
}

zip_int64_t AtomicZipOutput::handle(void* data, zip_uint64_t length, zip_source_cmd_t command) {
  try {
    switch (command) {
      case ZIP_SOURCE_SUPPORTS:
        // The reading commands are listed because libzip requires them of any archive's source;
        // a new archive is never read.
        return ZIP_SOURCE_SUPPORTS_WRITABLE;
      case ZIP_SOURCE_STAT:
        return refuse(ZIP_ER_READ, ENOENT);  // nothing there yet: libzip starts an empty archive
      case ZIP_SOURCE_BEGIN_WRITE:
        file_.emplace(target_, who_);
        position_ = end_ = pending_start_ = 0;
        pending_.clear();
        pending_.reserve(kWriteChunk);
        return 0;
      case ZIP_SOURCE_WRITE:
        return write(data, length);
      case ZIP_SOURCE_SEEK_WRITE:
        return seek(data, length);
      case ZIP_SOURCE_TELL_WRITE:
        return static_cast<zip_int64_t>(position_);
      case ZIP_SOURCE_COMMIT_WRITE:
        flush();
        file_->commit();
        return 0;
      case ZIP_SOURCE_ROLLBACK_WRITE:
        file_.reset();  // removes the temporary file
        return 0;
      case ZIP_SOURCE_REMOVE:  // the target is only ever replaced, on commit
      case ZIP_SOURCE_FREE:
        return 0;
      case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&error_, data, length);
      default:
        return refuse(ZIP_ER_OPNOTSUPP, 0);
    }
  } catch (...) {
    failure_ = std::current_exception();
    return refuse(ZIP_ER_WRITE, 0);
  }
}

zip_int64_t AtomicZipOutput::write(const void* data, zip_uint64_t length) {
  const auto n = static_cast<std::size_t>(length);
  if (!patch_pending(data, n)) {
    if (position_ != pending_start_ + pending_.size() || pending_.size() + n > kWriteChunk) flush();
    if (n >= kWriteChunk) {
      file_->write_at(position_, data, n);
      pending_start_ = position_ + n;
    } else {
      pending_.insert(pending_.end(), static_cast<const char*>(data), static_cast<const char*>(data) + n);
    }
  }
  position_ += length;
  end_ = std::max(end_, position_);
  return static_cast<zip_int64_t>(length);
}

// Overwrites pending bytes in place (a local header completed while it is still pending).
bool AtomicZipOutput::patch_pending(const void* data, std::size_t length) {
  const std::uint64_t pending_end = pending_start_ + pending_.size();
  if (position_ < pending_start_ || position_ >= pending_end || length > pending_end - position_) return false;
  std::memcpy(pending_.data() + (position_ - pending_start_), data, length);
  return true;
}

// Writes the pending bytes; what is written next starts a new run at the current position.
void AtomicZipOutput::flush() {
  if (!pending_.empty()) file_->write_at(pending_start_, pending_.data(), pending_.size());
  pending_.clear();
  pending_start_ = position_;
}

zip_int64_t AtomicZipOutput::seek(void* args, zip_uint64_t length) {
  const zip_int64_t to = zip_source_seek_compute_offset(position_, end_, args, length, &error_);
  if (to < 0) return -1;
  position_ = static_cast<std::uint64_t>(to);
  return 0;
}

zip_int64_t AtomicZipOutput::refuse(int zip_code, int system_code) {
  zip_error_set(&error_, zip_code, system_code);
  return -1;
}

}  // namespace tg::detail
