// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file fixtures.hpp
/// Helpers of the tokenizer tests: the reference tokenizers in ../shared/data, fixture files in
/// tests/data/tokenizer, id-line parsing.

#include "support/test_data.hpp"

#include <vikcse/tokenizer/detail/io.hpp>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse::testing {

/// tests/data/tokenizer
inline std::filesystem::path tokenizer_fixture_dir() { return fixture_dir() / "tokenizer"; }

/// ../shared/data/tokenizers/<name> (exits 77, or 1 under CI=true, when the data is missing).
inline std::filesystem::path shared_tokenizer_dir(std::string_view name) {
  return data_dir() / "tokenizers" / std::string(name);
}

/// ../shared/data/clip/openai-clip-vit-base-patch32, or its legacy-format/ twin (the Hub's original
/// tokenizer.json, no tokenizer_config.json).
inline std::filesystem::path shared_clip_dir(bool legacy = false) {
  const auto dir = data_dir() / "clip" / "openai-clip-vit-base-patch32";
  return legacy ? dir / "legacy-format" : dir;
}

/// Lines of a fixture file, raw bytes.
inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::string bytes = detail::read_file_bytes(path);
  std::vector<std::string> out;
  for (auto line : detail::split_lines(bytes)) out.emplace_back(line);
  return out;
}

/// "1 2 3" -> {1, 2, 3}
inline std::vector<std::int64_t> parse_ids(std::string_view line) {
  std::vector<std::int64_t> ids;
  std::istringstream in{std::string(line)};
  std::int64_t v = 0;
  while (in >> v) ids.push_back(v);
  return ids;
}

/// {1, 2, 3} -> "1 2 3"
inline std::string join_ids(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(ids[i]);
  }
  return out;
}

}  // namespace vikcse::testing
