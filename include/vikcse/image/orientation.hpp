// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file orientation.hpp
/// Applies an EXIF orientation as Pillow's `ImageOps.exif_transpose` does: 2 flip left-right,
/// 3 rotate 180, 4 flip top-bottom, 5 transpose, 6 rotate 270 (90 clockwise), 7 transverse,
/// 8 rotate 90 (90 counter-clockwise); any other value leaves the image as it is.

#include <vikcse/image/image.hpp>

#include <cstddef>

namespace vikcse {

/// The image as it should be displayed when stored with EXIF orientation `orientation`.
[[nodiscard]] inline Image apply_exif_orientation(const Image& in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const int w = in.width;
  const int h = in.height;
  const bool swaps = orientation >= 5;
  Image out = Image::zeros(swaps ? h : w, swaps ? w : h, in.channels);
  const auto c = static_cast<std::size_t>(in.channels);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x;  // the source column and row of output pixel (x, y)
      int sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
        default: break;
      }
      const std::size_t from = (static_cast<std::size_t>(sy) * w + sx) * c;
      const std::size_t to = (static_cast<std::size_t>(y) * out.width + x) * c;
      for (std::size_t k = 0; k < c; ++k) out.pixels[to + k] = in.pixels[from + k];
    }
  }
  return out;
}

}  // namespace vikcse
