// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file added_tokens.hpp
/// Added tokens (special tokens such as [MASK] or <mask>) and the split of a text around them,
/// as Hugging Face's AddedVocabulary does it: leftmost-longest matches, `lstrip`/`rstrip`
/// swallowing the whitespace beside a match, `single_word` requiring word boundaries.

#include <vikcse/tokenizer/detail/unicode.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse::detail {

/// One entry of tokenizer.json's "added_tokens".
struct AddedToken {
  std::string content;       ///< UTF-8
  std::u32string content32;  ///< the same, as code points
  std::int64_t id = -1;
  bool special = true;       ///< skipped by decode(skip_special_tokens = true)
  bool single_word = false;  ///< match only as a whole word
  bool lstrip = false;       ///< swallow whitespace on the left
  bool rstrip = false;       ///< swallow whitespace on the right
  bool normalized = false;   ///< matched in the normalized text (true) or the raw text (false)
};

/// A piece of a text: either a run of ordinary text [begin, end) or one added token.
struct Segment {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::int64_t token_id = -1;  ///< >= 0: an added token; -1: ordinary text
};

/// Splits `text` around the matches of `tokens` (those whose `normalized` equals
/// `normalized`). Matching follows Aho-Corasick leftmost-longest: the match that starts first
/// wins, the longest at that start. Empty text runs are not returned.
inline void split_on_added_tokens(std::u32string_view text, const std::vector<AddedToken>& tokens, bool normalized,
                                  std::vector<Segment>& out) {
  out.clear();
  bool any = false;
  for (const auto& t : tokens) any = any || (t.normalized == normalized && !t.content32.empty());
  if (!any) {
    if (!text.empty()) out.push_back({0, text.size(), -1});
    return;
  }
  std::size_t run_begin = 0;  // start of the pending ordinary text
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto is_word_char = [](char32_t c) { return unicode::is_letter(c) || unicode::is_number(c) || c == '_'; };
  while (i < n) {
    const AddedToken* best = nullptr;
    for (const auto& t : tokens) {
      if (t.normalized != normalized || t.content32.empty()) continue;
      const auto len = t.content32.size();
      if (len > n - i || text[i] != t.content32[0]) continue;
      if (text.compare(i, len, t.content32) != 0) continue;
      if (t.single_word) {
        const bool left_ok = i == 0 || !is_word_char(text[i - 1]);
        const bool right_ok = i + len == n || !is_word_char(text[i + len]);
        if (!left_ok || !right_ok) continue;
      }
      if (best == nullptr || len > best->content32.size()) best = &t;
    }
    if (best == nullptr) {
      ++i;
      continue;
    }
    std::size_t start = i;
    std::size_t stop = i + best->content32.size();
    if (best->lstrip) {
      while (start > run_begin && unicode::is_white_space(text[start - 1])) --start;
    }
    if (best->rstrip) {
      while (stop < n && unicode::is_white_space(text[stop])) ++stop;
    }
    if (start > run_begin) out.push_back({run_begin, start, -1});
    out.push_back({start, stop, best->id});
    run_begin = stop;
    i = stop;
  }
  if (run_begin < n) out.push_back({run_begin, n, -1});
}

}  // namespace vikcse::detail
