// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file crop.hpp
/// Cropping with zero padding, and the centre-crop offsets of transformers and of torchvision,
/// which differ when the margin is odd.

#include <vikcse/error.hpp>
#include <vikcse/image/image.hpp>

#include <cstddef>

namespace vikcse {

/// The `width` x `height` window of `in` whose top-left corner is (`left`, `top`); parts of the
/// window outside the image (negative offsets, or past the edge) are filled with 0.
/// @throws invalid_argument when `height` or `width` is not positive, or `in` does not hold
///         width * height * channels samples (a negative size used to give an image of that size).
[[nodiscard]] inline Image crop(const Image& in, int top, int left, int height, int width) {
  if (height <= 0 || width <= 0) {
    throw_error<invalid_argument>("crop: expected a positive crop size, got {}x{}", width, height);
  }
  if (in.width < 0 || in.height < 0 || in.channels <= 0 ||
      in.pixels.size() != static_cast<std::size_t>(in.width) * in.height * in.channels) {
    throw_error<invalid_argument>(
        "crop: expected an image with width*height*channels samples, got {}x{}x{} with {} samples", in.width, in.height,
        in.channels, in.pixels.size());
  }
  Image out = Image::zeros(width, height, in.channels);
  const auto c = static_cast<std::size_t>(in.channels);
  for (int y = 0; y < height; ++y) {
    const int sy = top + y;
    if (sy < 0 || sy >= in.height) continue;
    for (int x = 0; x < width; ++x) {
      const int sx = left + x;
      if (sx < 0 || sx >= in.width) continue;
      const std::size_t from = (static_cast<std::size_t>(sy) * in.width + sx) * c;
      const std::size_t to = (static_cast<std::size_t>(y) * width + x) * c;
      for (std::size_t k = 0; k < c; ++k) out.pixels[to + k] = in.pixels[from + k];
    }
  }
  return out;
}

/// The offset of a centre crop of `crop_size` from an axis of `size` pixels as
/// `transformers.image_transforms.center_crop` computes it: `(size - crop) // 2`; when the axis is
/// shorter than the crop, it is padded with zeros, ceil((crop - size) / 2) before it.
[[nodiscard]] constexpr int hf_center_crop_offset(int size, int crop_size) noexcept {
  return size >= crop_size ? (size - crop_size) / 2 : -((crop_size - size + 1) / 2);
}

/// The offset of a centre crop as torchvision's `center_crop` (0.14) computes it:
/// `int(round((size - crop) / 2.0))`, Python's round (halves to even); when the axis is shorter
/// than the crop, it is padded with zeros, (crop - size) // 2 before it.
[[nodiscard]] constexpr int torchvision_center_crop_offset(int size, int crop_size) noexcept {
  if (size < crop_size) return -((crop_size - size) / 2);
  const int margin = size - crop_size;
  int half = margin / 2;
  if (margin % 2 != 0 && half % 2 != 0) ++half;  // k + 0.5 rounds to the even one of k, k + 1
  return half;
}

}  // namespace vikcse
