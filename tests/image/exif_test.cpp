// SPDX-License-Identifier: Apache-2.0
// exif.hpp and orientation.hpp on hand-made blocks: Pillow 9.4's rules (the synthetic JPEGs and PNGs
// of the reference check the same rules against Pillow itself in decode_test).
#include <vikcse/image/exif.hpp>
#include <vikcse/image/orientation.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

namespace {

// A big-endian block "Exif\0\0" + TIFF header + IFD0 with the given 12-byte entries.
std::vector<std::uint8_t> block(const std::vector<std::vector<std::uint8_t>>& entries) {
  std::vector<std::uint8_t> b = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8, 0,
                                 static_cast<std::uint8_t>(entries.size())};
  for (const auto& e : entries) b.insert(b.end(), e.begin(), e.end());
  return b;
}

std::vector<std::uint8_t> entry(std::uint16_t type, std::uint32_t count, std::vector<std::uint8_t> value) {
  std::vector<std::uint8_t> e = {0x01, 0x12, static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type),
                                 static_cast<std::uint8_t>(count >> 24), static_cast<std::uint8_t>(count >> 16),
                                 static_cast<std::uint8_t>(count >> 8), static_cast<std::uint8_t>(count)};
  value.resize(4, 0);
  e.insert(e.end(), value.begin(), value.end());
  return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(exif)

BOOST_AUTO_TEST_CASE(orientation_values_by_type) {
  BOOST_TEST(vikcse::exif_orientation(block({entry(3, 1, {0, 6})})).value() == 6);
  BOOST_TEST(vikcse::exif_orientation(block({entry(4, 1, {0, 0, 0, 8})})).value() == 8);
  BOOST_TEST(vikcse::exif_orientation(block({entry(1, 1, {3})})).value() == 3);
  BOOST_TEST(vikcse::exif_orientation(block({entry(2, 2, {'6', 0})})).value() == 1);  // a string: no transpose
  BOOST_TEST(vikcse::exif_orientation(block({entry(3, 1, {0, 9})})).value() == 1);
  BOOST_TEST(vikcse::exif_orientation(block({entry(3, 2, {0, 5, 0, 1})})).value() == 5);  // first value
  BOOST_TEST(!vikcse::exif_orientation(block({entry(3, 0, {0, 6})})).has_value());       // empty: skipped
  BOOST_TEST(!vikcse::exif_orientation(block({entry(99, 1, {0, 6})})).has_value());      // unknown type
  BOOST_TEST(vikcse::exif_orientation(block({entry(3, 1, {0, 6}), entry(3, 1, {0, 2})})).value() == 2);  // last
}

BOOST_AUTO_TEST_CASE(rational_orientation_equal_to_an_integer_counts) {
  auto b = block({entry(5, 1, {0, 0, 0, 26})});  // offset 26 from the TIFF header: 12 / 2
  const std::vector<std::uint8_t> twelve_halves = {0, 0, 0, 12, 0, 0, 0, 2};
  b.resize(6 + 26);
  b.insert(b.end(), twelve_halves.begin(), twelve_halves.end());
  BOOST_TEST(vikcse::exif_orientation(b).value() == 6);
}

BOOST_AUTO_TEST_CASE(malformed_blocks_never_throw) {
  BOOST_TEST(!vikcse::exif_orientation({}).has_value());
  const std::vector<std::uint8_t> garbage = {'E', 'x', 'i', 'f', 0, 0, 'X', 'X', 1, 2, 3};
  BOOST_TEST(!vikcse::exif_orientation(garbage).has_value());
  auto b = block({entry(3, 1, {0, 6}), entry(3, 1, {0, 3})});
  b.resize(b.size() - 6);  // the second entry is cut: the first is kept
  BOOST_TEST(vikcse::exif_orientation(b).value() == 6);
  auto far = block({entry(2, 40, {0xFF, 0xFF, 0xFF, 0xF0}), entry(3, 1, {0, 3})});  // offset past the end
  BOOST_TEST(!vikcse::exif_orientation(far).has_value());
  std::vector<std::uint8_t> huge_offset = {'M', 'M', 0, 42, 0xFF, 0xFF, 0xFF, 0xFF};
  BOOST_TEST(!vikcse::exif_orientation(huge_offset).has_value());
  // Every prefix of a valid block: no crash, no read past the end (checked under the sanitizers).
  const auto full = block({entry(3, 1, {0, 6}), entry(5, 1, {0, 0, 0, 100})});
  for (std::size_t n = 0; n <= full.size(); ++n) {
    (void)vikcse::exif_orientation(std::span<const std::uint8_t>(full.data(), n));
  }
}

BOOST_AUTO_TEST_CASE(xmp_orientation_as_pillows_regex) {
  BOOST_TEST(vikcse::xmp_orientation(R"(<rdf tiff:Orientation="6"/>)").value() == 6);
  BOOST_TEST(vikcse::xmp_orientation("<tiff:Orientation>8</tiff:Orientation>").value() == 8);
  BOOST_TEST(vikcse::xmp_orientation(R"(tiff:Orientation='6' tiff:Orientation="3")").value() == 3);
  BOOST_TEST(vikcse::xmp_orientation(R"(tiff:Orientation="1")").value() == 1);
  BOOST_TEST(!vikcse::xmp_orientation("no orientation").has_value());
  BOOST_TEST(!vikcse::xmp_orientation("tiff:Orientation=\"").has_value());
}

BOOST_AUTO_TEST_CASE(orientations_on_a_3x2_image) {
  // Pixels numbered 0..5 row by row:  0 1 2 / 3 4 5.
  vikcse::Image in{3, 2, 1, {0, 1, 2, 3, 4, 5}};
  const auto px = [](const vikcse::Image& im) { return im.pixels; };
  using V = std::vector<std::uint8_t>;
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 1)) == (V{0, 1, 2, 3, 4, 5}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 2)) == (V{2, 1, 0, 5, 4, 3}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 3)) == (V{5, 4, 3, 2, 1, 0}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 4)) == (V{3, 4, 5, 0, 1, 2}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 5)) == (V{0, 3, 1, 4, 2, 5}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 6)) == (V{3, 0, 4, 1, 5, 2}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 7)) == (V{5, 2, 4, 1, 3, 0}));
  BOOST_TEST(px(vikcse::apply_exif_orientation(in, 8)) == (V{2, 5, 1, 4, 0, 3}));
  BOOST_TEST(vikcse::apply_exif_orientation(in, 6).width == 2);
}

BOOST_AUTO_TEST_SUITE_END()
