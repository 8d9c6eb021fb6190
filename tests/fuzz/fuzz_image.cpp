// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the image layer (vikcse::image) on arbitrary bytes. Input: two option bytes,
// then the file (JPEG or PNG; anything else is refused by its signature).
//   byte 0: bit 0 alpha mode (drop / composite_on_white), bit 1 EXIF orientation off, bit 2 a tiny
//           pixel limit (max_pixels = 1 + 16 * byte 1; else 2^18), bits 3-4 the pipeline run on a
//           small decoded image (none, CLIP with small sizes, ResNet with small sizes, CLIP's
//           defaults), bit 5 bilinear instead of bicubic for CLIP, bit 6 an exact size (CLIP's
//           size.height/width) instead of the shortest edge;
//   byte 1: the sizes of that pipeline (shortest edge / resize 1..16, crop 1..16, from its bits).
// decode_image covers both decoders (libjpeg-turbo and libpng), the EXIF readers (JPEG APP1, PNG
// eXIf, raw profile, XMP), the conversion to RGB in both alpha modes and the orientation; resize.hpp
// and crop.hpp run only on decoded images of at most 64 x 64 pixels (a guard on time, not on
// correctness: a large image is just slower). Beyond the typed errors, the target checks what the
// layer promises: 3 channels, width * height * 3 samples, at most max_pixels pixels, the size the
// decoder reported (swapped for orientations 5..8), and the pipeline's output size and finite values.
#include "fuzz_support.hpp"

#include <vikcse/image/decode.hpp>
#include <vikcse/image/preprocess.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_image: broken promise: %s\n", what);
    std::abort();
  }
}

void check_planar(const vikcse::PlanarImage& x, int height, int width) {
  check(x.channels == 3 && x.height == height && x.width == width, "pipeline output size");
  check(x.values.size() == static_cast<std::size_t>(3) * height * width, "pipeline output values");
  for (const float v : x.values) check(std::isfinite(v), "pipeline output is finite");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t flags = data[0];
  const std::uint8_t sizes = data[1];
  const std::span<const std::uint8_t> file(data + 2, size - 2);
  vikcse::DecodeOptions options;
  options.alpha = (flags & 1) != 0 ? vikcse::AlphaMode::composite_on_white : vikcse::AlphaMode::drop;
  options.apply_exif_orientation = (flags & 2) == 0;
  options.max_pixels = (flags & 4) != 0 ? 1 + 16 * std::int64_t{sizes} : std::int64_t{1} << 18;
  vikcse::fuzz::expect_typed_errors([&] {
    // The decoder's own view: pixels in the file's layout and the orientation found.
    vikcse::DecodedFile raw;
    switch (vikcse::detect_image_format(file)) {
      case vikcse::ImageFormat::jpeg: raw = vikcse::decode_jpeg(file, "fuzz.jpg", options.max_pixels); break;
      case vikcse::ImageFormat::png: raw = vikcse::decode_png(file, "fuzz.png", options.max_pixels); break;
      case vikcse::ImageFormat::unknown: break;
    }
    const vikcse::Image rgb = vikcse::decode_image(file, "fuzz.img", options);  // throws for unknown
    const auto& px = raw.pixels;
    check(px.width > 0 && px.height > 0, "decoded size is positive");
    check(std::int64_t{px.width} * px.height <= options.max_pixels, "decoded size within max_pixels");
    check(px.samples.size() ==
              static_cast<std::size_t>(px.width) * px.height * vikcse::DecodedPixels::samples_per_pixel(px.mode),
          "decoded samples match the size and mode");
    check(px.palette.size() <= 256, "palette of at most 256 entries");
    check(!raw.orientation || (*raw.orientation >= 1 && *raw.orientation <= 8), "orientation in 1..8");
    const bool swaps = options.apply_exif_orientation && raw.orientation && *raw.orientation >= 5;
    check(rgb.channels == 3, "RGB has 3 channels");
    check(rgb.width == (swaps ? px.height : px.width) && rgb.height == (swaps ? px.width : px.height),
          "RGB size is the decoded size, oriented");
    check(rgb.pixels.size() == static_cast<std::size_t>(rgb.width) * rgb.height * 3, "RGB samples");

    // The pipelines, on small images only.
    const int pipeline = (flags >> 3) & 3;
    if (pipeline == 0 || rgb.width > 64 || rgb.height > 64) return;
    const int edge = 1 + (sizes & 15);
    const int crop = 1 + (sizes >> 4);
    if (pipeline == 2) {
      vikcse::ResNetImageOptions o;
      o.resize = edge;
      o.crop = crop;
      check_planar(vikcse::preprocess_resnet(rgb, o), crop, crop);
      return;
    }
    vikcse::ClipImageOptions o;
    if (pipeline == 1) {
      o.resample = (flags & 32) != 0 ? vikcse::ResampleFilter::bilinear : vikcse::ResampleFilter::bicubic;
      if ((flags & 64) != 0) {
        o.shortest_edge = 0;
        o.resize_height = edge;
        o.resize_width = crop;
      } else {
        o.shortest_edge = edge;
      }
      o.crop_height = crop;
      o.crop_width = edge;
      o.do_center_crop = (flags & 128) == 0;
    }
    // The resize alone (Pillow's resize) keeps 3 channels and the size asked for.
    const vikcse::Image small = vikcse::clip_resize_crop(rgb, o);
    check(small.channels == 3 && small.pixels.size() == static_cast<std::size_t>(small.width) * small.height * 3,
          "resized image samples");
    const vikcse::PlanarImage x = vikcse::preprocess_clip(rgb, o);
    check_planar(x, small.height, small.width);
    if (o.do_center_crop) check(small.height == o.crop_height && small.width == o.crop_width, "cropped size");
  });
  return 0;
}
