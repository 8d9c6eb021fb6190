// SPDX-License-Identifier: Apache-2.0
// Reads sentences from standard input, one per line, and prints each sentence's token ids (special
// tokens included, no padding) as one line of space-separated integers, so the output can be
// compared with any other tool line by line.
//
//   vikcse_tokenize --tokenizer ../shared/data/tokenizers/bert-base-uncased < sentences.txt

#include "support/tokenize_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// The ids of a line of space-separated integers. @throws vikcse::data_error naming the line and
/// the token that is not an integer.
std::vector<std::int64_t> parse_ids(const std::string& line, std::size_t line_no) {
  std::vector<std::int64_t> ids;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    if (pos == line.size()) break;
    const auto end = std::min(line.find(' ', pos), line.size());
    std::int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(line.data() + pos, line.data() + end, id);
    if (ec != std::errc() || ptr != line.data() + end) {
      vikcse::throw_error<vikcse::data_error>("standard input, line {}: expected space-separated token ids, found '{}'",
                                              line_no, line.substr(pos, end - pos));
    }
    ids.push_back(id);
    pos = end;
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  vikcse::cli::tokenize::Args args;
  vikcse::cli::tokenize::add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  try {
    const auto tok = vikcse::load_tokenizer(args.tokenizer);
    std::string line;
    std::string out;
    std::vector<std::int64_t> ids;
    std::size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.clear();
      if (args.decode) {
        ids = parse_ids(line, line_no);
        out = tok.decode(ids, true);
      } else {
        for (const auto id : tok.encode(line, args.special_tokens)) {
          if (!out.empty()) out.push_back(' ');
          out += std::to_string(id);
        }
      }
      out.push_back('\n');
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    if (std::fflush(stdout) != 0) {
      std::perror("vikcse_tokenize: writing standard output");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vikcse_tokenize: %s\n", e.what());
    return 1;
  }
  return 0;
}
