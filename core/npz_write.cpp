// write_npz: tapegrad makes the NPY preambles and checks the names; libzip lays out the archive
// (zip64 where sizes, offsets or the entry count need it); AtomicZipOutput puts it in place.
#include "npz.hpp"

#include <ctime>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "detail/atomic_file.hpp"
#include "detail/npy_format.hpp"
#include "detail/zip_archive.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .npz code writes and reads little-endian data as is");

namespace tg {
namespace {

using namespace detail;

// One array to write: its name in the archive and views of its bytes, which must outlive the write.
struct Item {
  std::string entry;  // NAME.npy
  std::string preamble;
  const void* data;
  std::size_t bytes;
};

template <class T>
Item item_of(const std::string& name, const Tensor<T>& t) {
  return Item{name + ".npy", npy_preamble(sizeof(T) == 4 ? "<f4" : "<f8", shape_of(t)), t.data(),
              t.size() * sizeof(T)};
}

// Names must be usable as zip entry names and unique; checked before any file is made.
void check_names(const std::string& path, const std::vector<Item>& items) {
  std::set<std::string> names;
  for (const Item& item : items) {
    const std::string name = item.entry.substr(0, item.entry.size() - 4);
    if (name.empty() || name.find('\0') != std::string::npos) {
      throw std::invalid_argument(fmt::format("write_npz: '{}': array names must be non-empty and free of NUL bytes", path));
    }
    // A zip entry name has at most 65535 bytes; libzip would silently cut a longer one.
    if (item.entry.size() > 65535) throw std::invalid_argument(fmt::format("write_npz: '{}': an array name is too long", path));
    if (!names.insert(item.entry).second) {
      throw std::invalid_argument(fmt::format("write_npz: '{}': the name '{}' appears twice", path, name));
    }
  }
}

// libzip deletes an archive left with no entries instead of writing one, so the empty archive
// (a lone end of central directory record, as numpy.savez writes it) is written here.
void write_empty_archive(const std::string& path) {
  static const char end_record[22] = {'P', 'K', 5, 6};
  remove_stale_temps(path);
  AtomicFile file(path, "write_npz");
  file.write_at(0, end_record, sizeof end_record);
  file.commit();
}

// 1980-01-01 00:00, the earliest DOS date, as the entries' time: the same arrays always make the
// same bytes. libzip turns a time_t into a DOS date in local time, so this is local time too.
std::time_t entry_time() {
  std::tm date{};
  date.tm_year = 80;
  date.tm_mday = 1;
  date.tm_isdst = -1;
  return std::mktime(&date);
}

[[noreturn]] void zip_failed(const std::string& path, const std::string& what, zip_t* archive) {
  throw std::runtime_error(fmt::format("write_npz: '{}': {}: {}", path, what, zip_strerror(archive)));
}

// Adds one stored entry reading the preamble and the array in place.
void add_entry(zip_t* archive, const Item& item, std::time_t when, const std::string& path) {
  // The source only reads the fragments (it is told not to free them); libzip's type is not const.
  // An empty array has no data fragment.
  const zip_buffer_fragment_t parts[2] = {
      {reinterpret_cast<zip_uint8_t*>(const_cast<char*>(item.preamble.data())), item.preamble.size()},
      {static_cast<zip_uint8_t*>(const_cast<void*>(item.data)), item.bytes}};
  ZipError error;
  ZipSource source(zip_source_buffer_fragment_create(parts, item.bytes > 0 ? 2 : 1, 0, error.get()));
  if (!source) {
    throw std::runtime_error(fmt::format("write_npz: '{}': {}", path, zip_error_strerror(error.get())));
  }
  const zip_int64_t index = zip_file_add(archive, item.entry.c_str(), source.get(), ZIP_FL_ENC_UTF_8);
  if (index < 0 && zip_error_code_zip(zip_get_error(archive)) == ZIP_ER_INVAL) {
    throw std::invalid_argument(fmt::format("write_npz: '{}': the array name '{}' is not valid UTF-8", path,
                                            item.entry.substr(0, item.entry.size() - 4)));
  }
  if (index < 0) zip_failed(path, fmt::format("cannot add '{}'", item.entry), archive);
  source.release();  // the archive owns it now
  const auto at = static_cast<zip_uint64_t>(index);
  if (zip_set_file_compression(archive, at, ZIP_CM_STORE, 0) != 0 ||
      zip_file_set_mtime(archive, at, when, 0) != 0 ||
      zip_file_set_external_attributes(archive, at, 0, ZIP_OPSYS_UNIX, 0100644u << 16) != 0) {  // rw-r--r--
    zip_failed(path, fmt::format("cannot set up '{}'", item.entry), archive);
  }
}

void write_items(const std::string& path, const std::vector<Item>& items) {
  check_names(path, items);
  if (items.empty()) return write_empty_archive(path);
  AtomicZipOutput output(path, "write_npz");
  ZipArchive archive = output.create_archive();
  const std::time_t when = entry_time();
  for (const Item& item : items) add_entry(archive.get(), item, when, path);
  remove_stale_temps(path);
  if (zip_close(archive.get()) == 0) {
    archive.release();  // zip_close freed it
    return;
  }
  output.rethrow_failure();  // the file system's own error (disk full, rename refused, ...)
  zip_failed(path, "writing the archive failed", archive.get());
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
