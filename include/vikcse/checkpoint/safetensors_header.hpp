// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file safetensors_header.hpp
/// The safetensors header, checked without reading any tensor: an 8-byte little-endian length N,
/// then N bytes of JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
/// ..., "__metadata__": {..}}`); offsets are relative to the data section after the header.
/// Torch-free (the fuzz target `fuzz_safetensors_header` runs it on arbitrary bytes).

#include <vikcse/detail/shape_bytes.hpp>
#include <vikcse/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <istream>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// One tensor entry of a safetensors header.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;  ///< safetensors dtype string ("F32", "BF16", ...)
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  ///< byte offset in the data section
  std::uint64_t end = 0;    ///< one past the last byte
};

/// A parsed and checked header: entries in data order, no two overlapping, each one's byte span
/// equal to its shape times its dtype's size.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> entries;
  std::map<std::string, std::string> metadata;  ///< `__metadata__` (non-string values as JSON text)
  std::uint64_t data_start = 0;                 ///< file offset of the data section (8 + header length)
};

/// Bytes per element of a safetensors dtype string; 0 for a dtype the library does not read.
inline std::uint64_t safetensors_dtype_size(std::string_view dtype) {
  static constexpr std::pair<std::string_view, std::uint64_t> sizes[] = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
  };
  for (const auto& [name, size] : sizes)
    if (name == dtype) return size;
  return 0;
}


namespace detail {

inline SafetensorsEntry parse_safetensors_entry(const std::string& source, const std::string& name,
                                                const nlohmann::json& value) {
  auto fail = [&](const std::string& what) {
    throw_error<checkpoint_error>("{}: header entry '{}': {} (got {})", source, name, what,
                                  value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  if (!value.is_object()) fail("expected an object with dtype, shape and data_offsets");
  SafetensorsEntry e;
  e.name = name;
  if (!value.contains("dtype") || !value["dtype"].is_string()) fail("missing string 'dtype'");
  e.dtype = value["dtype"].get<std::string>();
  const auto item_size = safetensors_dtype_size(e.dtype);
  if (item_size == 0) {
    throw_error<checkpoint_error>(
        "{}: tensor '{}' has unknown dtype '{}' (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)",
        source, name, e.dtype);
  }
  if (!value.contains("shape") || !value["shape"].is_array()) fail("missing array 'shape'");
  for (const auto& d : value["shape"]) {
    if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<std::uint64_t>() > INT64_MAX) ||
        d.get<std::int64_t>() < 0) {
      fail("shape must hold non-negative integers");
    }
    e.shape.push_back(d.get<std::int64_t>());
  }
  const auto bytes = detail::shape_bytes(e.shape, item_size);  // nullopt: beyond 2^63, matches no offsets
  const auto& offsets = value.contains("data_offsets") ? value["data_offsets"] : nlohmann::json();
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    fail("'data_offsets' must be [begin, end] with non-negative integers");
  }
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  if (e.end < e.begin) {
    throw_error<checkpoint_error>("{}: tensor '{}' has data_offsets [{}, {}) with end before begin", source, name,
                                  e.begin, e.end);
  }
  if (!bytes || e.end - e.begin != *bytes) {
    throw_error<checkpoint_error>(
        "{}: tensor '{}' of dtype {} and shape {} needs {} bytes, data_offsets [{}, {}) span {}", source, name, e.dtype,
        value["shape"].dump(), bytes ? std::to_string(*bytes) : std::string("more than 2^63"), e.begin, e.end,
        e.end - e.begin);
  }
  return e;
}

}  // namespace detail

/// Parses and checks the JSON header text: an object; each entry's dtype, shape and offsets
/// (consistent with the shape, not overlapping another entry). Whether the data section holds the
/// bytes is the reader's check (`SafetensorsFile::load` names the first tensor that is cut off).
/// @param source names the file in error messages.
/// @throws vikcse::checkpoint_error naming the source, the entry, what was expected and found.
inline SafetensorsHeader parse_safetensors_header(std::string_view text, const std::string& source) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error<checkpoint_error>("{}: header is not valid JSON: {}", source, e.what());
  }
  if (!json.is_object()) throw_error<checkpoint_error>("{}: header must be a JSON object, got {}", source, json.type_name());
  SafetensorsHeader header;
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__") {
      if (value.is_object()) {
        for (const auto& [k, v] : value.items()) {
          header.metadata[k] =
              v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
      }
      continue;
    }
    header.entries.push_back(detail::parse_safetensors_entry(source, name, value));
  }
  auto& entries = header.entries;
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  for (std::size_t i = 1; i < entries.size(); ++i) {
    const auto& prev = entries[i - 1];
    const auto& cur = entries[i];
    if (cur.begin < prev.end) {
      throw_error<checkpoint_error>("{}: tensors '{}' [{}, {}) and '{}' [{}, {}) overlap in the data section", source,
                                    prev.name, prev.begin, prev.end, cur.name, cur.begin, cur.end);
    }
  }
  return header;
}

/// Reads the header of a safetensors file from `in` (at the file's start; the file has `file_size`
/// bytes): the 8-byte length, checked against the file size before anything is allocated, then
/// `parse_safetensors_header`.
/// @throws vikcse::checkpoint_error naming `source`.
inline SafetensorsHeader read_safetensors_header(std::istream& in, std::uint64_t file_size, const std::string& source) {
  if (file_size < 8) {
    throw_error<checkpoint_error>("{}: file has {} bytes, a safetensors file needs at least 8 (header length)", source,
                                  file_size);
  }
  unsigned char bytes[8] = {};
  in.read(reinterpret_cast<char*>(bytes), 8);
  if (!in) throw_error<checkpoint_error>("{}: cannot read the 8-byte header length", source);
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[i];
  if (length > file_size - 8) {
    throw_error<checkpoint_error>("{}: header length {} is larger than the file allows ({} bytes after the 8-byte length)",
                                  source, length, file_size - 8);
  }
  std::string text(length, '\0');
  in.read(text.data(), static_cast<std::streamsize>(length));
  if (!in) throw_error<checkpoint_error>("{}: cannot read the {}-byte header", source, length);
  auto header = parse_safetensors_header(text, source);
  header.data_start = 8 + length;
  return header;
}

}  // namespace vikcse
