#include "mnist.hpp"

#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "../core/errors.hpp"
#include "idx.hpp"

namespace tg::data {
namespace {

namespace fs = std::filesystem;

const char* name_of(MnistKind kind) { return kind == MnistKind::fashion ? "FashionMNIST" : "MNIST"; }

// The file names one of the split's files may have, in the order they are tried.
std::vector<std::string> candidates(Split split, const char* what /* "images" or "labels" */) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::string idx = std::string(what) == "images" ? "idx3" : "idx1";
  std::vector<std::string> names;
  for (const char* suffix : {"", ".gz"}) {
    names.push_back(fmt::format("{}-{}-{}-ubyte{}", prefix, what, idx, suffix));
    names.push_back(fmt::format("{}-{}.{}-ubyte{}", prefix, what, idx, suffix));
  }
  return names;
}

std::string fetch_hint(MnistKind kind, const std::string& directory) {
  if (kind == MnistKind::fashion) {
    return fmt::format("install Fashion-MNIST with: scripts/fetch_fashion_mnist.sh (Debian's dataset-fashion-mnist, "
                       "into {})", kFashionMnistDebianDir);
  }
  return fmt::format("download MNIST with: scripts/fetch_mnist.sh {}", directory);
}

std::string find_file(const std::string& directory, Split split, MnistKind kind, const char* what) {
  const std::vector<std::string> names = candidates(split, what);
  std::error_code ec;
  for (const std::string& name : names) {
    fs::path p = fs::path(directory) / name;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  const char* split_name = split == Split::train ? "train" : "test";
  const std::string where = fs::is_directory(directory, ec)
                                ? fmt::format("in {}", directory)
                                : fmt::format("because the directory {} does not exist", directory);
  throw std::runtime_error(fmt::format("{}: cannot find the {} {} file {} (looked for {}); {}", name_of(kind), split_name,
                                       what, where, fmt::join(names, ", "), fetch_hint(kind, directory)));
}

}  // namespace

MNIST::MNIST(const std::string& directory, Split split, MnistKind kind) : split_(split), kind_(kind) {
  const char* fn = name_of(kind);
  images_path_ = find_file(directory, split, kind, "images");
  labels_path_ = find_file(directory, split, kind, "labels");

  IdxFile images = read_idx(images_path_, IdxKind::images);
  if (images.dims[1] != kRows || images.dims[2] != kCols) {
    fail(fn, "{}: images are {} x {}, expected {} x {}", images_path_, images.dims[1], images.dims[2], kRows, kCols);
  }
  IdxFile labels = read_idx(labels_path_, IdxKind::labels);
  if (images.count() != labels.count()) {
    fail(fn, "{} holds {} images but {} holds {} labels", images_path_, images.count(), labels_path_, labels.count());
  }
  auto values = std::make_shared<Labels>(labels.bytes.size());
  for (std::size_t i = 0; i < labels.bytes.size(); ++i) {
    const std::uint8_t b = labels.bytes[i];
    if (b >= kNumClasses) fail(fn, "{}: label {} at index {} is not a class in [0, {})", labels_path_, b, i, kNumClasses);
    (*values)[i] = b;
  }
  images_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(images.bytes));
  labels_ = std::move(values);
}

const std::uint8_t* MNIST::image(std::size_t i) const {
  if (i >= size()) fail(name_of(kind_), "image index {} is out of range for a dataset of {} images", i, size());
  return images_->data() + i * image_size();
}

std::int64_t MNIST::label(std::size_t i) const {
  if (i >= size()) fail(name_of(kind_), "label index {} is out of range for a dataset of {} labels", i, size());
  return (*labels_)[i];
}

const std::vector<std::string>& MNIST::class_names(MnistKind kind) {
  static const std::vector<std::string> digits = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  static const std::vector<std::string> fashion = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return kind == MnistKind::fashion ? fashion : digits;
}

}  // namespace tg::data
