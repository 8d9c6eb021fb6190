// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file resize.hpp
/// Resampling that reproduces Pillow's `Image.resize(size, resample, reducing_gap=None)` on 8-bit
/// images bit for bit (Pillow's ImagingResample, src/libImaging/Resample.c), written from the
/// algorithm:
///
/// - Separable convolution: a horizontal pass, then a vertical pass; a pass whose size does not
///   change is skipped. The horizontal pass only computes the rows the vertical pass will read.
/// - For output index i the source centre is (i + 0.5) * scale with scale = in / out. When
///   downscaling, the filter is stretched by the scale (antialiasing): support = filter support *
///   max(scale, 1), and the taps are source pixels [int(centre - support + 0.5), int(centre +
///   support + 0.5)) clipped to the image, weighted by filter((x - centre + 0.5) / max(scale, 1)).
/// - The weights are normalised to sum 1, then turned into fixed point with 22 fractional bits
///   (32 - 8 - 2), each rounded half away from zero; a pass sums sample * weight in integers from
///   1 << 21 (rounding) and stores the result shifted right by 22 and clamped to 0..255: every pass
///   writes 8-bit samples.
/// - Filters: bilinear (triangle, support 1) and bicubic (Keys, a = -0.5, support 2).

#include <vikcse/error.hpp>
#include <vikcse/image/image.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vikcse {

/// A resampling filter, numbered as Pillow's `Image.Resampling`.
enum class ResampleFilter {
  bilinear = 2,  ///< triangle filter, support 1 (torchvision's default for PIL images)
  bicubic = 3,   ///< cubic convolution, a = -0.5, support 2 (CLIP's `resample: 3`)
};

namespace detail {

/// Fractional bits of the fixed-point weights (Pillow's PRECISION_BITS).
inline constexpr int resample_precision_bits = 32 - 8 - 2;

/// The filter's support radius in source pixels at scale 1.
inline double filter_support(ResampleFilter filter) noexcept { return filter == ResampleFilter::bicubic ? 2.0 : 1.0; }

/// The filter's value at distance `x`.
inline double filter_value(ResampleFilter filter, double x) noexcept {
  x = std::fabs(x);
  if (filter == ResampleFilter::bilinear) return x < 1.0 ? 1.0 - x : 0.0;
  constexpr double a = -0.5;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/// The taps of one pass: for output index i, source pixels first[i] .. first[i] + count[i] - 1 with
/// fixed-point weights weights[i * taps + k].
struct ResampleTaps {
  int taps = 0;                       ///< weights stored per output index
  std::vector<int> first;             ///< first source index per output index
  std::vector<int> count;             ///< source pixels used per output index
  std::vector<std::int32_t> weights;  ///< `out_size * taps` fixed-point weights
};

/// The taps mapping source range [in0, in1) of an axis of `in_size` pixels onto `out_size` pixels.
inline ResampleTaps resample_taps(int in_size, double in0, double in1, int out_size, ResampleFilter filter) {
  const double scale = (in1 - in0) / out_size;
  const double stretch = scale < 1.0 ? 1.0 : scale;
  const double support = filter_support(filter) * stretch;
  ResampleTaps t;
  t.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<std::size_t>(out_size));
  t.count.resize(static_cast<std::size_t>(out_size));
  t.weights.assign(static_cast<std::size_t>(out_size) * t.taps, 0);
  std::vector<double> w(static_cast<std::size_t>(t.taps));
  for (int i = 0; i < out_size; ++i) {
    const double centre = in0 + (i + 0.5) * scale;
    int lo = static_cast<int>(centre - support + 0.5);  // truncation, as in C
    if (lo < 0) lo = 0;
    int hi = static_cast<int>(centre + support + 0.5);
    if (hi > in_size) hi = in_size;
    const int n = hi - lo;
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      w[static_cast<std::size_t>(k)] = filter_value(filter, (k + lo - centre + 0.5) / stretch);
      sum += w[static_cast<std::size_t>(k)];
    }
    for (int k = 0; k < n; ++k) {
      double v = w[static_cast<std::size_t>(k)];
      if (sum != 0.0) v /= sum;
      const double fixed = v * (1 << resample_precision_bits);
      t.weights[static_cast<std::size_t>(i) * t.taps + k] =
          static_cast<std::int32_t>(v < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    t.first[static_cast<std::size_t>(i)] = lo;
    t.count[static_cast<std::size_t>(i)] = n < 0 ? 0 : n;
  }
  return t;
}

/// A fixed-point sum shifted back to 8 bits and clamped.
inline std::uint8_t resample_clip8(std::int64_t sum) noexcept {
  const std::int64_t v = sum >> resample_precision_bits;  // arithmetic shift: floor
  return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

}  // namespace detail

/// `in` resized to `width` x `height` with `filter`, equal to Pillow's
/// `Image.resize((width, height), filter, reducing_gap=None)` on an image of the same mode.
/// @throws invalid_argument when a size is not positive or the image is empty.
[[nodiscard]] inline Image resize(const Image& in, int width, int height, ResampleFilter filter) {
  if (width <= 0 || height <= 0) {
    throw_error<invalid_argument>("resize: expected a positive output size, got {}x{}", width, height);
  }
  if (in.width <= 0 || in.height <= 0 || in.channels <= 0 ||
      in.pixels.size() != static_cast<std::size_t>(in.width) * in.height * in.channels) {
    throw_error<invalid_argument>("resize: expected a non-empty image with width*height*channels samples, got "
                                  "{}x{}x{} with {} samples", in.width, in.height, in.channels, in.pixels.size());
  }
  const bool horizontal = width != in.width;
  const bool vertical = height != in.height;
  if (!horizontal && !vertical) return in;
  const int c = in.channels;
  const auto vert = detail::resample_taps(in.height, 0.0, in.height, height, filter);
  // Rows the vertical pass reads: [row_first, row_last).
  const int row_first = vert.first.front();
  const int row_last = vert.first.back() + vert.count.back();
  constexpr std::int64_t half = std::int64_t{1} << (detail::resample_precision_bits - 1);

  Image mid;
  const Image* src = &in;
  int row_offset = 0;  // source row of mid's row 0
  if (horizontal) {
    const auto hor = detail::resample_taps(in.width, 0.0, in.width, width, filter);
    mid = Image::zeros(width, row_last - row_first, c);
    for (int y = 0; y < mid.height; ++y) {
      const std::uint8_t* row = in.pixels.data() + static_cast<std::size_t>(y + row_first) * in.width * c;
      std::uint8_t* out = mid.pixels.data() + static_cast<std::size_t>(y) * width * c;
      for (int x = 0; x < width; ++x) {
        const std::int32_t* k = hor.weights.data() + static_cast<std::size_t>(x) * hor.taps;
        const int first = hor.first[static_cast<std::size_t>(x)];
        const int n = hor.count[static_cast<std::size_t>(x)];
        for (int ch = 0; ch < c; ++ch) {
          std::int64_t sum = half;
          for (int j = 0; j < n; ++j) sum += static_cast<std::int64_t>(row[(first + j) * c + ch]) * k[j];
          out[x * c + ch] = detail::resample_clip8(sum);
        }
      }
    }
    src = &mid;
    row_offset = row_first;
  }
  if (!vertical) return mid;
  Image out = Image::zeros(width, height, c);
  const std::size_t stride = static_cast<std::size_t>(width) * c;
  for (int y = 0; y < height; ++y) {
    const std::int32_t* k = vert.weights.data() + static_cast<std::size_t>(y) * vert.taps;
    const int first = vert.first[static_cast<std::size_t>(y)] - row_offset;
    const int n = vert.count[static_cast<std::size_t>(y)];
    std::uint8_t* o = out.pixels.data() + static_cast<std::size_t>(y) * stride;
    for (std::size_t i = 0; i < stride; ++i) {
      std::int64_t sum = half;
      for (int j = 0; j < n; ++j) {
        sum += static_cast<std::int64_t>(src->pixels[static_cast<std::size_t>(first + j) * stride + i]) * k[j];
      }
      o[i] = detail::resample_clip8(sum);
    }
  }
  return out;
}

}  // namespace vikcse
