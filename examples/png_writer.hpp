// Writes 8-bit grey or RGB images as PNG files through libpng (Debian's libpng-dev, PNG::PNG).
//
//   example::Image img(width, height, 3);           // RGB, black
//   img.set(x, y, {255, 0, 0});
//   example::write_png("out.png", img);             // atomically: a temporary file, then a rename
#pragma once

#include <png.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace example {

// Row-major pixels, `channels` (1: grey, 3: RGB) bytes each.
struct Image {
  std::size_t width = 0, height = 0, channels = 1;
  std::vector<std::uint8_t> pixels;

  Image() = default;
  Image(std::size_t w, std::size_t h, std::size_t c, std::uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(w * h * c, fill) {}

  std::uint8_t* at(std::size_t x, std::size_t y) { return pixels.data() + (y * width + x) * channels; }
  void set(std::size_t x, std::size_t y, const std::array<std::uint8_t, 3>& rgb) {
    std::uint8_t* p = at(x, y);
    for (std::size_t c = 0; c < channels; ++c) p[c] = channels == 1 ? rgb[0] : rgb[c];
  }
};

// Writes `image` to `path` as a PNG. The file appears whole or not at all: it is written to
// `path + ".tmp"` and renamed. A wrong image is std::invalid_argument, an I/O failure
// std::runtime_error naming the file and libpng's or the system's reason.
inline void write_png(const std::string& path, const Image& image) {
  if (image.channels != 1 && image.channels != 3) {
    throw std::invalid_argument("write_png: an image has 1 or 3 channels, not " + std::to_string(image.channels));
  }
  if (image.width == 0 || image.height == 0 || image.width > 0x7fffffff || image.height > 0x7fffffff) {
    throw std::invalid_argument("write_png: cannot write a " + std::to_string(image.width) + " x " +
                                std::to_string(image.height) + " image");
  }
  if (image.pixels.size() != image.width * image.height * image.channels) {
    throw std::invalid_argument("write_png: " + std::to_string(image.pixels.size()) + " bytes for a " +
                                std::to_string(image.width) + " x " + std::to_string(image.height) + " x " +
                                std::to_string(image.channels) + " image");
  }
  // libpng's simplified API reports errors through png_image::message instead of longjmp.
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const std::string temporary = path + ".tmp";
  if (!png_image_write_to_file(&png, temporary.c_str(), 0, image.pixels.data(), 0, nullptr)) {
    const std::string reason = png.message;
    png_image_free(&png);
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error("write_png: cannot write " + temporary + ": " + reason);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(temporary, ec);
    throw std::runtime_error("write_png: cannot rename " + temporary + " to " + path + ": " + reason);
  }
}

}  // namespace example
