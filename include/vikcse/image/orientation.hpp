// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file orientation.hpp
/// Applies an EXIF orientation as Pillow's `ImageOps.exif_transpose` does: 2 flip left-right,
/// 3 rotate 180, 4 flip top-bottom, 5 transpose, 6 rotate 270 (90 clockwise), 7 transverse,
/// 8 rotate 90 (90 counter-clockwise); any other value leaves the image as it is.

#include <vikcse/image/image.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace vikcse {

/// The image as it should be displayed when stored with EXIF orientation `orientation`.
[[nodiscard]] inline Image apply_exif_orientation(const Image& in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const int w = in.width;
  const int h = in.height;
  const bool swaps = orientation >= 5;
  Image out = Image::zeros(swaps ? h : w, swaps ? w : h, in.channels);
  // Output pixel (x, y) reads source column sx = ax x + bx y + cx and row sy = ay x + by y + cy, so
  // its offset is linear in x and y: one stride along an output row, one per output row.
  int ax = 1, bx = 0, cx = 0, ay = 0, by = 1, cy = 0;
  switch (orientation) {
    case 2: ax = -1; cx = w - 1; break;
    case 3: ax = -1; cx = w - 1; by = -1; cy = h - 1; break;
    case 4: by = -1; cy = h - 1; break;
    case 5: ax = 0; bx = 1; ay = 1; by = 0; break;
    case 6: ax = 0; bx = 1; ay = -1; by = 0; cy = h - 1; break;
    case 7: ax = 0; bx = -1; cx = w - 1; ay = -1; by = 0; cy = h - 1; break;
    case 8: ax = 0; bx = -1; cx = w - 1; ay = 1; by = 0; break;
    default: break;
  }
  const auto c = static_cast<std::ptrdiff_t>(in.channels);
  const std::ptrdiff_t step_x = (static_cast<std::ptrdiff_t>(ay) * w + ax) * c;
  const std::ptrdiff_t step_y = (static_cast<std::ptrdiff_t>(by) * w + bx) * c;
  const std::ptrdiff_t origin = (static_cast<std::ptrdiff_t>(cy) * w + cx) * c;
  const std::uint8_t* src = in.pixels.data();
  std::uint8_t* dst = out.pixels.data();
  for (int y = 0; y < out.height; ++y) {
    const std::uint8_t* from = src + origin + step_y * y;
    if (c == 3) {
      for (int x = 0; x < out.width; ++x, from += step_x, dst += 3) {
        dst[0] = from[0];
        dst[1] = from[1];
        dst[2] = from[2];
      }
    } else {
      for (int x = 0; x < out.width; ++x, from += step_x, dst += c) std::copy(from, from + c, dst);
    }
  }
  return out;
}

}  // namespace vikcse
