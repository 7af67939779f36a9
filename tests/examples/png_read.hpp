// Reads a PNG file back with libpng, for the tests of what the examples write.
#pragma once

#include <png.h>

#include <cstring>
#include <string>
#include <vector>

namespace tg::test {

struct ReadPng {
  bool ok = false;
  std::string error;
  std::size_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

// The file's pixels as 8-bit grey (channels 1) or RGB (channels 3), as stored.
inline ReadPng read_png(const std::string& path) {
  ReadPng r;
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    r.error = png.message;
    return r;
  }
  const bool grey = (png.format & PNG_FORMAT_FLAG_COLOR) == 0;
  png.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  r.width = png.width;
  r.height = png.height;
  r.channels = grey ? 1 : 3;
  r.pixels.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, r.pixels.data(), 0, nullptr)) {
    r.error = png.message;
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace tg::test
