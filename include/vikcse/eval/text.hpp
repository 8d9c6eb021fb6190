// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file text.hpp
/// Python-compatible text handling for the SentEval readers: the readers must see exactly the
/// lines and whitespace tokens that SentEval's Python code sees (`str.splitlines()`, universal
/// newlines, `str.split()`, `str.strip()`, latin-1 decoding). Torch-free.

#include <vikcse/error.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace vikcse::detail::eval {

/// Reads a whole file as bytes; throws `data_error` naming the file when it cannot be opened.
inline std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open file (missing or unreadable)", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Re-encodes latin-1 bytes as UTF-8 (Python's `open(..., encoding='latin-1')` maps byte b to U+00b).
inline std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out.push_back(c);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

/// Length in bytes of the Python whitespace character starting at `pos` of UTF-8 `text`, or 0.
/// The set is Python's `str.isspace()`: ASCII \t\n\v\f\r, \x1c-\x1f and space, U+0085, U+00A0,
/// U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
inline std::size_t python_space_length(std::string_view text, std::size_t pos) {
  const auto at = [&](std::size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0U; };
  const unsigned c0 = at(pos);
  if (c0 == ' ' || (c0 >= 0x09 && c0 <= 0x0D) || (c0 >= 0x1C && c0 <= 0x1F)) return 1;
  const unsigned c1 = at(pos + 1);
  const unsigned c2 = at(pos + 2);
  if (c0 == 0xC2 && (c1 == 0x85 || c1 == 0xA0)) return 2;
  if (c0 == 0xE1 && c1 == 0x9A && c2 == 0x80) return 3;
  if (c0 == 0xE2 && c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF)) return 3;
  if (c0 == 0xE2 && c1 == 0x81 && c2 == 0x9F) return 3;
  if (c0 == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;
  return 0;
}

/// Python's `s.split()`: tokens separated by runs of Unicode whitespace, no empty tokens.
inline std::vector<std::string> python_split(std::string_view text) {
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  std::size_t start = std::string_view::npos;
  while (pos < text.size()) {
    if (const std::size_t n = python_space_length(text, pos); n > 0) {
      if (start != std::string_view::npos) tokens.emplace_back(text.substr(start, pos - start));
      start = std::string_view::npos;
      pos += n;
    } else {
      if (start == std::string_view::npos) start = pos;
      ++pos;
    }
  }
  if (start != std::string_view::npos) tokens.emplace_back(text.substr(start));
  return tokens;
}

/// `' '.join(s.split())`: the sentence exactly as SentEval's batchers hand it to a tokenizer.
inline std::string python_split_join(std::string_view text) {
  std::string joined;
  for (const auto& token : python_split(text)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += token;
  }
  return joined;
}

/// Python's `s.strip()` (Unicode whitespace at both ends).
inline std::string_view python_strip(std::string_view text) {
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t n = python_space_length(text, begin);
    if (n == 0) break;
    begin += n;
  }
  std::size_t end = text.size();
  while (end > begin) {
    // Step back over one UTF-8 code point and test whether it is whitespace.
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (python_space_length(text, start) != end - start) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

/// Splits `text` at every occurrence of `separator` (Python's `s.split(sep)`, keeps empty fields).
inline std::vector<std::string_view> split_on(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t pos = 0; pos <= text.size(); ++pos) {
    if (pos == text.size() || text[pos] == separator) {
      fields.push_back(text.substr(start, pos - start));
      start = pos + 1;
    }
  }
  return fields;
}

/// How lines end.
enum class LineMode {
  /// Python's `str.splitlines()`: \n, \r, \r\n, \v, \f, \x1c, \x1d, \x1e, U+0085, U+2028, U+2029.
  splitlines,
  /// Python's universal newlines (`for line in open(...)`): \n, \r and \r\n only.
  universal,
};

/// Splits a decoded text into lines without their terminators, the way Python does in `mode`.
/// A trailing terminator does not produce an extra empty line.
inline std::vector<std::string_view> split_lines(std::string_view text, LineMode mode) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto c = static_cast<unsigned char>(text[pos]);
    std::size_t terminator = 0;
    if (c == '\n' || c == '\r') {
      terminator = (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ? 2 : 1;
    } else if (mode == LineMode::splitlines) {
      if (c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E) {
        terminator = 1;
      } else if (c == 0xC2 && pos + 1 < text.size() && static_cast<unsigned char>(text[pos + 1]) == 0x85) {
        terminator = 2;
      } else if (c == 0xE2 && pos + 2 < text.size() && static_cast<unsigned char>(text[pos + 1]) == 0x80 &&
                 (static_cast<unsigned char>(text[pos + 2]) == 0xA8 ||
                  static_cast<unsigned char>(text[pos + 2]) == 0xA9)) {
        terminator = 3;
      }
    }
    if (terminator > 0) {
      lines.push_back(text.substr(start, pos - start));
      pos += terminator;
      start = pos;
    } else {
      ++pos;
    }
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

/// Python's `float(s)` for the plain decimal forms found in SentEval files; nullopt when invalid.
inline std::optional<double> parse_python_float(std::string_view text) {
  text = python_strip(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// Python's `int(s)` for plain decimal integers; nullopt when invalid.
inline std::optional<std::int64_t> parse_python_int(std::string_view text) {
  text = python_strip(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

/// Number of whitespace tokens of a sentence already joined with single spaces (SentEval's `len(s)`).
inline std::size_t word_count(std::string_view joined) {
  if (joined.empty()) return 0;
  std::size_t n = 1;
  for (char c : joined) n += (c == ' ') ? 1 : 0;
  return n;
}

}  // namespace vikcse::detail::eval
