// examples/png_writer.hpp: pixels survive a round trip through libpng; errors are reported.
#include <filesystem>

#include "../data/synthetic.hpp"
#include "png_read.hpp"
#include "png_writer.hpp"
#include "test_util.hpp"

using Catch::Matchers::Contains;
using tg::test::message_of;

TEST_CASE("write_png writes RGB and grey pixels that libpng reads back unchanged") {
  tg::test::TempDir dir;
  example::Image rgb(3, 2, 3);
  for (std::size_t i = 0; i < rgb.pixels.size(); ++i) rgb.pixels[i] = static_cast<std::uint8_t>(i * 13);
  rgb.set(2, 1, {255, 0, 7});
  example::write_png(dir.file("rgb.png"), rgb);
  tg::test::ReadPng back = tg::test::read_png(dir.file("rgb.png"));
  INFO(back.error);
  REQUIRE(back.ok);
  CHECK(back.width == 3);
  CHECK(back.height == 2);
  CHECK(back.channels == 3);
  CHECK(back.pixels == rgb.pixels);
  CHECK(std::vector<std::uint8_t>(back.pixels.end() - 3, back.pixels.end()) == std::vector<std::uint8_t>{255, 0, 7});

  example::Image grey(5, 4, 1, 9);
  grey.set(4, 3, {200, 0, 0});
  example::write_png(dir.file("grey.png"), grey);
  back = tg::test::read_png(dir.file("grey.png"));
  REQUIRE(back.ok);
  CHECK(back.channels == 1);
  CHECK(back.pixels == grey.pixels);
  CHECK(back.pixels.back() == 200);

  grey.pixels.assign(grey.pixels.size(), 1);  // overwriting replaces the file
  example::write_png(dir.file("grey.png"), grey);
  CHECK(tg::test::read_png(dir.file("grey.png")).pixels == grey.pixels);
  CHECK_FALSE(std::filesystem::exists(dir.file("grey.png.tmp")));
}

TEST_CASE("write_png refuses wrong images and reports files it cannot write") {
  tg::test::TempDir dir;
  example::Image two_channels(2, 2, 2);
  CHECK_THAT(message_of<std::invalid_argument>([&] { example::write_png(dir.file("a.png"), two_channels); }),
             Contains("1 or 3 channels, not 2"));
  example::Image short_pixels(4, 4, 3);
  short_pixels.pixels.pop_back();
  CHECK_THAT(message_of<std::invalid_argument>([&] { example::write_png(dir.file("a.png"), short_pixels); }),
             Contains("47 bytes for a 4 x 4 x 3 image"));
  CHECK_THAT(message_of<std::invalid_argument>([&] { example::write_png(dir.file("a.png"), example::Image()); }),
             Contains("0 x 0 image"));
  CHECK_FALSE(std::filesystem::exists(dir.file("a.png")));

  const std::string missing = dir.file("no/such/folder/b.png");
  CHECK_THAT(message_of<std::runtime_error>([&] { example::write_png(missing, example::Image(1, 1, 1)); }),
             Contains("write_png: cannot write " + missing + ".tmp"));
}
