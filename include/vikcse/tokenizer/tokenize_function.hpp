// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tokenize_function.hpp
/// `TokenizeFunction`, the one tokenizing callback the rest of the library takes (text -> ids,
/// no special tokens), built from any vikcse tokenizer, and `require_special_tokens`, which checks
/// that a tokenizer has what batching needs. Torch-free.

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace vikcse {

/// Tokenises text into ids without special tokens (a prompt layout or a view adds them).
using TokenizeFunction = std::function<std::vector<std::int64_t>(std::string_view)>;

/// `text -> ids` without special tokens, sharing `tokenizer` (so the function may outlive the
/// caller's variable).
/// @tparam Tokenizer has `encode(std::string_view, bool add_special_tokens)` (WordPieceTokenizer,
///         ByteLevelBpeTokenizer, AutoTokenizer)
template <typename Tokenizer>
TokenizeFunction tokenize_function(std::shared_ptr<const Tokenizer> tokenizer) {
  return [tokenizer](std::string_view text) { return tokenizer->encode(text, /*add_special_tokens=*/false); };
}

/// The special tokens of `tokenizer`, checked for what framing and padding need.
/// @tparam Tokenizer has `special_tokens() -> const SpecialTokens&`
/// @throws vikcse::config_error naming the missing token when the vocabulary lacks a cls, sep or
///         pad token.
template <typename Tokenizer>
SpecialTokens require_special_tokens(const Tokenizer& tokenizer) {
  const auto& s = tokenizer.special_tokens();
  if (s.cls < 0 || s.sep < 0 || s.pad < 0) {
    throw_error<config_error>("tokenizer: the vocabulary lacks a {} token (cls id {}, sep id {}, pad id {})",
                              s.cls < 0 ? "cls" : (s.sep < 0 ? "sep" : "pad"), s.cls, s.sep, s.pad);
  }
  return s;
}

}  // namespace vikcse
