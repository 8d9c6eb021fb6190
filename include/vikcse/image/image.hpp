// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file image.hpp
/// The image type of the image layer: 8-bit samples, channels interleaved, rows top to bottom. It
/// depends on nothing but the standard library, so the decoders and the preprocessing stay torch-free;
/// the torch layer wraps a preprocessed tensor (`PlanarImage`) with `torch::from_blob`.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vikcse {

/// An 8-bit image with interleaved channels (RGB for a decoded photo), rows top to bottom.
/// `pixels[(y * width + x) * channels + c]` is channel `c` of the pixel in column `x`, row `y`.
struct Image {
  int width = 0;                      ///< columns
  int height = 0;                     ///< rows
  int channels = 3;                   ///< samples per pixel (3 for RGB)
  std::vector<std::uint8_t> pixels;   ///< `width * height * channels` samples

  /// An image of the given size with every sample 0.
  [[nodiscard]] static Image zeros(int width, int height, int channels = 3) {
    return Image{width, height, channels,
                 std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * channels, 0)};
  }

  /// The sample of channel `c` at column `x`, row `y` (unchecked).
  [[nodiscard]] std::uint8_t at(int x, int y, int c) const noexcept {
    return pixels[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }

  friend bool operator==(const Image&, const Image&) = default;
};

/// A preprocessed image as a float32 tensor `[channels, height, width]` (channels first, planar),
/// ready for `torch::from_blob(values.data(), {channels, height, width})`.
struct PlanarImage {
  int channels = 3;           ///< planes
  int height = 0;             ///< rows
  int width = 0;              ///< columns
  std::vector<float> values;  ///< `channels * height * width` values, plane after plane
};

}  // namespace vikcse
