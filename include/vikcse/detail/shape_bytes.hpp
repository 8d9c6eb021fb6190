// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file shape_bytes.hpp
/// The byte size of a tensor shape, computed without overflow, for the file readers that must
/// check a header's claim against the file before allocating. Torch-free.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

namespace vikcse::detail {

/// Bytes that `shape` (non-negative dimensions) of `item_size`-byte elements needs; nullopt when
/// that is beyond 2^63. A shape holding a 0 needs 0 bytes, an empty shape (a scalar) one element.
inline std::optional<std::uint64_t> shape_bytes(std::span<const std::int64_t> shape, std::uint64_t item_size) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::uint64_t bytes = item_size;
  for (const auto d : shape) {
    const auto dim = static_cast<std::uint64_t>(d);
    if (bytes > static_cast<std::uint64_t>(INT64_MAX) / dim) return std::nullopt;
    bytes *= dim;
  }
  return bytes;
}

}  // namespace vikcse::detail
