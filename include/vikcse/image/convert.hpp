// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file convert.hpp
/// Conversion of decoded pixels to RGB, with Pillow 9.4's integer formulas (libImaging/Convert.c
/// and AlphaComposite.c), so that the result equals `Image.convert("RGB")` byte for byte.
///
/// The decoders hand over the pixels in the form Pillow holds them after opening a file (its
/// "mode"): `grey` (L, and "1" as 0/255, and 16-bit greyscale "I" already clipped to 0..255 as
/// Pillow's i2rgb clips it), `grey_alpha` (LA), `rgb`, `rgba`, `cmyk` (already inverted as Pillow's
/// "CMYK;I" raw mode does for Adobe JPEGs) and `palette` (P, with the tRNS alphas).
///
/// Two alpha rules (`AlphaMode`):
/// - `drop`: `img.convert("RGB")`, what `transformers.image_utils.load_image` does after
///   `exif_transpose`. RGBA and LA lose their alpha (the stored colour under alpha 0 is kept), a
///   palette image is looked up in its palette and its tRNS is ignored.
/// - `composite_on_white`: `transformers.image_transforms.convert_to_rgb` on a PIL image that is not
///   RGB: `convert("RGBA")`, `Image.alpha_composite(white, rgba)`, `convert("RGB")`. An RGB image is
///   returned as it is (its tRNS colour key is not applied, as there). A greyscale image with a tRNS
///   key gets alpha 0 where its 8-bit value equals the key's low byte (Pillow's convert_transparent).

#include <vikcse/image/image.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace vikcse {

/// How an image with transparency becomes RGB (see the file comment).
enum class AlphaMode {
  drop,                ///< `convert("RGB")`: alpha dropped, colours as stored (load_image; the default)
  composite_on_white,  ///< HF `convert_to_rgb`: non-RGB images composited over opaque white
};

/// The layout of decoded pixels before conversion, one per Pillow mode the decoders produce.
enum class PixelMode { grey, grey_alpha, rgb, rgba, cmyk, palette };

/// Decoded pixels as Pillow holds them after opening a file (input of `to_rgb`).
struct DecodedPixels {
  int width = 0;                                    ///< columns
  int height = 0;                                   ///< rows
  PixelMode mode = PixelMode::rgb;                  ///< layout of `samples`
  std::vector<std::uint8_t> samples;                ///< interleaved, 1/2/3/4/4/1 samples per pixel
  std::vector<std::array<std::uint8_t, 4>> palette; ///< RGBA entries (`palette` mode; alpha from tRNS, else 255)
  std::optional<int> grey_key;                      ///< tRNS grey value (`grey` mode), as stored in the file

  /// Samples per pixel of `mode`.
  [[nodiscard]] static int samples_per_pixel(PixelMode mode) noexcept {
    switch (mode) {
      case PixelMode::grey: case PixelMode::palette: return 1;
      case PixelMode::grey_alpha: return 2;
      case PixelMode::rgb: return 3;
      case PixelMode::rgba: case PixelMode::cmyk: return 4;
    }
    return 0;
  }
};

/// What a decoder hands over: the pixels as stored and the EXIF orientation found in the file
/// (nullopt when the file has none; see exif.hpp).
struct DecodedFile {
  DecodedPixels pixels;            ///< pixels in the file's own layout
  std::optional<int> orientation;  ///< 1..8 by Pillow's rule, or nullopt
};

namespace detail {

/// Pillow's MULDIV255: a * b / 255, rounded, in integers.
constexpr int muldiv255(int a, int b) noexcept {
  const int tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

constexpr std::uint8_t clip8(int v) noexcept { return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v)); }

/// Pillow's cmyk2rgb: c, m, y, k -> (255 - k) - c (255 - k) / 255, per channel.
inline void cmyk_to_rgb(const std::uint8_t* in, std::uint8_t* out) noexcept {
  const int nk = 255 - in[3];
  for (int i = 0; i < 3; ++i) out[i] = clip8(nk - muldiv255(in[i], nk));
}

/// One channel of Pillow's ImagingAlphaComposite of `src` (alpha `a`, not 0) over an opaque
/// destination value `dst`: 7 extra bits of precision, rounded division by 255.
inline std::uint8_t composite_over_opaque(int src, int a, int dst) noexcept {
  const std::uint32_t blend = 255U * static_cast<std::uint32_t>(255 - a);  // dst alpha is 255
  const std::uint32_t outa255 = static_cast<std::uint32_t>(a) * 255U + blend;
  const std::uint32_t coef1 = static_cast<std::uint32_t>(a) * 255U * 255U * (1U << 7) / outa255;
  const std::uint32_t coef2 = 255U * (1U << 7) - coef1;
  const std::uint32_t tmp = static_cast<std::uint32_t>(src) * coef1 + static_cast<std::uint32_t>(dst) * coef2 + (0x80U << 7);
  return static_cast<std::uint8_t>((((tmp >> 8) + tmp) >> 8) >> 7);
}

}  // namespace detail

/// The pixels as RGB (3 channels) by Pillow's conversions; see the file comment for `alpha`.
[[nodiscard]] inline Image to_rgb(const DecodedPixels& in, AlphaMode alpha = AlphaMode::drop) {
  Image out = Image::zeros(in.width, in.height, 3);
  const std::size_t n = static_cast<std::size_t>(in.width) * in.height;
  const std::uint8_t* s = in.samples.data();
  std::uint8_t* o = out.pixels.data();
  const bool composite = alpha == AlphaMode::composite_on_white && in.mode != PixelMode::rgb;
  // Writes RGB of a pixel with alpha `a` (255 when the source has none): the colour as it is, or
  // composited over white.
  const auto put = [&](std::size_t i, int r, int g, int b, int a) {
    std::uint8_t* p = o + 3 * i;
    if (!composite) {
      p[0] = static_cast<std::uint8_t>(r);
      p[1] = static_cast<std::uint8_t>(g);
      p[2] = static_cast<std::uint8_t>(b);
    } else if (a == 0) {
      p[0] = p[1] = p[2] = 255;
    } else {
      p[0] = detail::composite_over_opaque(r, a, 255);
      p[1] = detail::composite_over_opaque(g, a, 255);
      p[2] = detail::composite_over_opaque(b, a, 255);
    }
  };
  switch (in.mode) {
    case PixelMode::grey: {
      const int key = in.grey_key ? (*in.grey_key & 0xff) : -1;
      for (std::size_t i = 0; i < n; ++i) put(i, s[i], s[i], s[i], s[i] == key ? 0 : 255);
      break;
    }
    case PixelMode::grey_alpha:
      for (std::size_t i = 0; i < n; ++i) put(i, s[2 * i], s[2 * i], s[2 * i], s[2 * i + 1]);
      break;
    case PixelMode::rgb:
      for (std::size_t i = 0; i < n; ++i) put(i, s[3 * i], s[3 * i + 1], s[3 * i + 2], 255);
      break;
    case PixelMode::rgba:
      for (std::size_t i = 0; i < n; ++i) put(i, s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]);
      break;
    case PixelMode::cmyk:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t rgb[3];
        detail::cmyk_to_rgb(s + 4 * i, rgb);
        put(i, rgb[0], rgb[1], rgb[2], 255);
      }
      break;
    case PixelMode::palette:
      for (std::size_t i = 0; i < n; ++i) {
        static constexpr std::array<std::uint8_t, 4> missing = {0, 0, 0, 255};
        const auto& e = s[i] < in.palette.size() ? in.palette[s[i]] : missing;
        put(i, e[0], e[1], e[2], e[3]);
      }
      break;
  }
  return out;
}

}  // namespace vikcse
