// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tiny.hpp
/// Tiny tokenizers built in code for the unit tests (no files, no ../shared/data).

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace vikcse::testing {

/// A WordPiece vocabulary whose special tokens are deliberately NOT at BERT's ids.
inline std::vector<std::string> tiny_wordpiece_vocab() {
  return {"un",    "##aff", "##able", "[PAD]", "hello", "world", ",",   "!",      "[UNK]",
          "[CLS]", "[SEP]", "[MASK]", "a",     "b",     "c",     "##b", "##c",    "the",
          "cat",   "sat",   ".",      "cafe",  "我",    "$",     "run", "##ning", "##s"};
}

inline WordPieceTokenizer tiny_wordpiece(WordPieceOptions options = {}) {
  return WordPieceTokenizer(tiny_wordpiece_vocab(), std::move(options));
}

/// A byte-level BPE: the 256 byte symbols, a few merges, and RoBERTa's special tokens at the end.
inline ByteLevelBpeTokenizer tiny_bpe(ByteLevelBpeOptions options = {}) {
  const auto map = detail::bytes_to_unicode();
  detail::TokenIdMap vocab;
  auto add = [&](const std::string& t) {
    if (!vocab.contains(t)) vocab.emplace(t, static_cast<std::int64_t>(vocab.size()));
  };
  for (unsigned b = 0; b < 256; ++b) add(detail::unicode::to_utf8(map[b]));
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"l", "l"},          {"he", "ll"},         {"hell", "o"},         {"\xC4\xA0", "w"},
      {"o", "r"}, {"\xC4\xA0w", "or"}, {"\xC4\xA0wor", "l"}, {"\xC4\xA0worl", "d"}, {"\xC4\xA0", "hello"}};
  for (const auto& [a, b] : merges) add(a + b);
  for (const char* s : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}) add(s);
  return ByteLevelBpeTokenizer(std::move(vocab), merges, std::move(options));
}

/// The message of the tokenizer_error that `f()` throws, or "no error".
template <typename F>
std::string tokenizer_error_message(F&& f) {
  try {
    f();
  } catch (const tokenizer_error& e) {
    return e.what();
  }
  return "no error";
}

/// A fresh empty directory under the system temp directory.
inline std::filesystem::path temp_dir(const std::string& name) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("vikcse-" + name + "-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace vikcse::testing
