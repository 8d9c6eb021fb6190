// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file exif.hpp
/// The EXIF orientation of an image, read the way Pillow 9.4 reads it for `ImageOps.exif_transpose`.
///
/// Pillow's rule: the orientation is tag 0x0112 of IFD0 of the EXIF block (a TIFF structure,
/// optionally behind "Exif\0\0"). Entries are read in order; an entry of an unknown type is skipped,
/// a later entry with the same tag replaces an earlier one, and a read past the end of the block
/// stops the scan (entries read so far are kept). The tag's value is its first element, and it
/// selects a transpose only when it equals 2..8 (a numeric type holding 6.0 or 12/2 counts as 6; a
/// string "6" does not). For a PNG without the tag, Pillow falls back to the XMP text
/// (`tiff:Orientation="N"` or `<tiff:Orientation>N`). Nothing here throws: a malformed block means
/// "no orientation". Where Pillow itself raises (a block whose TIFF header is neither "II*\0" nor
/// "MM\0*"), the image is left as stored.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace vikcse {

namespace detail {

/// Reads an unsigned integer of `size` bytes at `p` in the given byte order.
inline std::uint64_t exif_read_uint(const std::uint8_t* p, int size, bool little_endian) noexcept {
  std::uint64_t value = 0;
  for (int i = 0; i < size; ++i) {
    const int shift = little_endian ? 8 * i : 8 * (size - 1 - i);
    value |= static_cast<std::uint64_t>(p[i]) << shift;
  }
  return value;
}

/// Bytes per element of TIFF field type `type`, or 0 for a type Pillow does not load.
inline int exif_unit_size(unsigned type) noexcept {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;  // BYTE, ASCII, SBYTE, UNDEFINED
    case 3: case 8: return 2;                  // SHORT, SSHORT
    case 4: case 9: case 11: case 13: return 4;  // LONG, SLONG, FLOAT, IFD
    case 5: case 10: case 12: case 16: return 8;  // RATIONAL, SRATIONAL, DOUBLE, LONG8
    default: return 0;
  }
}

/// The first element of a field as a number, or nullopt for a non-numeric type (ASCII, UNDEFINED).
inline std::optional<double> exif_first_value(unsigned type, const std::uint8_t* p, bool le) noexcept {
  switch (type) {
    case 1: return static_cast<double>(p[0]);
    case 6: return static_cast<double>(static_cast<std::int8_t>(p[0]));
    case 3: return static_cast<double>(exif_read_uint(p, 2, le));
    case 8: return static_cast<double>(static_cast<std::int16_t>(exif_read_uint(p, 2, le)));
    case 4: case 13: return static_cast<double>(exif_read_uint(p, 4, le));
    case 9: return static_cast<double>(static_cast<std::int32_t>(exif_read_uint(p, 4, le)));
    case 16: return static_cast<double>(exif_read_uint(p, 8, le));
    case 5: case 10: {
      const auto num_bits = exif_read_uint(p, 4, le);
      const auto den_bits = exif_read_uint(p + 4, 4, le);
      const double num = type == 5 ? static_cast<double>(num_bits)
                                   : static_cast<double>(static_cast<std::int32_t>(num_bits));
      const double den = type == 5 ? static_cast<double>(den_bits)
                                   : static_cast<double>(static_cast<std::int32_t>(den_bits));
      if (den == 0) return std::nullopt;  // Pillow: NaN, equal to nothing
      return num / den;
    }
    case 11: {
      const auto bits = static_cast<std::uint32_t>(exif_read_uint(p, 4, le));
      float f = 0;
      std::memcpy(&f, &bits, sizeof f);
      return static_cast<double>(f);
    }
    case 12: {
      const auto bits = exif_read_uint(p, 8, le);
      double d = 0;
      std::memcpy(&d, &bits, sizeof d);
      return d;
    }
    default: return std::nullopt;
  }
}

/// 2..8 when `value` is exactly one of those, else 1 (no transpose).
inline int exif_orientation_code(std::optional<double> value) noexcept {
  if (!value) return 1;
  for (int code = 2; code <= 8; ++code) {
    if (*value == code) return code;
  }
  return 1;
}

}  // namespace detail

/// The orientation tag (0x0112) of an EXIF block (a JPEG APP1 payload, a PNG eXIf chunk, or a PNG
/// "Raw profile type exif" decoded from hex), by Pillow's rule (see the file comment).
/// @return nullopt when the block has no such tag (or is not a TIFF structure); otherwise 2..8 for a
///         value that selects a transpose, and 1 for any other value.
inline std::optional<int> exif_orientation(std::span<const std::uint8_t> exif) noexcept {
  static constexpr std::uint8_t prefix[] = {'E', 'x', 'i', 'f', 0, 0};
  if (exif.size() >= 6 && std::memcmp(exif.data(), prefix, 6) == 0) exif = exif.subspan(6);
  if (exif.size() < 8) return std::nullopt;
  const std::uint8_t* d = exif.data();
  bool le = false;
  if (d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) {
    le = true;
  } else if (!(d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)) {
    return std::nullopt;
  }
  const std::uint64_t size = exif.size();
  std::uint64_t pos = detail::exif_read_uint(d + 4, 4, le);
  if (pos + 2 > size) return std::nullopt;
  const auto count = detail::exif_read_uint(d + pos, 2, le);
  pos += 2;
  bool found = false;
  int orientation = 1;
  for (std::uint64_t i = 0; i < count; ++i, pos += 12) {
    if (pos + 12 > size) break;  // Pillow: a short read ends the scan
    const auto tag = static_cast<unsigned>(detail::exif_read_uint(d + pos, 2, le));
    const auto type = static_cast<unsigned>(detail::exif_read_uint(d + pos + 2, 2, le));
    const auto n = detail::exif_read_uint(d + pos + 4, 4, le);
    const int unit = detail::exif_unit_size(type);
    if (unit == 0) continue;  // unknown type: skipped
    const std::uint64_t bytes = n * static_cast<std::uint64_t>(unit);
    const std::uint8_t* value = d + pos + 8;
    if (bytes > 4) {
      const auto offset = detail::exif_read_uint(d + pos + 8, 4, le);
      if (offset + bytes > size) break;  // Pillow: a truncated read ends the scan
      value = d + offset;
    }
    if (bytes == 0) continue;  // Pillow skips empty fields
    if (tag == 0x0112) {
      found = true;
      orientation = detail::exif_orientation_code(detail::exif_first_value(type, value, le));
    }
  }
  if (!found) return std::nullopt;
  return orientation;
}

/// The orientation in XMP text, as Pillow's fallback for PNG reads it: the first match of
/// `tiff:Orientation(="|>)([0-9])`. nullopt when there is none; 1 for a digit outside 2..8.
inline std::optional<int> xmp_orientation(std::string_view xmp) noexcept {
  static constexpr std::string_view key = "tiff:Orientation";
  for (std::size_t at = xmp.find(key); at != std::string_view::npos; at = xmp.find(key, at + 1)) {
    std::size_t p = at + key.size();
    if (p < xmp.size() && xmp[p] == '=') {
      if (p + 1 >= xmp.size() || xmp[p + 1] != '"') continue;
      p += 2;
    } else if (p < xmp.size() && xmp[p] == '>') {
      p += 1;
    } else {
      continue;
    }
    if (p < xmp.size() && xmp[p] >= '0' && xmp[p] <= '9') {
      const int digit = xmp[p] - '0';
      return digit >= 2 && digit <= 8 ? digit : 1;
    }
  }
  return std::nullopt;
}

}  // namespace vikcse
