// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file data_lines.hpp
/// Line-by-line reading of the user data files the eval layer evaluates on (a pairs TSV, BEIR's
/// `queries.jsonl`, `corpus.jsonl` and `qrels/*.tsv`), streamed so that a large corpus is never
/// held twice, with 1-based line numbers for the error messages. Lines end at '\n'; a '\r' before
/// it (Windows files) and a UTF-8 byte-order mark at the start of the file are dropped.
///
/// Blank lines (empty, or only spaces and tabs) are skipped only at the end of a file, where
/// editors and `print` loops leave them. A blank line followed by more data is an error naming it:
/// in these formats every line is one record, so a blank line inside the data is a lost record or
/// a broken file, never something to skip silently. Torch-free.

#include <vikcse/error.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace vikcse::detail::eval {

/// True when `line` holds nothing but spaces and tabs.
inline bool is_blank_line(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

/// Calls `on_line(line_number, text)` (1-based number, text without its line ending) for every
/// line of `path` up to the last non-blank one, and returns how many lines it called it for.
/// @throws vikcse::data_error naming the file when it cannot be opened, and naming the file and
///         line of a blank line that has data after it.
template <typename OnLine>
std::size_t for_each_data_line(const std::filesystem::path& path, OnLine&& on_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open file (missing or unreadable)", path.string());
  std::string line;
  std::size_t number = 0;
  std::size_t first_blank = 0;  // number of the first blank line of the current blank run (0: none)
  std::size_t calls = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (is_blank_line(line)) {
      if (first_blank == 0) first_blank = number;
      continue;
    }
    if (first_blank != 0) {
      throw_error<data_error>(
          "{}:{}: expected a record on every line, found an empty line (more data follows on line {}; only empty "
          "lines at the end of the file are skipped)",
          path.string(), first_blank, number);
    }
    on_line(number, std::string_view(line));
    ++calls;
  }
  if (in.bad()) throw_error<data_error>("{}: read error after line {}", path.string(), number);
  return calls;
}

}  // namespace vikcse::detail::eval
