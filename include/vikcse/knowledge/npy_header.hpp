// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file npy_header.hpp
/// The header of a NumPy `.npy` file, checked before any data is read: magic `\x93NUMPY`, version
/// 1.x (2-byte header length) or 2.x/3.x (4-byte), then a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (rows, dim), }`. The data the shape needs must
/// fit in the file, so a tiny file cannot make the reader allocate more than the file holds.
/// Torch-free (the fuzz target `fuzz_npy_header` runs it on arbitrary bytes).

#include <vikcse/detail/shape_bytes.hpp>
#include <vikcse/error.hpp>

#include <cstdint>
#include <cstring>
#include <istream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// What a `.npy` header says.
struct NpyHeader {
  std::string descr;                ///< the dtype: "<f4", "<f8" or "<f2" (the ones features come in)
  std::uint64_t item_size = 0;      ///< bytes per element (4, 8 or 2)
  std::vector<std::int64_t> shape;  ///< the dimensions
  std::uint64_t data_offset = 0;    ///< where the data starts in the file
  std::uint64_t data_bytes = 0;     ///< bytes the shape needs (checked to fit in the file)
};

namespace detail {

/// The value text of `'key':` in a header dict: up to the matching ')' for a tuple, else up to ',' or '}'.
inline std::string_view npy_field(std::string_view header, std::string_view key, const std::string& source) {
  const auto quoted = "'" + std::string(key) + "'";
  const auto pos = header.find(quoted);
  const auto colon = pos == std::string_view::npos ? pos : header.find(':', pos + quoted.size());
  if (colon == std::string_view::npos) {
    throw_error<data_error>("{}: .npy header has no '{}' (expected {{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (rows, dim)}})",
                            source, key);
  }
  auto start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string_view::npos) throw_error<data_error>("{}: .npy header ends after '{}:'", source, key);
  const auto end = header[start] == '(' ? header.find(')', start) : header.find_first_of(",}", start);
  if (end == std::string_view::npos) throw_error<data_error>("{}: .npy header: '{}' is not closed", source, key);
  return header.substr(start, end - start + (header[start] == '(' ? 1 : 0));
}

}  // namespace detail

/// Reads and checks the header from `in` (positioned at the start of a file of `file_size` bytes).
/// @throws vikcse::data_error naming `source`, what was expected and what was found: a bad magic or
///         version, a missing key, a dtype other than <f4/<f8/<f2, Fortran order, a malformed shape,
///         or data that the file is too short to hold.
inline NpyHeader read_npy_header(std::istream& in, std::uint64_t file_size, const std::string& source) {
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw_error<data_error>("{}: not a .npy file (bad magic; expected \\x93NUMPY)", source);
  }
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint64_t header_len = 0;
  std::uint64_t prefix = 0;
  if (major == 1) {
    unsigned char b[2] = {};
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    unsigned char b[4] = {};
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint64_t>(b[3]) << 24);
    prefix = 12;
  } else {
    throw_error<data_error>("{}: unsupported .npy version {} (expected 1, 2 or 3)", source, major);
  }
  if (!in || prefix + header_len > file_size) {
    throw_error<data_error>("{}: truncated .npy header: it claims {} bytes, the file has {} after the prefix", source,
                            header_len, file_size > prefix ? file_size - prefix : 0);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw_error<data_error>("{}: truncated .npy header", source);

  NpyHeader h;
  h.data_offset = prefix + header_len;
  const auto descr = detail::npy_field(header, "descr", source);
  const auto order = detail::npy_field(header, "fortran_order", source);
  const auto shape = detail::npy_field(header, "shape", source);
  if (order != "False") {
    throw_error<data_error>("{}: Fortran-ordered .npy arrays are not supported (expected fortran_order False, got {})",
                            source, order);
  }
  for (const auto& [name, size] : {std::pair{"'<f4'", 4}, std::pair{"'<f8'", 8}, std::pair{"'<f2'", 2}}) {
    if (descr == name) {
      h.descr = std::string(descr.substr(1, 3));
      h.item_size = static_cast<std::uint64_t>(size);
    }
  }
  if (h.item_size == 0) {
    throw_error<data_error>("{}: .npy dtype {} is not supported (expected '<f4', '<f8' or '<f2')", source, descr);
  }
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') {
    throw_error<data_error>("{}: .npy shape must be a tuple like (rows, dim), got {}", source, shape);
  }
  // Digits separated by commas and spaces; each dimension and the byte count are bounded by the file.
  const auto available = file_size - h.data_offset;
  std::string_view rest = shape.substr(1, shape.size() - 2);
  while (!rest.empty()) {
    const auto skip = rest.find_first_not_of(", ");
    if (skip == std::string_view::npos) break;
    rest.remove_prefix(skip);
    std::uint64_t dim = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      if (dim > (static_cast<std::uint64_t>(INT64_MAX) - 9) / 10) {
        throw_error<data_error>("{}: .npy shape {} has a dimension beyond 2^63", source, shape);
      }
      dim = dim * 10 + static_cast<std::uint64_t>(rest[digits] - '0');
      ++digits;
    }
    if (digits == 0 || (digits < rest.size() && rest[digits] != ',' && rest[digits] != ' ')) {
      throw_error<data_error>("{}: .npy shape must hold non-negative integers, got {}", source, shape);
    }
    rest.remove_prefix(digits);
    h.shape.push_back(static_cast<std::int64_t>(dim));
  }
  const auto bytes = detail::shape_bytes(h.shape, h.item_size);
  if (!bytes || *bytes > available) {
    throw_error<data_error>("{}: .npy data truncated: shape {} needs {} bytes, the file holds {}", source, shape,
                            bytes ? std::to_string(*bytes) : std::string("more than 2^63"), available);
  }
  h.data_bytes = *bytes;
  return h;
}

}  // namespace vikcse
