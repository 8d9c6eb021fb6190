// SPDX-License-Identifier: Apache-2.0
// Bad input: every failure is a vikcse::data_error whose message names the file and says what was
// expected; a truncated JPEG is an error, not an image padded with grey.
#include "reference.hpp"
#include "support/test_data.hpp"

#include <vikcse/error.hpp>
#include <vikcse/image/decode.hpp>

#include <boost/test/unit_test.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("vikcse_image_errors_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<char> bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path write(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// read_image(path) throws data_error whose message contains the path and every one of `parts`.
void expect_error(const fs::path& path, std::initializer_list<const char*> parts) {
  try {
    (void)vikcse::read_image(path);
    BOOST_ERROR(path.string() << ": decoded without an error");
  } catch (const vikcse::data_error& e) {
    const std::string message = e.what();
    BOOST_TEST_MESSAGE("error: " << message);
    BOOST_TEST(message.find(path.string()) != std::string::npos, message);
    for (const char* part : parts) BOOST_TEST(message.find(part) != std::string::npos, message << " lacks " << part);
  }
}

fs::path synthetic(const char* name) { return vikcse::testing::image_reference_dir() / "synthetic" / name; }

}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(zero_byte_file) {
  TempDir dir;
  expect_error(write(dir.path / "empty.jpg", {}), {"empty file", "expected a JPEG or PNG"});
}

BOOST_AUTO_TEST_CASE(truncated_jpeg_is_an_error_not_grey) {
  TempDir dir;
  const auto full = bytes_of(synthetic("exif_1.jpg"));
  BOOST_REQUIRE(full.size() > 400U);
  for (const std::size_t keep : {full.size() - 2, full.size() / 2, std::size_t{400}, std::size_t{3}}) {
    const std::vector<char> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(keep));
    expect_error(write(dir.path / ("cut" + std::to_string(keep) + ".jpg"), cut), {"JPEG"});
  }
  const std::vector<char> half(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() / 2));
  expect_error(write(dir.path / "half.jpg", half), {"Premature end of JPEG file"});
}

BOOST_AUTO_TEST_CASE(truncated_progressive_jpeg) {
  TempDir dir;
  const auto path = vikcse::testing::data_dir() / "images" / "app13-multiple.jpg";
  const auto full = bytes_of(path);
  const std::vector<char> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(full.size() * 3 / 4));
  expect_error(write(dir.path / "progressive_cut.jpg", cut), {"Premature end of JPEG file"});
}

BOOST_AUTO_TEST_CASE(truncated_png) {
  TempDir dir;
  for (const char* name : {"rgba8.png", "palette4_trns.png"}) {
    const auto full = bytes_of(synthetic(name));
    for (const std::size_t keep : {full.size() - 1, full.size() - 12, full.size() / 2, std::size_t{20}}) {
      const std::vector<char> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(keep));
      expect_error(write(dir.path / (std::to_string(keep) + name), cut), {"PNG"});
    }
  }
  const auto real = bytes_of(vikcse::testing::data_dir() / "images" / "pil123p.png");  // interlaced
  const std::vector<char> cut(real.begin(), real.begin() + static_cast<std::ptrdiff_t>(real.size() / 2));
  expect_error(write(dir.path / "interlaced_cut.png", cut), {"not a valid PNG", "truncated"});
}

BOOST_AUTO_TEST_CASE(corrupt_bytes) {
  TempDir dir;
  auto png = bytes_of(synthetic("rgb8.png"));
  png[20] = static_cast<char>(png[20] ^ 0x55);  // inside IHDR: CRC mismatch
  expect_error(write(dir.path / "bad_crc.png", png), {"not a valid PNG", "CRC"});
  auto idat = bytes_of(synthetic("rgb8.png"));
  for (std::size_t i = 45; i < idat.size() - 16; ++i) idat[i] = static_cast<char>(0xA5);  // zlib data garbage
  expect_error(write(dir.path / "bad_idat.png", idat), {"not a valid PNG"});
  std::vector<char> jpeg(200, '\x42');  // SOI, an APP0 header, then no valid marker
  const char head[] = {'\xFF', '\xD8', '\xFF', '\xE0', 0, 16};
  std::copy(std::begin(head), std::end(head), jpeg.begin());
  expect_error(write(dir.path / "bad_markers.jpg", jpeg), {"not a valid JPEG"});
  auto sof = bytes_of(synthetic("exif_1.jpg"));
  for (std::size_t i = 0; i + 1 < sof.size(); ++i) {
    if (sof[i] == '\xFF' && sof[i + 1] == '\xC0') {  // SOF0: zero the width
      sof[i + 7] = 0;
      sof[i + 8] = 0;
      break;
    }
  }
  expect_error(write(dir.path / "zero_width.jpg", sof), {"not a valid JPEG"});
}

BOOST_AUTO_TEST_CASE(not_an_image) {
  TempDir dir;
  const std::string text = "this is a text file, not an image\n";
  expect_error(write(dir.path / "notes.jpg", {text.begin(), text.end()}),
               {"not a JPEG or PNG image", "expected the signature", "found 74 68 69 73"});
}

BOOST_AUTO_TEST_CASE(missing_file_and_directory) {
  TempDir dir;
  expect_error(dir.path / "no_such_photo.jpg", {"cannot open", "no such file"});
  expect_error(dir.path, {"is a directory"});
}

BOOST_AUTO_TEST_CASE(oversized_header_is_refused) {
  const auto bytes = bytes_of(synthetic("exif_1.jpg"));
  const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  BOOST_CHECK_THROW((void)vikcse::decode_image(data, "tiny-limit.jpg", {.max_pixels = 100}), vikcse::data_error);
}

BOOST_AUTO_TEST_SUITE_END()
