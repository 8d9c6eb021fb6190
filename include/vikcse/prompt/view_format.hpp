// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file view_format.hpp
/// How the token ids of one view are built (`ViewFormat`), and `view_ids`, which builds them: plain
/// `[CLS] sentence [SEP]`, or a prompt layout around the sentence with sentence-only or
/// whole-sequence truncation. Training views (the collator) and evaluation batches (the embedder)
/// both use it, so a sentence gets the same ids in both. Torch-free.

#include <vikcse/prompt/layout.hpp>
#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// How the token ids of one view are built.
struct ViewFormat {
  /// Template layout; nullopt: plain `[CLS] sentence [SEP]`.
  std::optional<PromptLayout> layout;
  /// Plain views: total length cap including [CLS]/[SEP] (SimCSE/MCSE 32). Prompt views: cap on the
  /// sentence tokens only (PromptBERT 32) under `Truncation::sentence_only`, on the whole sequence
  /// under `Truncation::whole_sequence`. 0: no cap.
  std::int64_t max_length = 32;
  /// Prompt views: what `max_length` cuts. `sentence_only` (default): the sentence's tokens, so the
  /// template and its mask always survive (PromptBERT; the library's rule for VIKCSE too).
  /// `whole_sequence`: the whole templated sequence, special tokens included, as a tokenizer with
  /// `truncation=True, max_length=...` does (VIKCSE's reference code): a long sentence loses the
  /// template's tail and its mask, and the batch records which rows kept it
  /// (`TrainingBatch::mask_rows`). `none`: never cut.
  Truncation truncation = Truncation::sentence_only;
  /// Pad every row to the longest possible row (`max_length`, plus the template under sentence
  /// truncation) instead of the longest row of the batch (VIKCSE's reference pads to 77). Attention
  /// masks make both give the same vectors up to float rounding. Default: false.
  bool pad_to_max_length = false;

  /// The padded length of a batch in this format when `pad_to_max_length`, else 0 (the longest row).
  [[nodiscard]] std::int64_t padded_length() const {
    if (!pad_to_max_length || max_length <= 0) return 0;
    return layout && truncation == Truncation::sentence_only ? max_length + layout->size() : max_length;
  }
};

/// The ids of `sentence` in `format`: `tokenize` gives the sentence's ids (with a leading space
/// when the layout asks for one), `specials` the cls/sep framing of plain views and the sep that
/// closes a whole-sequence cut.
inline std::vector<std::int64_t> view_ids(const TokenizeFunction& tokenize, const SpecialTokens& specials,
                                          const std::string& sentence, const ViewFormat& format) {
  auto ids = format.layout && format.layout->sentence_space ? tokenize(" " + sentence) : tokenize(sentence);
  const auto& sp = specials;
  std::vector<std::int64_t> out;
  if (format.layout) {
    const bool whole = format.truncation == Truncation::whole_sequence;
    const bool cut = format.truncation == Truncation::sentence_only;
    if (cut && format.max_length > 0 && static_cast<std::int64_t>(ids.size()) > format.max_length) {
      ids.resize(static_cast<std::size_t>(format.max_length));
    }
    out = format.layout->prefix;
    out.insert(out.end(), ids.begin(), ids.end());
    out.insert(out.end(), format.layout->suffix.begin(), format.layout->suffix.end());
    if (whole && format.max_length >= 2 && static_cast<std::int64_t>(out.size()) > format.max_length) {
      out.resize(static_cast<std::size_t>(format.max_length - 1));  // keep [CLS] + the first max_length-2 ...
      out.push_back(sp.sep);                                        // ... then close with [SEP]
    }
  } else {
    if (format.max_length > 0 && static_cast<std::int64_t>(ids.size()) > format.max_length - 2) {
      ids.resize(static_cast<std::size_t>(std::max<std::int64_t>(format.max_length - 2, 0)));
    }
    out.push_back(sp.cls);
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(sp.sep);
  }
  return out;
}

}  // namespace vikcse
