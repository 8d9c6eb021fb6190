// SPDX-License-Identifier: Apache-2.0
// preprocess.hpp against the Python pipelines run in the same ctest run on the same decoded image:
// CLIPImageProcessor's steps (Pillow BICUBIC resize, transformers' center_crop, float32 rescale and
// normalise) and torchvision 0.14's Resize(256) / CenterCrop(224) / ToTensor / Normalize.
// Bounds: the 8-bit image after resize and crop is bit-exact (0); the float32 tensor has max abs
// difference 0 (the same IEEE operations in the same order; kTensorBound states the bound tested).
#include "reference.hpp"
#include "support/test_data.hpp"

#include <vikcse/error.hpp>
#include <vikcse/image/decode.hpp>
#include <vikcse/image/preprocess.hpp>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <cmath>
#include <string>

namespace {

constexpr float kTensorBound = 0.0F;  // max |C++ - Python| per value, after normalisation

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

template <typename Steps, typename Pipeline>
void compare_pipeline(const char* what, const char* u8_key, const char* f32_key, Steps steps, Pipeline pipeline) {
  int files = 0;
  int worst_u8 = 0;
  float worst = 0;
  for (const auto& e : vikcse::testing::image_manifest().at("files")) {
    const auto name = e.at("name").get<std::string>();
    const vikcse::Image rgb = vikcse::read_image(e.at("path").get<std::string>());
    const vikcse::Image got_u8 = steps(rgb);
    const vikcse::Image want_u8 = vikcse::testing::reference_image(e.at(u8_key));
    const vikcse::PlanarImage got = pipeline(rgb);
    const auto want = vikcse::testing::reference_floats(e.at(f32_key));
    const int du8 = vikcse::testing::max_abs_diff(got_u8, want_u8);
    const float d = max_abs_diff(got.values, want);
    worst_u8 = std::max(worst_u8, du8);
    worst = std::max(worst, d);
    ++files;
    BOOST_TEST_MESSAGE(fmt::format("{} {:<26} {}x{} -> [{}, {}, {}]: uint8 max |diff| {}, tensor max |diff| {:g}", what,
                                   name, rgb.width, rgb.height, got.channels, got.height, got.width, du8, d));
    BOOST_TEST(got.channels == 3);
    BOOST_TEST(got.height == 224);
    BOOST_TEST(got.width == 224);
    BOOST_TEST(du8 == 0, name << ": resized and cropped image differs by up to " << du8);
    BOOST_TEST(d <= kTensorBound, name << ": tensor differs by " << d);
  }
  BOOST_TEST_MESSAGE(fmt::format("{}: {} files, uint8 max |diff| {}, tensor max |diff| {:g} (bound {:g})", what, files,
                                 worst_u8, worst, kTensorBound));
  BOOST_TEST(files > 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(preprocess)

BOOST_AUTO_TEST_CASE(clip_options_load_from_the_real_config) {
  const auto path = vikcse::testing::data_dir() / "clip" / "openai-clip-vit-base-patch32" / "preprocessor_config.json";
  const auto o = vikcse::ClipImageOptions::from_file(path);
  const vikcse::ClipImageOptions defaults;
  BOOST_TEST(o.shortest_edge == 224);
  BOOST_TEST(o.crop_height == 224);
  BOOST_TEST(o.crop_width == 224);
  BOOST_TEST((o.resample == vikcse::ResampleFilter::bicubic));
  BOOST_TEST(o.rescale_factor == defaults.rescale_factor);
  for (int c = 0; c < 3; ++c) {
    BOOST_TEST(o.image_mean[c] == defaults.image_mean[c]);
    BOOST_TEST(o.image_std[c] == defaults.image_std[c]);
  }
}

BOOST_AUTO_TEST_CASE(clip_matches_transformers_steps) {
  const auto o = vikcse::ClipImageOptions::from_file(vikcse::testing::data_dir() / "clip" /
                                                     "openai-clip-vit-base-patch32" / "preprocessor_config.json");
  compare_pipeline(
      "clip", "clip_u8", "clip", [&](const vikcse::Image& im) { return vikcse::clip_resize_crop(im, o); },
      [&](const vikcse::Image& im) { return vikcse::preprocess_clip(im, o); });
}

BOOST_AUTO_TEST_CASE(resnet_matches_torchvision) {
  compare_pipeline(
      "resnet", "resnet_u8", "resnet", [](const vikcse::Image& im) { return vikcse::resnet_resize_crop(im); },
      [](const vikcse::Image& im) { return vikcse::preprocess_resnet(im); });
}

BOOST_AUTO_TEST_CASE(output_sizes_and_crop_offsets) {
  // transformers' get_resize_output_image_size / torchvision Resize(int): int(short * long / short)
  BOOST_TEST((vikcse::shortest_edge_size(640, 427, 224) == std::pair{335, 224}));
  BOOST_TEST((vikcse::shortest_edge_size(512, 600, 224) == std::pair{224, 262}));
  BOOST_TEST((vikcse::shortest_edge_size(162, 150, 224) == std::pair{241, 224}));
  BOOST_TEST((vikcse::shortest_edge_size(5, 5, 224) == std::pair{224, 224}));
  // (h - 224) // 2 versus int(round((h - 224) / 2.0)) with halves to even
  BOOST_TEST(vikcse::hf_center_crop_offset(263, 224) == 19);
  BOOST_TEST(vikcse::torchvision_center_crop_offset(263, 224) == 20);  // round(19.5) = 20
  BOOST_TEST(vikcse::torchvision_center_crop_offset(261, 224) == 18);  // round(18.5) = 18
  BOOST_TEST(vikcse::torchvision_center_crop_offset(262, 224) == 19);
  BOOST_TEST(vikcse::hf_center_crop_offset(101, 224) == -62);          // zero padding before
  BOOST_TEST(vikcse::torchvision_center_crop_offset(101, 224) == -61);
}

BOOST_AUTO_TEST_CASE(bad_config_values_are_config_errors) {
  const auto bad = nlohmann::json::parse(R"({"resample": 1})");
  BOOST_CHECK_THROW((void)vikcse::ClipImageOptions::from_json(bad, "cfg.json"), vikcse::config_error);
  const auto mean = nlohmann::json::parse(R"({"image_mean": [0.5, 0.5]})");
  BOOST_CHECK_THROW((void)vikcse::ClipImageOptions::from_json(mean, "cfg.json"), vikcse::config_error);
  BOOST_CHECK_THROW((void)vikcse::ClipImageOptions::from_file("/nonexistent/preprocessor_config.json"),
                    vikcse::config_error);
  BOOST_CHECK_THROW((void)vikcse::preprocess_clip(vikcse::Image{}), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
