// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file preprocess.hpp
/// The two image pipelines of stage 1, from an RGB image (decode.hpp) to a float32 `[3, H, W]`
/// tensor, each step as the Python reference does it:
///
/// - CLIP (`transformers.CLIPImageProcessor`, `ClipImageOptions`, loadable from
///   `preprocessor_config.json`): resize the shortest edge to `shortest_edge` (the long side becomes
///   `int(shortest_edge * long / short)`) with Pillow's BICUBIC and `reducing_gap=None`; centre-crop
///   with top = (h - crop_h) // 2, left likewise; `float32(float64(v) * rescale_factor)`;
///   `(x - mean) / std` in float32; channels first.
/// - ResNet for MCSE (torchvision 0.14 `Compose([Resize(256), CenterCrop(224), ToTensor(),
///   Normalize(mean, std)])` on a PIL image, `ResNetImageOptions`): `Resize(int)` gives the short
///   side 256 and the long side `int(256 * long / short)`, Pillow's BILINEAR; the crop offsets are
///   `int(round((h - 224) / 2.0))` (Python rounds halves to even); `v / 255` in float32;
///   `(x - mean) / std` in float32.
///
/// The resizing is Pillow's algorithm (resize.hpp), so the 8-bit image before scaling equals
/// Pillow's bit for bit and the float steps are the same IEEE operations in the same order: the
/// tensors equal the reference's exactly (the tests check a max abs difference of 0).
///
/// Example:
/// ```cpp
/// auto options = vikcse::ClipImageOptions::from_file(dir / "preprocessor_config.json");
/// vikcse::PlanarImage x = vikcse::preprocess_clip(vikcse::read_image("photo.jpg"), options);
/// auto tensor = torch::from_blob(x.values.data(), {x.channels, x.height, x.width});  // torch layer
/// ```

#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>
#include <vikcse/image/crop.hpp>
#include <vikcse/image/image.hpp>
#include <vikcse/image/resize.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace vikcse {

/// The output size (width, height) of resizing the shortest edge of a `width` x `height` image to
/// `shortest_edge`, as transformers' `get_resize_output_image_size(default_to_square=False)` and
/// torchvision's `Resize(int)` compute it: the long side is `int(shortest_edge * long / short)`.
/// @throws invalid_argument when a size is not positive, or the long side would not fit an `int`
///         (say a 1 x 65500 image with a shortest edge of 100000: Python would try to allocate it).
[[nodiscard]] inline std::pair<int, int> shortest_edge_size(int width, int height, int shortest_edge) {
  if (width <= 0 || height <= 0 || shortest_edge <= 0) {
    throw_error<invalid_argument>("shortest_edge_size: expected positive sizes, got a {}x{} image and shortest edge {}",
                                  width, height, shortest_edge);
  }
  const bool landscape = width > height;  // ties: width is the short side
  const int short_side = landscape ? height : width;
  const int long_side = landscape ? width : height;
  const double new_long =
      static_cast<double>(static_cast<long long>(shortest_edge) * long_side) / static_cast<double>(short_side);
  if (!(new_long < 2147483648.0)) {  // the conversion to int below would be undefined
    throw_error<invalid_argument>(
        "shortest_edge_size: resizing a {}x{} image to a shortest edge of {} gives a long side of {:.0f} pixels "
        "(expected at most 2147483647)",
        width, height, shortest_edge, new_long);
  }
  const int new_long_int = static_cast<int>(new_long);
  return landscape ? std::pair{new_long_int, shortest_edge} : std::pair{shortest_edge, new_long_int};
}

/// Settings of `transformers.CLIPImageProcessor`; the defaults are
/// openai/clip-vit-base-patch32's `preprocessor_config.json`.
struct ClipImageOptions {
  bool do_resize = true;                     ///< resize before cropping
  int shortest_edge = 224;                   ///< `size.shortest_edge` (0 when `size` gives height and width)
  int resize_height = 0;                     ///< `size.height` (exact resize, when shortest_edge is 0)
  int resize_width = 0;                      ///< `size.width`
  ResampleFilter resample = ResampleFilter::bicubic;  ///< `resample` (2 bilinear, 3 bicubic)
  bool do_center_crop = true;                ///< centre-crop to crop_height x crop_width
  int crop_height = 224;                     ///< `crop_size.height`
  int crop_width = 224;                      ///< `crop_size.width`
  bool do_rescale = true;                    ///< multiply by rescale_factor
  double rescale_factor = 0.00392156862745098;  ///< `rescale_factor` (1/255)
  bool do_normalize = true;                  ///< subtract image_mean, divide by image_std
  std::array<float, 3> image_mean = {0.48145466F, 0.4578275F, 0.40821073F};  ///< per channel, RGB
  std::array<float, 3> image_std = {0.26862954F, 0.26130258F, 0.27577711F};   ///< per channel, RGB

  /// Options from a parsed `preprocessor_config.json`; keys it lacks keep their defaults.
  /// @throws config_error naming `where` and the key for a value of the wrong type or range.
  [[nodiscard]] static ClipImageOptions from_json(const nlohmann::json& j, const std::string& where) {
    using detail::json_as;
    using detail::json_value_or;
    ClipImageOptions o;
    if (!j.is_object()) throw_error<config_error>("{}: expected a JSON object, got {}", where, detail::json_excerpt(j));
    o.do_resize = json_value_or<bool, config_error>(j, "do_resize", o.do_resize, where);
    if (const auto it = j.find("size"); it != j.end() && !it->is_null()) {
      if (it->is_number()) {
        o.shortest_edge = json_as<int, config_error>(*it, where + ": key 'size'");
      } else if (it->contains("shortest_edge")) {
        o.shortest_edge = json_as<int, config_error>((*it)["shortest_edge"], where + ": key 'size.shortest_edge'");
      } else if (it->contains("height") && it->contains("width")) {
        o.shortest_edge = 0;
        o.resize_height = json_as<int, config_error>((*it)["height"], where + ": key 'size.height'");
        o.resize_width = json_as<int, config_error>((*it)["width"], where + ": key 'size.width'");
      } else {
        throw_error<config_error>("{}: key 'size' expected {{\"shortest_edge\": N}} or {{\"height\", \"width\"}}, got {}",
                                  where, detail::json_excerpt(*it));
      }
    }
    const int resample = json_value_or<int, config_error>(j, "resample", static_cast<int>(o.resample), where);
    if (resample != 2 && resample != 3) {
      throw_error<config_error>("{}: key 'resample' expected 2 (BILINEAR) or 3 (BICUBIC), got {}", where, resample);
    }
    o.resample = static_cast<ResampleFilter>(resample);
    o.do_center_crop = json_value_or<bool, config_error>(j, "do_center_crop", o.do_center_crop, where);
    if (const auto it = j.find("crop_size"); it != j.end() && !it->is_null()) {
      if (it->is_number()) {
        o.crop_height = o.crop_width = json_as<int, config_error>(*it, where + ": key 'crop_size'");
      } else {
        o.crop_height = json_as<int, config_error>(it->value("height", nlohmann::json()), where + ": key 'crop_size.height'");
        o.crop_width = json_as<int, config_error>(it->value("width", nlohmann::json()), where + ": key 'crop_size.width'");
      }
    }
    o.do_rescale = json_value_or<bool, config_error>(j, "do_rescale", o.do_rescale, where);
    o.rescale_factor = json_value_or<double, config_error>(j, "rescale_factor", o.rescale_factor, where);
    o.do_normalize = json_value_or<bool, config_error>(j, "do_normalize", o.do_normalize, where);
    for (const char* key : {"image_mean", "image_std"}) {
      if (!j.contains(key) || j[key].is_null()) continue;
      const auto values = json_as<std::vector<float>, config_error>(j[key], fmt::format("{}: key '{}'", where, key));
      if (values.size() != 3) {
        throw_error<config_error>("{}: key '{}' expected 3 values (RGB), got {}", where, key, values.size());
      }
      auto& target = std::string(key) == "image_mean" ? o.image_mean : o.image_std;
      for (std::size_t i = 0; i < 3; ++i) target[i] = values[i];
    }
    if ((o.do_resize && o.shortest_edge <= 0 && (o.resize_height <= 0 || o.resize_width <= 0)) ||
        (o.do_center_crop && (o.crop_height <= 0 || o.crop_width <= 0))) {
      throw_error<config_error>("{}: expected positive sizes in 'size' and 'crop_size'", where);
    }
    return o;
  }

  /// Options from a `preprocessor_config.json` file.
  /// @throws config_error naming the file when it cannot be read or parsed, or holds a bad value.
  [[nodiscard]] static ClipImageOptions from_file(const std::filesystem::path& path) {
    return from_json(detail::read_config_file(path), path.string());
  }
};

/// Settings of the torchvision ImageNet pipeline MCSE uses for ResNet-50 features.
struct ResNetImageOptions {
  int resize = 256;                                      ///< `Resize(int)`: the short side
  ResampleFilter resample = ResampleFilter::bilinear;    ///< torchvision's default for PIL images
  int crop = 224;                                        ///< `CenterCrop(int)`
  std::array<float, 3> mean = {0.485F, 0.456F, 0.406F};  ///< `Normalize` mean, RGB
  std::array<float, 3> std_dev = {0.229F, 0.224F, 0.225F};  ///< `Normalize` std, RGB
};

namespace detail {

/// Channels-first float32 planes of an RGB image: plane c holds (scale(v) - mean[c]) / std[c].
template <typename Scale>
PlanarImage to_planar(const Image& rgb, Scale scale, const std::array<float, 3>* mean, const std::array<float, 3>* std_dev) {
  if (rgb.channels != 3) {
    throw_error<invalid_argument>("preprocess: expected an RGB image (3 channels), got {} channels", rgb.channels);
  }
  PlanarImage out{3, rgb.height, rgb.width, {}};
  const std::size_t n = static_cast<std::size_t>(rgb.width) * rgb.height;
  out.values.resize(3 * n);
  for (std::size_t c = 0; c < 3; ++c) {
    float* plane = out.values.data() + c * n;
    for (std::size_t i = 0; i < n; ++i) {
      float x = scale(rgb.pixels[3 * i + c]);
      if (mean != nullptr) x = (x - (*mean)[c]) / (*std_dev)[c];
      plane[i] = x;
    }
  }
  return out;
}

inline void check_rgb_input(const Image& rgb, const char* what) {
  if (rgb.channels != 3 || rgb.width <= 0 || rgb.height <= 0 ||
      rgb.pixels.size() != static_cast<std::size_t>(rgb.width) * rgb.height * 3) {
    throw_error<invalid_argument>("{}: expected a non-empty RGB image (3 channels, width*height*3 samples), got "
                                  "{}x{}x{} with {} samples", what, rgb.width, rgb.height, rgb.channels,
                                  rgb.pixels.size());
  }
}

}  // namespace detail

/// The 8-bit image CLIP's processor normalises: resized and centre-cropped (no float steps).
[[nodiscard]] inline Image clip_resize_crop(const Image& rgb, const ClipImageOptions& o = {}) {
  detail::check_rgb_input(rgb, "preprocess_clip");
  Image img = rgb;
  if (o.do_resize) {
    const auto [w, h] = o.shortest_edge > 0 ? shortest_edge_size(img.width, img.height, o.shortest_edge)
                                            : std::pair{o.resize_width, o.resize_height};
    img = resize(img, w, h, o.resample);
  }
  if (o.do_center_crop) {
    img = crop(img, hf_center_crop_offset(img.height, o.crop_height), hf_center_crop_offset(img.width, o.crop_width),
               o.crop_height, o.crop_width);
  }
  return img;
}

/// CLIP's pixel_values for one RGB image: `[3, crop_height, crop_width]` float32 (see the file comment).
[[nodiscard]] inline PlanarImage preprocess_clip(const Image& rgb, const ClipImageOptions& o = {}) {
  const Image img = clip_resize_crop(rgb, o);
  const double factor = o.rescale_factor;
  const bool rescale = o.do_rescale;
  return detail::to_planar(
      img,
      [=](std::uint8_t v) {
        return rescale ? static_cast<float>(static_cast<double>(v) * factor) : static_cast<float>(v);
      },
      o.do_normalize ? &o.image_mean : nullptr, &o.image_std);
}

/// The 8-bit image the ResNet pipeline normalises: resized and centre-cropped.
[[nodiscard]] inline Image resnet_resize_crop(const Image& rgb, const ResNetImageOptions& o = {}) {
  detail::check_rgb_input(rgb, "preprocess_resnet");
  const auto [w, h] = shortest_edge_size(rgb.width, rgb.height, o.resize);
  const Image img = resize(rgb, w, h, o.resample);
  return crop(img, torchvision_center_crop_offset(img.height, o.crop), torchvision_center_crop_offset(img.width, o.crop),
              o.crop, o.crop);
}

/// The ResNet-50 input for one RGB image: `[3, crop, crop]` float32 (see the file comment).
[[nodiscard]] inline PlanarImage preprocess_resnet(const Image& rgb, const ResNetImageOptions& o = {}) {
  return detail::to_planar(
      resnet_resize_crop(rgb, o), [](std::uint8_t v) { return static_cast<float>(v) / 255.0F; }, &o.mean, &o.std_dev);
}

}  // namespace vikcse
