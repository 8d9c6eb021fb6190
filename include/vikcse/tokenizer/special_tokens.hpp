// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file special_tokens.hpp
/// The special tokens of a tokenizer, resolved from its vocabulary by their strings.

#include <cstdint>
#include <string>

namespace vikcse {

/// Special-token ids and strings. Every id is looked up in the vocabulary by its string when the
/// tokenizer is loaded; no id is hard-coded. An id of -1 means the vocabulary has no such token.
///
/// BERT: cls = "[CLS]", sep = "[SEP]", pad = "[PAD]", mask = "[MASK]", unk = "[UNK]".
/// RoBERTa: cls = bos = "<s>", sep = eos = "</s>", pad = "<pad>", mask = "<mask>", unk = "<unk>".
struct SpecialTokens {
  std::int64_t cls = -1;   ///< first token of a sequence ([CLS] / <s>)
  std::int64_t sep = -1;   ///< separator and last token ([SEP] / </s>)
  std::int64_t pad = -1;   ///< padding
  std::int64_t mask = -1;  ///< masked-language-model mask ([MASK] / <mask>)
  std::int64_t unk = -1;   ///< unknown word
  std::string cls_token;
  std::string sep_token;
  std::string pad_token;
  std::string mask_token;
  std::string unk_token;

  /// RoBERTa's name for cls.
  [[nodiscard]] std::int64_t bos() const noexcept { return cls; }
  /// RoBERTa's name for sep.
  [[nodiscard]] std::int64_t eos() const noexcept { return sep; }

  friend bool operator==(const SpecialTokens&, const SpecialTokens&) = default;
};

}  // namespace vikcse
