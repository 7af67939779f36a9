// Training-time augmentation of an image batch, like torchvision's
// RandomCrop(28, padding=pad) followed by RandomHorizontalFlip(p=0.5): each image is shifted by
// up to `pad` pixels each way (what is shifted in is zero, the background of MNIST-like images)
// and mirrored left-right with probability 1/2. It works on the whole (B, C, H, W) batch tensor
// in place (the data loader refills it for the next batch) and draws from a seeded generator, so
// a run repeats.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace example {

// What happens to one image: out[y][x] = in[y + shift_rows][x' + shift_cols] with
// x' = flip ? W-1-x : x, and zero where that falls outside the image. A crop at offset (i, j)
// of the image padded by p is the shift (i - p, j - p).
struct ImageTransform {
  int shift_rows = 0;
  int shift_cols = 0;
  bool flip = false;
};

// Applies transforms[b], in place, to every channel of image b of `images` (B, C, H, W). Each
// plane is copied to `scratch` first (resized once, then reused).
inline void transform_images(tg::Tensor<float>& images, const std::vector<ImageTransform>& transforms,
                             std::vector<float>& scratch) {
  if (images.dimension() != 4 || transforms.size() != images.shape()[0])
    throw std::invalid_argument("transform_images: expected a (B, C, H, W) batch and B transforms, got " +
                                std::to_string(images.dimension()) + " dimensions and " + std::to_string(transforms.size()) +
                                " transforms");
  const std::size_t channels = images.shape()[1], rows = images.shape()[2], cols = images.shape()[3];
  const auto height = static_cast<std::ptrdiff_t>(rows), width = static_cast<std::ptrdiff_t>(cols);
  if (scratch.size() < rows * cols) scratch.resize(rows * cols);
  for (std::size_t b = 0; b < transforms.size(); ++b) {
    const ImageTransform& t = transforms[b];
    if (t.shift_rows == 0 && t.shift_cols == 0 && !t.flip) continue;
    // Output columns whose source column lies inside the image, [first, last).
    const std::ptrdiff_t first = std::max<std::ptrdiff_t>(0, t.flip ? t.shift_cols : -t.shift_cols);
    const std::ptrdiff_t last = std::min<std::ptrdiff_t>(width, t.flip ? width + t.shift_cols : width - t.shift_cols);
    for (std::size_t c = 0; c < channels; ++c) {
      float* dst = images.data() + (b * channels + c) * rows * cols;
      std::copy(dst, dst + rows * cols, scratch.begin());
      for (std::ptrdiff_t y = 0; y < height; ++y, dst += width) {
        const std::ptrdiff_t source_row = y + t.shift_rows;
        std::fill(dst, dst + width, 0.0f);
        if (source_row < 0 || source_row >= height || first >= last) continue;
        const float* src = scratch.data() + source_row * width;
        if (t.flip)
          for (std::ptrdiff_t x = first; x < last; ++x) dst[x] = src[width - 1 - x + t.shift_cols];
        else
          std::copy(src + first + t.shift_cols, src + last + t.shift_cols, dst + first);
      }
    }
  }
}

// Draws a random shift in [-pad, pad] each way and a coin-flip mirror for every image of a batch
// and applies them in place, keeping its buffers from batch to batch. The draws use the
// generator's raw output (not std:: distributions, whose algorithms differ between standard
// libraries), so a seed gives the same augmentation everywhere.
class BatchAugmenter {
 public:
  BatchAugmenter(int pad, std::uint64_t seed) : pad_(pad), rng_(seed) {
    if (pad < 0) throw std::invalid_argument("BatchAugmenter: pad must be >= 0, got " + std::to_string(pad));
  }

  void operator()(tg::Tensor<float>& images) {
    const auto span = static_cast<std::uint64_t>(2 * pad_ + 1);
    transforms_.resize(images.dimension() > 0 ? images.shape()[0] : 0);
    for (ImageTransform& t : transforms_) {
      t.shift_rows = static_cast<int>(rng_() % span) - pad_;
      t.shift_cols = static_cast<int>(rng_() % span) - pad_;
      t.flip = (rng_() >> 63) != 0;
    }
    transform_images(images, transforms_, scratch_);
  }

  const std::vector<ImageTransform>& last_transforms() const { return transforms_; }  // for tests

 private:
  int pad_;
  std::mt19937_64 rng_;
  std::vector<ImageTransform> transforms_;
  std::vector<float> scratch_;
};

}  // namespace example
