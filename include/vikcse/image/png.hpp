// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file png.hpp
/// PNG decoding with libpng, producing the pixels Pillow 9.4 holds after opening the file (Pillow
/// decompresses PNG with zlib itself; the samples are the file's, so any correct decoder agrees):
///
/// | PNG | Pillow mode | here |
/// |---|---|---|
/// | grey 1-bit | "1" | grey 0/255 |
/// | grey 2/4-bit | "L" (×85 / ×17) | grey, scaled the same way |
/// | grey 8-bit | "L" | grey |
/// | grey 16-bit | "I" | grey, the 16-bit value clipped to 255 (Pillow's i2rgb: `convert("RGB")` of a 16-bit greyscale PNG saturates every value ≥ 255; it does not scale) |
/// | RGB 8/16-bit | "RGB" | rgb (16-bit: the high byte) |
/// | palette 1/2/4/8-bit | "P" | palette, alphas from tRNS (255 beyond it) |
/// | grey+alpha 8/16-bit | "LA" / "RGBA" | grey_alpha (16-bit: high bytes) |
/// | RGBA 8/16-bit | "RGBA" | rgba (16-bit: high bytes) |
///
/// Adam7 interlacing is undone by libpng. Gamma, colour profiles and sBIT are ignored (as Pillow
/// ignores them). EXIF: the eXIf chunk, else the "Raw profile type exif" text (hex), and when
/// that has no orientation tag, the XMP text "XML:com.adobe.xmp" (see exif.hpp).
/// Errors: libpng's error handler longjmps back to the decoding frame; reading past the end of the
/// data (a truncated file) is an error. libpng's warnings (e.g. a known-bad sRGB profile) are ignored.
/// Before libpng sees the data, the chunk lengths are checked against it (`png_truncated_chunk`):
/// libpng 1.6 allocates an ancillary chunk's declared length (up to 2^31 - 1 bytes) before reading
/// it, its chunk size limit being only a warning for those chunks, so a 100-byte file declaring a
/// huge tEXt chunk made it allocate hundreds of MiB before noticing that the data had ended.

#include <vikcse/error.hpp>
#include <vikcse/image/convert.hpp>
#include <vikcse/image/exif.hpp>

#include <fmt/format.h>
#include <png.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

namespace detail {

/// The memory source and the message of the failure, shared with libpng's callbacks.
struct PngState {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
  std::string message;
};

inline void png_read_from_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) png_error(png, "unexpected end of file (the PNG data is truncated)");
  std::memcpy(out, state->data + state->pos, length);
  state->pos += length;
}

inline void png_error_handler(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  state->message = message != nullptr ? message : "unknown error";
  png_longjmp(png, 1);
}

inline void png_warning_handler(png_structp, png_const_charp) {}

/// The decoding frame: every libpng call that may fail runs here after setjmp; the buffers live in
/// the caller's frame. Returns false after a libpng error (the message is in the state).
inline bool png_decode_frame(png_structp png, png_infop info, std::vector<std::uint8_t>& buffer,
                             std::vector<png_bytep>& rows, std::int64_t max_pixels, bool& too_large,
                             int& file_depth) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_read_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (static_cast<std::int64_t>(width) * height > max_pixels) {
    too_large = true;
    return true;
  }
  file_depth = png_get_bit_depth(png, info);  // png_read_update_info reports 8 after packing
  if (file_depth < 8) png_set_packing(png);  // one byte per sample, value unscaled
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const std::size_t stride = png_get_rowbytes(png, info);
  buffer.resize(stride * height);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = buffer.data() + stride * y;
  png_read_image(png, rows.data());
  png_read_end(png, info);  // text and eXIf chunks after the image data
  return true;
}

/// A chunk that declares more data than the file holds: where its header starts, its type and
/// declared length, and the bytes left after its header.
struct PngTruncatedChunk {
  std::size_t offset = 0;
  std::string type;
  std::uint64_t length = 0;
  std::size_t left = 0;
};

/// The first chunk, from the signature through IEND (what libpng reads), whose length field, data
/// and CRC do not fit in `bytes`; nullopt when all fit, or when `bytes` lacks the PNG signature
/// (libpng reports that itself). A chunk that does not fit makes libpng fail at the end of the data
/// in any case; checking first keeps it from allocating the declared length (see the file comment).
inline std::optional<PngTruncatedChunk> png_truncated_chunk(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t signature[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), signature, 8) != 0) return std::nullopt;
  std::size_t pos = 8;
  while (pos < bytes.size()) {
    const std::size_t left = bytes.size() - pos;
    std::string type;
    for (std::size_t i = 4; i < 8 && i < left; ++i) {
      const auto ch = static_cast<char>(bytes[pos + i]);
      type += (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ? std::string(1, ch)
                                                                   : fmt::format("\\x{:02X}", bytes[pos + i]);
    }
    if (left < 8) return PngTruncatedChunk{pos, type, 0, 0};  // the header itself is cut
    const std::uint64_t length = (std::uint64_t{bytes[pos]} << 24) | (std::uint64_t{bytes[pos + 1]} << 16) |
                                 (std::uint64_t{bytes[pos + 2]} << 8) | std::uint64_t{bytes[pos + 3]};
    if (length + 4 > left - 8) return PngTruncatedChunk{pos, type, length, left - 8};
    if (type == "IEND") return std::nullopt;
    pos += 12 + static_cast<std::size_t>(length);
  }
  return std::nullopt;  // no IEND: libpng fails at the end of the data without a large allocation
}

/// Owns libpng's read and info structs.
struct PngGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngGuard() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

/// Bytes of the hex text after Pillow's rule for "Raw profile type exif": lines from the fourth on,
/// whitespace skipped; nullopt for a text that is not hex.
inline std::optional<std::vector<std::uint8_t>> png_raw_profile_bytes(std::string_view text) {
  for (int line = 0; line < 3; ++line) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::vector<std::uint8_t>{};
    text.remove_prefix(nl + 1);
  }
  std::vector<std::uint8_t> out;
  int high = -1;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f') {
      if (high >= 0) return std::nullopt;  // whitespace inside a byte
      continue;
    }
    int v = -1;
    if (ch >= '0' && ch <= '9') v = ch - '0';
    else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
    if (v < 0) return std::nullopt;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

/// The EXIF orientation of a decoded PNG by Pillow's rule (see the file comment).
inline std::optional<int> png_orientation(png_structp png, png_infop info) {
  std::optional<int> orientation;
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  png_textp texts = nullptr;
  const int text_count = png_get_text(png, info, &texts, nullptr);
  const auto text_of = [&](std::string_view key) -> std::optional<std::string_view> {
    std::optional<std::string_view> found;  // a later chunk with the same key replaces an earlier one
    for (int i = 0; i < text_count; ++i) {
      if (texts[i].key != nullptr && key == texts[i].key) {
        found = std::string_view(texts[i].text != nullptr ? texts[i].text : "");  // libpng ends each with NUL
      }
    }
    return found;
  };
  if (png_get_eXIf_1(png, info, &exif_size, &exif) != 0 && exif != nullptr) {
    orientation = exif_orientation(std::span<const std::uint8_t>(exif, exif_size));
  } else if (const auto raw = text_of("Raw profile type exif")) {
    if (const auto bytes = png_raw_profile_bytes(*raw)) orientation = exif_orientation(*bytes);
  }
  if (!orientation) {
    if (const auto xmp = text_of("XML:com.adobe.xmp")) orientation = xmp_orientation(*xmp);
  }
  return orientation;
}

}  // namespace detail

/// Decodes a PNG file's bytes into Pillow's layout (see the file comment). `name` (the file) is named
/// in every error.
/// @throws data_error when libpng reports an error (bad signature, bad CRC in a critical chunk,
///         corrupt or truncated data) or the image has more than `max_pixels` pixels.
[[nodiscard]] inline DecodedFile decode_png(std::span<const std::uint8_t> bytes, std::string_view name,
                                            std::int64_t max_pixels = std::int64_t{1} << 28) {
  if (const auto cut = detail::png_truncated_chunk(bytes)) {
    throw_error<data_error>(
        "{}: not a valid PNG image (expected a complete PNG stream; the data is truncated: the chunk '{}' at byte {} "
        "declares {} data bytes plus a 4-byte CRC, {} bytes are left)",
        name, cut->type, cut->offset, cut->length, cut->left);
  }
  detail::PngState state{bytes.data(), bytes.size(), 0, {}};
  detail::PngGuard guard;
  guard.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, detail::png_error_handler,
                                     detail::png_warning_handler);
  if (guard.png == nullptr) throw_error<data_error>("{}: cannot create a libpng reader", name);
  guard.info = png_create_info_struct(guard.png);
  if (guard.info == nullptr) throw_error<data_error>("{}: cannot create a libpng info struct", name);
  png_set_read_fn(guard.png, &state, detail::png_read_from_memory);
  std::vector<std::uint8_t> buffer;
  std::vector<png_bytep> rows;
  bool too_large = false;
  int depth = 8;
  if (!detail::png_decode_frame(guard.png, guard.info, buffer, rows, max_pixels, too_large, depth)) {
    throw_error<data_error>("{}: not a valid PNG image (expected a complete PNG stream; libpng: {})", name,
                            state.message);
  }
  if (too_large) throw_error<data_error>("{}: PNG image too large (expected at most {} pixels)", name, max_pixels);

  png_structp png = guard.png;
  png_infop info = guard.info;
  const int width = static_cast<int>(png_get_image_width(png, info));
  const int height = static_cast<int>(png_get_image_height(png, info));
  const int color = png_get_color_type(png, info);
  const std::size_t n = static_cast<std::size_t>(width) * height;

  DecodedFile out;
  DecodedPixels& px = out.pixels;
  px.width = width;
  px.height = height;
  const std::uint8_t* in = buffer.data();
  // The sample of a 16-bit image Pillow keeps: the high (first, big-endian) byte.
  const auto take = [&](int samples) {
    px.samples.resize(n * samples);
    const int step = depth == 16 ? 2 : 1;
    for (std::size_t i = 0; i < n * samples; ++i) px.samples[i] = in[i * step];
  };
  png_bytep trans_alpha = nullptr;
  int trans_count = 0;
  png_color_16p trans_color = nullptr;
  const bool has_trns = png_get_tRNS(png, info, &trans_alpha, &trans_count, &trans_color) != 0;
  switch (color) {
    case PNG_COLOR_TYPE_GRAY:
      px.mode = PixelMode::grey;
      px.samples.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        switch (depth) {
          case 1: px.samples[i] = in[i] != 0 ? 255 : 0; break;
          case 2: px.samples[i] = static_cast<std::uint8_t>(in[i] * 85); break;
          case 4: px.samples[i] = static_cast<std::uint8_t>(in[i] * 17); break;
          case 8: px.samples[i] = in[i]; break;
          default: px.samples[i] = detail::clip8((in[2 * i] << 8) | in[2 * i + 1]); break;  // "I" -> clip
        }
      }
      if (has_trns && trans_color != nullptr) px.grey_key = trans_color->gray;
      break;
    case PNG_COLOR_TYPE_RGB: px.mode = PixelMode::rgb; take(3); break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: px.mode = PixelMode::grey_alpha; take(2); break;
    case PNG_COLOR_TYPE_RGB_ALPHA: px.mode = PixelMode::rgba; take(4); break;
    case PNG_COLOR_TYPE_PALETTE: {
      px.mode = PixelMode::palette;
      px.samples.assign(in, in + n);
      png_colorp palette = nullptr;
      int entries = 0;
      png_get_PLTE(png, info, &palette, &entries);
      px.palette.resize(static_cast<std::size_t>(entries));
      for (int i = 0; i < entries; ++i) {
        const std::uint8_t a = has_trns && trans_alpha != nullptr && i < trans_count ? trans_alpha[i] : 255;
        px.palette[static_cast<std::size_t>(i)] = {palette[i].red, palette[i].green, palette[i].blue, a};
      }
      break;
    }
    default: throw_error<data_error>("{}: unsupported PNG colour type {}", name, color);
  }
  out.orientation = detail::png_orientation(png, info);
  return out;
}

}  // namespace vikcse
