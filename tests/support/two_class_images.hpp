// A tiny synthetic data set for training tests: two classes of 8x8 images, bright top half
// (label 0) or bright bottom half (label 1), with Gaussian noise; batches of 16, shuffled per epoch.
#pragma once

#include <tapegrad/tapegrad.hpp>

#include <algorithm>

namespace tg::test {

inline data::DataLoader<float> two_class_images(std::size_t n, std::uint64_t seed, double noise) {
  Generator gen(seed);
  std::vector<std::uint8_t> images(n * 64);
  Labels labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int64_t>(i % 2);
    for (std::size_t p = 0; p < 64; ++p) {
      const double base = ((p < 32) == (labels[i] == 0)) ? 180 : 60;
      images[i * 64 + p] = static_cast<std::uint8_t>(std::clamp(base + gen.normal(0, noise), 0.0, 255.0));
    }
  }
  data::DataLoaderOptions options;
  options.batch_size = 16;
  options.shuffle = true;
  options.seed = seed;
  return data::DataLoader<float>(std::move(images), std::move(labels), 8, 8, options);
}

}  // namespace tg::test
