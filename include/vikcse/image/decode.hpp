// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file decode.hpp
/// Reading an image file as RGB the way the Python side does before any preprocessing:
/// `transformers.image_utils.load_image` = `PIL.Image.open` + `ImageOps.exif_transpose` +
/// `convert("RGB")` (Pillow 9.4). JPEG is decoded with libjpeg-turbo and PNG with libpng, the
/// libraries Pillow itself uses, so the pixels are bit-identical to Pillow's (jpeg.hpp, png.hpp say
/// how each is set up; stb_image has its own IDCT and upsampling and would differ by a few levels).
///
/// Rules, each Pillow's (the tests compare with Pillow in the same run):
/// - alpha: `DecodeOptions::alpha` (convert.hpp): `drop` (load_image, the default) or
///   `composite_on_white` (HF `convert_to_rgb` given a non-RGB PIL image);
/// - EXIF orientation 2..8 is applied as `exif_transpose` does; a malformed EXIF block never fails
///   the decoding, it means "as stored" (exif.hpp);
/// - CMYK/YCCK JPEG: inverted (Adobe convention), then Pillow's integer cmyk2rgb;
/// - 16-bit PNG: the high byte of RGB(A)/LA samples; a 16-bit greyscale value is clipped to 255.
///
/// Example:
/// ```cpp
/// vikcse::Image rgb = vikcse::read_image("photo.jpg");  // width, height, 3 channels
/// ```

#include <vikcse/error.hpp>
#include <vikcse/image/convert.hpp>
#include <vikcse/image/image.hpp>
#include <vikcse/image/jpeg.hpp>
#include <vikcse/image/orientation.hpp>
#include <vikcse/image/png.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace vikcse {

/// Options of `decode_image` / `read_image`.
struct DecodeOptions {
  AlphaMode alpha = AlphaMode::drop;          ///< how transparency becomes RGB (convert.hpp)
  bool apply_exif_orientation = true;         ///< apply EXIF orientation as `ImageOps.exif_transpose`
  /// Larger images are refused before their pixels are allocated: Pillow's own limit (2 x
  /// Image.MAX_IMAGE_PIXELS, above which it raises DecompressionBombError), a guard against hostile headers.
  std::int64_t max_pixels = 178956970;
};

/// The image format of `bytes` from its signature.
enum class ImageFormat { unknown, jpeg, png };

/// The format whose signature `bytes` starts with (JPEG: FF D8 FF; PNG: 89 'P' 'N' 'G' 0D 0A 1A 0A).
[[nodiscard]] inline ImageFormat detect_image_format(std::span<const std::uint8_t> bytes) noexcept {
  static constexpr std::uint8_t png_signature[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return ImageFormat::jpeg;
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_signature, 8) == 0) return ImageFormat::png;
  return ImageFormat::unknown;
}

/// Decodes a JPEG or PNG file held in memory to RGB (3 channels). `name` is the file, for errors.
/// @throws data_error naming `name` for empty data, another format, or corrupt or truncated data.
[[nodiscard]] inline Image decode_image(std::span<const std::uint8_t> bytes, std::string_view name,
                                        const DecodeOptions& options = {}) {
  if (bytes.empty()) throw_error<data_error>("{}: empty file (0 bytes); expected a JPEG or PNG image", name);
  DecodedFile file;
  switch (detect_image_format(bytes)) {
    case ImageFormat::jpeg: file = decode_jpeg(bytes, name, options.max_pixels); break;
    case ImageFormat::png: file = decode_png(bytes, name, options.max_pixels); break;
    case ImageFormat::unknown: {
      std::string found;
      for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) found += fmt::format("{}{:02X}", i ? " " : "", bytes[i]);
      throw_error<data_error>(
          "{}: not a JPEG or PNG image (expected the signature FF D8 FF or 89 50 4E 47 0D 0A 1A 0A; found {})", name,
          found);
    }
  }
  Image rgb = to_rgb(file.pixels, options.alpha);
  if (options.apply_exif_orientation && file.orientation) rgb = apply_exif_orientation(rgb, *file.orientation);
  return rgb;
}

/// Reads and decodes a JPEG or PNG file to RGB (3 channels).
/// @throws data_error naming the file when it cannot be read or is not a valid JPEG or PNG image.
[[nodiscard]] inline Image read_image(const std::filesystem::path& path, const DecodeOptions& options = {}) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw_error<data_error>("{}: is a directory; expected a JPEG or PNG file", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int code = errno;
    const char* why = std::filesystem::exists(path) ? (code != 0 ? std::strerror(code) : "cannot be opened")
                                                    : "no such file";
    throw_error<data_error>("{}: cannot open the image file ({}); expected a readable JPEG or PNG file",
                            path.string(), why);
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw_error<data_error>("{}: read error; expected a readable JPEG or PNG file", path.string());
  return decode_image(bytes, path.string(), options);
}

}  // namespace vikcse
