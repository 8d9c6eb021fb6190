// SPDX-License-Identifier: Apache-2.0
// decode.hpp (jpeg.hpp, png.hpp, convert.hpp, orientation.hpp) against Pillow 9.4 in the same run:
// every file of ../shared/data/images and the reference's synthetic files decode to the very bytes
// of `ImageOps.exif_transpose(Image.open(p)).convert("RGB")` (AlphaMode::drop) and of transformers'
// convert_to_rgb (AlphaMode::composite_on_white). Bound: 0 (bit-exact), every file.
#include "reference.hpp"
#include "support/test_data.hpp"

#include <vikcse/image/decode.hpp>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <set>
#include <string>

namespace {

using vikcse::testing::count_diff;
using vikcse::testing::image_manifest;
using vikcse::testing::max_abs_diff;
using vikcse::testing::reference_image;

// Decodes every file of the manifest of `kind` with `alpha` and compares with the reference's `key`.
void compare_all(const std::string& kind, vikcse::AlphaMode alpha, const char* key) {
  int files = 0;
  int worst = 0;
  for (const auto& e : image_manifest().at("files")) {
    if (e.at("kind") != kind || e.at(key).is_null()) continue;
    const auto name = e.at("name").get<std::string>();
    const vikcse::Image got = vikcse::read_image(e.at("path").get<std::string>(), {.alpha = alpha});
    const vikcse::Image want = reference_image(e.at(key));
    const int diff = max_abs_diff(got, want);
    worst = std::max(worst, diff);
    ++files;
    BOOST_TEST_MESSAGE(fmt::format("decode {:<9} {:<26} mode {:<5} {}x{} (Pillow {}x{}): max |diff| {}, {} samples differ",
                                   key, name, e.at("mode").get<std::string>(), got.width, got.height, want.width,
                                   want.height, diff, count_diff(got, want)));
    BOOST_TEST(got.width == want.width, name);
    BOOST_TEST(got.height == want.height, name);
    BOOST_TEST(diff == 0, name << ": decoded pixels differ from Pillow's by up to " << diff);
  }
  BOOST_TEST_MESSAGE(fmt::format("decode {} ({} files, {}): max |diff| over all files {}", key, files, kind, worst));
  BOOST_TEST(files > 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(decode)

BOOST_AUTO_TEST_CASE(real_files_are_all_in_the_reference) {
  const auto dir = vikcse::testing::data_dir() / "images";  // skipped (77) without the data
  std::set<std::string> names;
  for (const auto& e : image_manifest().at("files")) {
    if (e.at("kind") == "real") names.insert(e.at("name").get<std::string>());
  }
  BOOST_TEST(names.size() == 15U);
  for (const char* name : {"pil_sample_cmyk.jpg", "app13-multiple.jpg", "iptc.jpg", "transparent.png", "pil123p.png",
                           "camera.png", "hopper_gray.jpg", "Landscape_6.jpg", "Portrait_8.jpg",
                           "exif_typeerror.jpg"}) {
    BOOST_TEST(names.count(name) == 1U, name);
    BOOST_TEST(std::filesystem::exists(dir / name), name);
  }
}

BOOST_AUTO_TEST_CASE(real_files_drop_alpha_bit_exact) {
  vikcse::testing::data_dir();
  compare_all("real", vikcse::AlphaMode::drop, "decoded");
}

BOOST_AUTO_TEST_CASE(real_files_composite_on_white_bit_exact) {
  vikcse::testing::data_dir();
  compare_all("real", vikcse::AlphaMode::composite_on_white, "composite");
}

BOOST_AUTO_TEST_CASE(synthetic_files_drop_alpha_bit_exact) {
  compare_all("synthetic", vikcse::AlphaMode::drop, "decoded");
}

BOOST_AUTO_TEST_CASE(synthetic_files_composite_on_white_bit_exact) {
  compare_all("synthetic", vikcse::AlphaMode::composite_on_white, "composite");
}

BOOST_AUTO_TEST_CASE(exif_orientation_turns_the_stored_image) {
  vikcse::testing::data_dir();
  const auto dir = vikcse::testing::data_dir() / "images";
  const auto landscape = vikcse::read_image(dir / "Landscape_6.jpg");
  BOOST_TEST(landscape.width == 1800);
  BOOST_TEST(landscape.height == 1200);
  const auto stored = vikcse::read_image(dir / "Landscape_6.jpg", {.apply_exif_orientation = false});
  BOOST_TEST(stored.width == 1200);
  BOOST_TEST(stored.height == 1800);
  BOOST_TEST((vikcse::apply_exif_orientation(stored, 6) == landscape));
}

BOOST_AUTO_TEST_CASE(cmyk_pixels_as_the_readme_states) {
  const auto rgb = vikcse::read_image(vikcse::testing::data_dir() / "images" / "pil_sample_cmyk.jpg");
  BOOST_TEST(rgb.at(0, 0, 0) == 255);  // CMYK (0, 242, 230, 0) -> RGB (255, 13, 25)
  BOOST_TEST(rgb.at(0, 0, 1) == 13);
  BOOST_TEST(rgb.at(0, 0, 2) == 25);
}

BOOST_AUTO_TEST_CASE(alpha_rules_differ_where_alpha_is_zero) {
  const auto path = vikcse::testing::data_dir() / "images" / "transparent.png";
  const auto dropped = vikcse::read_image(path);
  const auto white = vikcse::read_image(path, {.alpha = vikcse::AlphaMode::composite_on_white});
  BOOST_TEST(dropped.width == 200);
  BOOST_TEST(white.width == 200);
  BOOST_TEST(vikcse::testing::count_diff(dropped, white) > 0U);
}

BOOST_AUTO_TEST_SUITE_END()
