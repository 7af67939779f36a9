// The .npz format (what numpy.savez writes and numpy.load reads): a ZIP archive holding one
// NAME.npy file (NPY format) per array. Format code only; nn/serialize uses it for checkpoints.
// The zip container is libzip's, zip64 included: no 4 GiB or 65,535-array limit.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "../core/tensor.hpp"

namespace tg {

// One array read from an .npz: float32 ('<f4') or float64 ('<f8'), any shape (0-d included).
class NpyArray {
 public:
  explicit NpyArray(Tensor<float> value) : value_(std::move(value)) {}
  explicit NpyArray(Tensor<double> value) : value_(std::move(value)) {}

  bool is_float32() const { return std::holds_alternative<Tensor<float>>(value_); }
  bool is_float64() const { return std::holds_alternative<Tensor<double>>(value_); }
  const char* dtype() const { return is_float32() ? "<f4" : "<f8"; }
  Shape shape() const;

  // The array as stored; throws std::invalid_argument naming both dtypes if it is the other one.
  template <class T>
  const Tensor<T>& get() const;
  // A copy converted to T, whatever the stored dtype.
  template <class T>
  Tensor<T> to() const;

 private:
  std::variant<Tensor<float>, Tensor<double>> value_;
};

using NpzEntries = std::map<std::string, NpyArray>;

// Writes `arrays` as `path`, one NAME.npy per entry (stored, uncompressed, NPY format 1.0 with
// 64-byte aligned data); the same arrays always give the same bytes. Names must be unique,
// non-empty, valid UTF-8 and free of NUL bytes (std::invalid_argument before any file is made).
// The archive is written to a temporary file beside `path` and renamed into place, so a failure
// (std::runtime_error naming the path and the cause) leaves any previous file untouched and no
// partial file behind. A save killed outright (SIGKILL, power loss) leaves its
// "<path>.tmp.<pid>.<n>" file; the next save to the same path removes those whose process is gone
// before it starts.
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor<float>>>& arrays);
void write_npz(const std::string& path, const std::vector<std::pair<std::string, Tensor<double>>>& arrays);
void write_npz(const std::string& path, const std::vector<std::pair<std::string, NpyArray>>& arrays);

// Reads every array of an .npz (stored or deflated entries, as numpy.savez and
// numpy.savez_compressed write them, zip64 or not; NPY versions 1.0-3.0; '<f4' or '<f8'; C order).
// Everything is checked before it is trusted: the zip structure (end records, central directory and
// local headers must agree), sizes against the file, the NPY header, the shape against the data
// size, the CRC. A file that cannot be opened or read is a std::runtime_error; a malformed or
// unsupported one a std::invalid_argument. Both messages name the file and the problem.
NpzEntries read_npz(const std::string& path);

}  // namespace tg
