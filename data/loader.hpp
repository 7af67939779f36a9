// DataLoader: batches of images (B, 1, rows, cols) scaled to [0, 1] with their labels.
//
//   tg::data::MNIST train("data/mnist");
//   tg::data::DataLoader<> loader(train, /*batch_size=*/64, /*shuffle=*/true, /*seed=*/42);
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& batch : loader) {          // a new order every epoch
//       auto loss = tg::cross_entropy(model(batch.images), batch.labels);
//       ...
//     }
//
// Like PyTorch's DataLoader(dataset, batch_size, shuffle, drop_last, generator): the last batch
// is smaller unless drop_last. Shuffling is deterministic: epoch e uses the order
// order(e), drawn from (seed, e) by a std::mt19937_64, so a run repeats and can resume at any
// epoch (set_epoch). Each begin() starts the next epoch. The bytes are shared with the dataset
// and converted to T (byte / 255) one batch at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "../core/variable.hpp"
#include "mnist.hpp"

namespace tg::data {

struct DataLoaderOptions {
  std::size_t batch_size = 1;  // PyTorch's default
  bool shuffle = false;
  std::uint64_t seed = 0;
  bool drop_last = false;
};

template <class T = float>
struct Batch {
  Variable<T> images;                // (B, 1, rows, cols), values byte / 255; no gradient
  Labels labels;                     // B class indices
  std::vector<std::size_t> indices;  // which samples of the dataset, in batch order
  std::size_t size() const { return labels.size(); }
};

template <class T = float>
class DataLoader {
 public:
  DataLoader(const MNIST& dataset, std::size_t batch_size, bool shuffle = false, std::uint64_t seed = 0,
             bool drop_last = false);
  DataLoader(const MNIST& dataset, const DataLoaderOptions& options);
  // Raw arrays: `images` holds labels.size() images of rows x cols bytes, row-major.
  DataLoader(std::vector<std::uint8_t> images, Labels labels, std::size_t rows, std::size_t cols,
             const DataLoaderOptions& options);

  // An input iterator over one epoch. It owns the current batch; `*it` stays valid until `++it`.
  // Copies of `batch.images` (a Variable is a shared handle) stay valid for good: the buffer
  // is reused for the next batch only when no other handle to it is left.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch<T>;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch<T>*;
    using reference = Batch<T>&;

    iterator() = default;
    Batch<T>& operator*() { return batch_; }
    Batch<T>* operator->() { return &batch_; }
    iterator& operator++() {
      if (++index_ < loader_->num_batches()) loader_->fill_batch(*order_, index_, batch_);
      return *this;
    }
    bool operator==(const iterator& other) const { return index_ == other.index_; }
    bool operator!=(const iterator& other) const { return index_ != other.index_; }
    std::size_t index() const { return index_; }  // batch number within the epoch

   private:
    friend class DataLoader;
    iterator(const DataLoader* loader, std::shared_ptr<const std::vector<std::size_t>> order, std::size_t index)
        : loader_(loader), order_(std::move(order)), index_(index) {
      if (order_ && index_ < loader_->num_batches()) loader_->fill_batch(*order_, index_, batch_);
    }
    const DataLoader* loader_ = nullptr;
    std::shared_ptr<const std::vector<std::size_t>> order_;
    std::size_t index_ = 0;
    Batch<T> batch_;
  };

  iterator begin();  // starts epoch epoch() with order(epoch()), then advances epoch()
  iterator end() const { return iterator(this, nullptr, num_batches()); }

  std::size_t num_batches() const;  // len(loader) in PyTorch
  std::size_t dataset_size() const { return labels_->size(); }
  std::size_t batch_size() const { return options_.batch_size; }
  const DataLoaderOptions& options() const { return options_; }
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }

  std::size_t epoch() const { return epoch_; }  // the epoch the next begin() starts
  void set_epoch(std::size_t epoch) { epoch_ = epoch; }

  // The sample order of an epoch: 0..n-1, or its permutation drawn from (seed, epoch).
  std::vector<std::size_t> order(std::size_t epoch) const;
  // Batch b (0-based) of an epoch whose sample order is `order`.
  Batch<T> make_batch(const std::vector<std::size_t>& order, std::size_t b) const;
  // The same into `batch`, reusing its buffers where nothing else holds them.
  void fill_batch(const std::vector<std::size_t>& order, std::size_t b, Batch<T>& batch) const;

 private:
  void check() const;

  std::shared_ptr<const std::vector<std::uint8_t>> images_;
  std::shared_ptr<const Labels> labels_;
  std::size_t rows_ = 0, cols_ = 0;
  DataLoaderOptions options_;
  std::size_t epoch_ = 0;
};

}  // namespace tg::data
