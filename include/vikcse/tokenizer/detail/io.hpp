// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file io.hpp
/// File helpers of the tokenizers: whole-file reads as raw bytes, JSON files with located
/// errors, line splitting, a hash map keyed by strings that accepts std::string_view look-ups,
/// and atomic writes (temporary file, then rename).

#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace vikcse::detail {

/// Hash for string keys that also hashes std::string_view and const char* (heterogeneous look-up).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// Token string -> id.
using TokenIdMap = std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>>;

/// The ids of a vocabulary object token -> id (`vocab.json`, or `model.vocab` of `tokenizer.json`),
/// each an integer in int64's range; otherwise a tokenizer_error "SOURCE: the id of 'TOKEN' is not
/// an integer: expected ..., got ...".
inline TokenIdMap read_token_ids(const nlohmann::json& vocab, std::string_view source) {
  TokenIdMap ids;
  for (const auto& [token, id] : vocab.items()) {
    ids.emplace(token, json_as<std::int64_t, tokenizer_error>(id, [&, &token = token] {
                  return fmt::format("{}: the id of '{}' is not an integer", source, token);
                }));
  }
  return ids;
}

/// Reads a whole file as raw bytes; throws tokenizer_error naming the file when it cannot.
inline std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<tokenizer_error>("cannot open '{}' for reading", path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw_error<tokenizer_error>("error while reading '{}'", path.string());
  return bytes;
}

/// Parses a JSON file; a syntax error names the file and the byte offset.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {
    throw_error<tokenizer_error>("'{}' is not valid JSON: {}", path.string(), e.what());
  }
}

/// Splits text into lines on '\n', dropping one trailing '\r' per line (files written on
/// Windows), like Python's text mode. A final empty line after the last '\n' is not returned.
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

/// Creates `dir` (and parents) or throws tokenizer_error.
inline void ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw_error<tokenizer_error>("cannot create directory '{}': {}", dir.string(), ec.message());
  }
}

}  // namespace vikcse::detail
