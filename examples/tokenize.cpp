// SPDX-License-Identifier: Apache-2.0
// Reads sentences from standard input, one per line, and prints each sentence's token ids (special
// tokens included, no padding) as one line of space-separated integers, so the output can be
// compared with any other tool line by line.
//
//   vikcse_tokenize --tokenizer ../shared/data/tokenizers/bert-base-uncased < sentences.txt

#include <vikcse/tokenizer/auto_tokenizer.hpp>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* usage = R"(usage: vikcse_tokenize --tokenizer DIR [--no-special-tokens] [--decode]

Reads sentences from standard input, one per line (raw bytes; invalid UTF-8 becomes U+FFFD as in
Hugging Face; one trailing '\r' is dropped), and prints each sentence's token ids as one line of
space-separated integers, special tokens included, no padding.

  --tokenizer DIR        a tokenizer directory: tokenizer.json, or vocab.txt (WordPiece, BERT),
                         or vocab.json + merges.txt (byte-level BPE, RoBERTa/GPT-2); with
                         tokenizer_config.json when present
  --no-special-tokens    print the ids without [CLS]/[SEP] (<s>/</s>)
  --decode               read lines of ids instead and print their text (special tokens skipped)
  --help                 this text
)";

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  bool special = true;
  bool decode = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (arg == "--tokenizer" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg.starts_with("--tokenizer=")) {
      dir = std::string(arg.substr(std::strlen("--tokenizer=")));
    } else if (arg == "--no-special-tokens") {
      special = false;
    } else if (arg == "--decode") {
      decode = true;
    } else {
      std::fprintf(stderr, "vikcse_tokenize: unknown argument '%s'\n\n%s", argv[i], usage);
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "vikcse_tokenize: --tokenizer DIR is required\n\n%s", usage);
    return 2;
  }
  try {
    const auto tok = vikcse::load_tokenizer(dir);
    std::string line;
    std::string out;
    std::vector<std::int64_t> ids;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.clear();
      if (decode) {
        ids.clear();
        std::size_t pos = 0;
        while (pos < line.size()) {
          while (pos < line.size() && line[pos] == ' ') ++pos;
          if (pos == line.size()) break;
          std::size_t used = 0;
          ids.push_back(std::stoll(line.substr(pos), &used));
          pos += used;
        }
        out = tok.decode(ids, true);
      } else {
        for (const auto id : tok.encode(line, special)) {
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
