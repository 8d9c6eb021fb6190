// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file reference.hpp
/// The outputs of tests/image/reference/pillow_reference.py (Pillow 9.4, numpy, torchvision 0.14),
/// written by the ctest fixture image_pillow_reference into the directory named by env
/// VIKCSE_IMAGE_REFERENCE_DIR, and helpers that compare them with vikcse's results.

#include <vikcse/image/image.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace vikcse::testing {

/// The reference's output directory (ctest sets it; run the fixture image_pillow_reference first).
inline std::filesystem::path image_reference_dir() {
  const char* dir = std::getenv("VIKCSE_IMAGE_REFERENCE_DIR");
  if (dir == nullptr || *dir == 0) {
    throw std::runtime_error("VIKCSE_IMAGE_REFERENCE_DIR is not set: run image_test through ctest, which first "
                             "runs tests/image/reference/pillow_reference.py (test image_pillow_reference)");
  }
  return dir;
}

/// manifest.json of the reference (parsed once).
inline const nlohmann::json& image_manifest() {
  static const nlohmann::json manifest = [] {
    const auto path = image_reference_dir() / "manifest.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path.string() + ": missing (did image_pillow_reference run?)");
    return nlohmann::json::parse(in);
  }();
  return manifest;
}

/// The raw bytes of an array the reference wrote ({"file", "shape", "dtype"}).
inline std::vector<char> reference_bytes(const nlohmann::json& array) {
  const auto path = image_reference_dir() / array.at("file").get<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A uint8 array of shape [h, w, c] or [h, w] as an Image.
inline Image reference_image(const nlohmann::json& array) {
  const auto shape = array.at("shape").get<std::vector<int>>();
  const auto bytes = reference_bytes(array);
  Image out{shape.at(1), shape.at(0), shape.size() > 2 ? shape[2] : 1, {}};
  out.pixels.assign(bytes.begin(), bytes.end());
  if (out.pixels.size() != static_cast<std::size_t>(out.width) * out.height * out.channels) {
    throw std::runtime_error(array.dump() + ": size does not match its shape");
  }
  return out;
}

/// A float32 array.
inline std::vector<float> reference_floats(const nlohmann::json& array) {
  const auto bytes = reference_bytes(array);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(out.data()));
  return out;
}

/// The largest absolute difference of two equally sized images' samples (255 when the sizes differ).
inline int max_abs_diff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels) return 255;
  int worst = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) worst = std::max(worst, std::abs(a.pixels[i] - b.pixels[i]));
  return worst;
}

/// The number of samples that differ (all of them when the sizes differ).
inline std::size_t count_diff(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels) return std::max(a.pixels.size(), b.pixels.size());
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) n += a.pixels[i] != b.pixels[i];
  return n;
}

}  // namespace vikcse::testing
