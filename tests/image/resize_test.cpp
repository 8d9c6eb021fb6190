// SPDX-License-Identifier: Apache-2.0
// resize.hpp against Pillow 9.4's Image.resize(size, BILINEAR|BICUBIC, reducing_gap=None) on the
// reference's random images (up- and down-scaling, one axis only, odd sizes, 1-pixel images, RGB
// and L). Bound: 0 (bit-exact), every case.
#include "reference.hpp"

#include <vikcse/error.hpp>
#include <vikcse/image/resize.hpp>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

BOOST_AUTO_TEST_SUITE(resize)

BOOST_AUTO_TEST_CASE(matches_pillow_bit_exact) {
  int cases = 0;
  int worst = 0;
  for (const auto& c : vikcse::testing::image_manifest().at("resize")) {
    const vikcse::Image in = vikcse::testing::reference_image(c.at("input"));
    const vikcse::Image want = vikcse::testing::reference_image(c.at("expected"));
    const auto filter = static_cast<vikcse::ResampleFilter>(c.at("filter").get<int>());
    const int w = c.at("out_size")[0].get<int>();
    const int h = c.at("out_size")[1].get<int>();
    const vikcse::Image got = vikcse::resize(in, w, h, filter);
    const int diff = vikcse::testing::max_abs_diff(got, want);
    worst = std::max(worst, diff);
    ++cases;
    BOOST_TEST_MESSAGE(fmt::format("resize {}x{}x{} -> {}x{} {}: max |diff| {}, {} samples differ", in.width,
                                   in.height, in.channels, w, h, filter == vikcse::ResampleFilter::bicubic ? "bicubic" : "bilinear",
                                   diff, vikcse::testing::count_diff(got, want)));
    BOOST_TEST(diff == 0, c.at("expected").at("file").get<std::string>() << ": max |diff| " << diff);
  }
  BOOST_TEST_MESSAGE(fmt::format("resize: {} cases, max |diff| {}", cases, worst));
  BOOST_TEST(cases >= 30);
}

BOOST_AUTO_TEST_CASE(same_size_is_a_copy_and_bad_sizes_throw) {
  vikcse::Image in{2, 2, 3, std::vector<std::uint8_t>(12, 7)};
  BOOST_TEST((vikcse::resize(in, 2, 2, vikcse::ResampleFilter::bicubic) == in));
  BOOST_CHECK_THROW((void)vikcse::resize(in, 0, 2, vikcse::ResampleFilter::bicubic), vikcse::invalid_argument);
  BOOST_CHECK_THROW((void)vikcse::resize(vikcse::Image{}, 2, 2, vikcse::ResampleFilter::bilinear),
                    vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(constant_image_stays_constant) {
  vikcse::Image in = vikcse::Image::zeros(37, 23, 3);
  std::fill(in.pixels.begin(), in.pixels.end(), std::uint8_t{200});
  for (auto f : {vikcse::ResampleFilter::bilinear, vikcse::ResampleFilter::bicubic}) {
    const auto out = vikcse::resize(in, 11, 64, f);
    BOOST_TEST(std::all_of(out.pixels.begin(), out.pixels.end(), [](std::uint8_t v) { return v == 200; }));
  }
}

BOOST_AUTO_TEST_SUITE_END()
