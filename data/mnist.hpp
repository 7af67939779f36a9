// MNIST and Fashion-MNIST: 28 x 28 grey images with labels 0-9, read from idx files (raw or .gz).
//
//   tg::data::MNIST train("data/mnist", tg::data::Split::train);
//   tg::data::FashionMNIST test("/usr/share/datasets/fashion-mnist", tg::data::Split::test);
//
// The images stay bytes (60000 x 28 x 28 = 47 MB for the training set); a DataLoader turns
// them into floats one batch at a time. Copies of a dataset share the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/tensor.hpp"

namespace tg::data {

enum class Split { train, test };
enum class MnistKind { mnist, fashion };

class MNIST {
 public:
  static constexpr std::size_t kRows = 28, kCols = 28, kNumClasses = 10;

  // Looks in `directory` for the split's two files under the names
  // `{train,t10k}-{images-idx3,labels-idx1}-ubyte` or `{train,t10k}-{images,labels}.idx{3,1}-ubyte`,
  // each raw or with `.gz`. Missing files: std::runtime_error listing the names looked for
  // and the command that fetches them. Bad content: std::invalid_argument naming the file.
  explicit MNIST(const std::string& directory, Split split = Split::train, MnistKind kind = MnistKind::mnist);

  std::size_t size() const { return labels_->size(); }
  std::size_t rows() const { return kRows; }
  std::size_t cols() const { return kCols; }
  std::size_t image_size() const { return kRows * kCols; }  // bytes per image

  const std::vector<std::uint8_t>& images() const { return *images_; }  // size() x rows x cols, row-major
  const Labels& labels() const { return *labels_; }
  const std::uint8_t* image(std::size_t i) const;  // image_size() bytes; throws if i >= size()
  std::int64_t label(std::size_t i) const;          // throws if i >= size()

  Split split() const { return split_; }
  MnistKind kind() const { return kind_; }
  const std::string& images_path() const { return images_path_; }
  const std::string& labels_path() const { return labels_path_; }

  // "0".."9" for MNIST; "T-shirt/top", "Trouser", ... for Fashion-MNIST.
  static const std::vector<std::string>& class_names(MnistKind kind);

  // The shared storage, for loaders that must outlive this object.
  std::shared_ptr<const std::vector<std::uint8_t>> shared_images() const { return images_; }
  std::shared_ptr<const Labels> shared_labels() const { return labels_; }

 private:
  std::shared_ptr<const std::vector<std::uint8_t>> images_;
  std::shared_ptr<const Labels> labels_;
  std::string images_path_, labels_path_;
  Split split_;
  MnistKind kind_;
};

// Fashion-MNIST (Zalando): the same format. Debian's dataset-fashion-mnist package installs it
// into kFashionMnistDebianDir (scripts/fetch_fashion_mnist.sh).
class FashionMNIST : public MNIST {
 public:
  explicit FashionMNIST(const std::string& directory, Split split = Split::train)
      : MNIST(directory, split, MnistKind::fashion) {}
};

inline constexpr const char* kFashionMnistDebianDir = "/usr/share/datasets/fashion-mnist";

}  // namespace tg::data
