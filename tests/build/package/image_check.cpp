// SPDX-License-Identifier: Apache-2.0
// The consumer's vikcse::image check (built where the package defines vikcse::image; see
// CMakeLists.txt): writes a 3 x 2 RGBA PNG with libpng (whose headers and library come through
// vikcse::image's PNG::PNG), decodes it with vikcse::decode_image, both alpha modes, and compares the
// pixels. Torch-free, so it adds seconds to the consumer's build.
#include <vikcse/image/decode.hpp>

#include <fmt/format.h>
#include <png.h>

#include <cstdint>
#include <vector>

namespace {

void append(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void flush(png_structp) {}

}  // namespace

int image_check() {
  constexpr int width = 3;
  constexpr int height = 2;
  std::uint8_t rgba[height][width * 4] = {{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255},
                                          {10, 20, 30, 0, 200, 100, 50, 128, 7, 7, 7, 255}};
  std::vector<std::uint8_t> file;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (info == nullptr || setjmp(png_jmpbuf(png)) != 0) {
    png_destroy_write_struct(&png, &info);
    fmt::print("consumer: libpng could not write the PNG\n");
    return 1;
  }
  png_set_write_fn(png, &file, append, flush);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (auto& row : rgba) png_write_row(png, row);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);

  const vikcse::Image dropped = vikcse::decode_image(file, "consumer.png");
  const vikcse::Image white =
      vikcse::decode_image(file, "consumer.png", {.alpha = vikcse::AlphaMode::composite_on_white});
  int wrong = dropped.width == width && dropped.height == height && dropped.channels == 3 ? 0 : 1;
  for (int y = 0; y < height && wrong == 0; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) wrong += dropped.at(x, y, c) != rgba[y][x * 4 + c];
    }
  }
  // Alpha 0 over white is white; alpha 255 keeps the colour.
  if (wrong == 0 && (white.at(0, 1, 0) != 255 || white.at(0, 1, 2) != 255 || white.at(2, 1, 1) != 7)) wrong = 1;
  fmt::print("consumer: vikcse::image decoded a {}x{} PNG ({} wrong samples)\n", dropped.width, dropped.height, wrong);
  return wrong == 0 ? 0 : 1;
}
