// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file layout.hpp
/// A prompt template as token ids: the prefix (from [CLS]) and the suffix (through [SEP]) around
/// the sentence tokens. Built once from a `PromptTemplate` and a tokenizer; used to collate
/// training batches with sentence-only truncation (the mask always survives) and by template
/// denoising.

#include <vikcse/error.hpp>
#include <vikcse/prompt/template.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// Token ids of a template: `prefix` starts with [CLS], `suffix` ends with [SEP] and holds the
/// only mask token.
struct PromptLayout {
  std::vector<std::int64_t> prefix;  ///< `[CLS] this sentence of "`
  std::vector<std::int64_t> suffix;  ///< `" means [MASK] . [SEP]`
  std::int64_t mask_id = -1;         ///< the mask id
  /// The template has whitespace before the sentence (`" [X] "`): the sentence is tokenised with a
  /// leading space, as in the whole templated string (byte-level BPE: the first token gets its
  /// `Ġ`; WordPiece ignores it). The prefix ids then hold no token for that space.
  bool sentence_space = false;

  /// Template length T (prefix + suffix, special tokens included).
  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(prefix.size() + suffix.size()); }
  /// Position of the mask inside the suffix.
  [[nodiscard]] std::int64_t mask_offset() const {
    return std::find(suffix.begin(), suffix.end(), mask_id) - suffix.begin();
  }
};

/// Tokenises the template's prefix and suffix (the suffix split at the mask token, which becomes
/// `specials.mask`). Whitespace that ends the prefix goes to the sentence (`sentence_space`), and
/// whitespace right before the mask token is absorbed by it (RoBERTa's `<mask>` lstrip; WordPiece
/// drops whitespace anyway), so that byte-level BPE gives the ids of the whole templated string
/// (e.g. `The sentence : ' [X] ' means <mask> !` -> `<s> The Ġsentence Ġ: Ġ'` + `Ġ' Ġmeans <mask> Ġ! </s>`).
/// @throws vikcse::config_error when `specials` has no cls, sep or mask id, or when the prefix or
///         the rest of the suffix tokenises to a mask id.
inline PromptLayout make_prompt_layout(const PromptTemplate& tpl, const TokenizeFunction& tokenize,
                                       const SpecialTokens& specials) {
  if (specials.cls < 0 || specials.sep < 0 || specials.mask < 0) {
    throw_error<config_error>("prompt template '{}': the tokenizer lacks a cls, sep or mask token (ids {}, {}, {})",
                              tpl.text(), specials.cls, specials.sep, specials.mask);
  }
  PromptLayout layout;
  layout.mask_id = specials.mask;
  constexpr std::string_view space = " \t\n\r\f\v";
  auto rstrip = [&](std::string text) {
    text.erase(text.find_last_not_of(space) + 1);
    return text;
  };
  layout.prefix.push_back(specials.cls);
  auto prefix = tpl.prefix();
  layout.sentence_space = !prefix.empty() && space.find(prefix.back()) != std::string_view::npos;
  prefix = rstrip(std::move(prefix));
  if (!prefix.empty()) {
    for (auto id : tokenize(prefix)) layout.prefix.push_back(id);
  }
  const auto suffix = tpl.suffix();
  const auto at = suffix.find(tpl.mask_token());
  if (at == std::string::npos) {
    throw_error<config_error>("prompt template '{}': the mask token '{}' must come after the sentence placeholder",
                              tpl.text(), tpl.mask_token());
  }
  const auto before_mask = rstrip(suffix.substr(0, at));
  if (!before_mask.empty()) {
    for (auto id : tokenize(before_mask)) layout.suffix.push_back(id);
  }
  layout.suffix.push_back(specials.mask);
  for (auto id : tokenize(suffix.substr(at + tpl.mask_token().size()))) layout.suffix.push_back(id);
  layout.suffix.push_back(specials.sep);
  const auto masks = std::count(layout.prefix.begin(), layout.prefix.end(), specials.mask) +
                     std::count(layout.suffix.begin(), layout.suffix.end(), specials.mask);
  if (masks != 1) {
    throw_error<config_error>("prompt template '{}': tokenises to {} mask tokens (id {}), expected exactly 1",
                              tpl.text(), masks, specials.mask);
  }
  return layout;
}

}  // namespace vikcse
