#include "loader.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "../core/detail/checked.hpp"
#include "../core/detail/cpu.hpp"
#include "../core/detail/parallel.hpp"
#include "../core/errors.hpp"

namespace tg::data {
namespace {

// A uniform integer in [0, bound] from the engine's raw 64-bit output, by rejection, so the
// permutation is the same with every standard library (std::shuffle and the distributions
// are implementation-defined; std::mt19937_64 and std::seed_seq are not).
std::uint64_t uniform_upto(std::mt19937_64& engine, std::uint64_t bound) {
  if (bound == std::numeric_limits<std::uint64_t>::max()) return engine();
  const std::uint64_t range = bound + 1;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t x;
  do x = engine();
  while (x >= limit);
  return x % range;
}

// out[p] = byte / 255, by division as torchvision's ToTensor does.
template <class T>
TG_KERNEL_INLINE void bytes_to_unit_kernel(const std::uint8_t* src, std::size_t n, T* out) {
  for (std::size_t p = 0; p < n; ++p) out[p] = static_cast<T>(src[p]) / static_cast<T>(255);
}
TG_AVX512_CLONES void bytes_to_unit(const std::uint8_t* src, std::size_t n, float* out) {
  bytes_to_unit_kernel(src, n, out);
}
TG_AVX512_CLONES void bytes_to_unit(const std::uint8_t* src, std::size_t n, double* out) {
  bytes_to_unit_kernel(src, n, out);
}

}  // namespace

template <class T>
DataLoader<T>::DataLoader(const MNIST& dataset, std::size_t batch_size, bool shuffle, std::uint64_t seed,
                          bool drop_last)
    : DataLoader(dataset, DataLoaderOptions{batch_size, shuffle, seed, drop_last}) {}

template <class T>
DataLoader<T>::DataLoader(const MNIST& dataset, const DataLoaderOptions& options)
    : images_(dataset.shared_images()),
      labels_(dataset.shared_labels()),
      rows_(dataset.rows()),
      cols_(dataset.cols()),
      options_(options) {
  check();
}

template <class T>
DataLoader<T>::DataLoader(std::vector<std::uint8_t> images, Labels labels, std::size_t rows, std::size_t cols,
                          const DataLoaderOptions& options)
    : rows_(rows), cols_(cols), options_(options) {
  if (rows == 0 || cols == 0) fail("DataLoader", "images must have at least one pixel, got {} x {}", rows, cols);
  // Every image, and each batch of them, becomes a tensor: the products must not wrap around.
  std::size_t bytes = 0, pixels = 0;
  if (!detail::count_fits({labels.size(), rows, cols}, bytes) || !detail::count_fits({rows, cols}, pixels)) {
    fail("DataLoader", "{} labels of {} x {} images need more bytes than a tensor can hold (the count {} x {} x {} overflows)",
         labels.size(), rows, cols, labels.size(), rows, cols);
  }
  if (images.size() != bytes) {
    fail("DataLoader", "{} labels need {} x {} x {} = {} image bytes, got {}", labels.size(), labels.size(), rows, cols,
         bytes, images.size());
  }
  images_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(images));
  labels_ = std::make_shared<const Labels>(std::move(labels));
  check();
}

template <class T>
void DataLoader<T>::check() const {
  if (options_.batch_size == 0) fail("DataLoader", "batch_size must be at least 1, got 0");
}

template <class T>
std::size_t DataLoader<T>::num_batches() const {
  const std::size_t n = dataset_size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

template <class T>
std::vector<std::size_t> DataLoader<T>::order(std::size_t epoch) const {
  std::vector<std::size_t> order(dataset_size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  if (!options_.shuffle) return order;
  const std::uint64_t seed = options_.seed, e = epoch;
  std::seed_seq seq{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(e), std::uint32_t(e >> 32)};
  std::mt19937_64 engine(seq);
  for (std::size_t i = order.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(order[i - 1], order[uniform_upto(engine, i - 1)]);
  }
  return order;
}

template <class T>
typename DataLoader<T>::iterator DataLoader<T>::begin() {
  auto current = std::make_shared<const std::vector<std::size_t>>(order(epoch_));
  ++epoch_;
  return iterator(this, std::move(current), 0);
}

template <class T>
Batch<T> DataLoader<T>::make_batch(const std::vector<std::size_t>& order, std::size_t b) const {
  Batch<T> batch;
  fill_batch(order, b, batch);
  return batch;
}

template <class T>
void DataLoader<T>::fill_batch(const std::vector<std::size_t>& order, std::size_t b, Batch<T>& batch) const {
  if (order.size() != dataset_size()) {
    fail("DataLoader", "an order of {} samples does not fit a dataset of {}", order.size(), dataset_size());
  }
  if (b >= num_batches()) fail("DataLoader", "batch {} is out of range: an epoch has {} batches", b, num_batches());
  const std::size_t start = b * options_.batch_size;
  const std::size_t count = std::min(options_.batch_size, dataset_size() - start);
  const std::size_t pixels = rows_ * cols_;
  for (std::size_t k = start; k < start + count; ++k) {
    if (order[k] >= dataset_size()) {
      fail("DataLoader", "sample index {} is out of range for a dataset of {}", order[k], dataset_size());
    }
  }

  // Reuse the previous batch's buffer when nothing else holds its images (a recorded graph
  // would): the data is then unobservable, and a fresh 200 KB tensor per batch costs page faults.
  Tensor<T> images;
  if (batch.images.defined() && batch.images.impl().use_count() == 1) images = std::move(batch.images.value());
  batch.images = Variable<T>();
  images.resize({count, std::size_t(1), rows_, cols_});
  batch.indices.assign(order.begin() + start, order.begin() + start + count);
  batch.labels.resize(count);

  for (std::size_t k = 0; k < count; ++k) batch.labels[k] = (*labels_)[batch.indices[k]];
  const std::uint8_t* src_base = images_->data();
  T* dst = images.data();
  // Split over the threads for a large batch (an inference batch of 1000 images would
  // otherwise leave the second core idle for a millisecond).
  detail::parallel_blocks(count, pixels, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) {
      const std::uint8_t* src = src_base + batch.indices[k] * pixels;
      T* out = dst + k * pixels;
      if (k + 1 < hi) {  // the next image is a random jump away: start fetching it
        const std::uint8_t* next = src_base + batch.indices[k + 1] * pixels;
        for (std::size_t off = 0; off < pixels; off += 64) __builtin_prefetch(next + off);
      }
      bytes_to_unit(src, pixels, out);
    }
  });
  batch.images = Variable<T>(std::move(images));
}

template class DataLoader<float>;
template class DataLoader<double>;

}  // namespace tg::data
