// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file collator.hpp
/// Turning sentences into the `TrainingBatch` of one step: SimCSE's duplicated rows with whole-
/// sequence truncation, prompt-templated views with sentence-only truncation (the mask always
/// survives), supervised triples. All views of a step are padded to one length so that the host
/// can encode them in one pass.

#include <vikcse/error.hpp>
#include <vikcse/model/prompt_layout.hpp>
#include <vikcse/model/views.hpp>
#include <vikcse/tokenizer/encoding.hpp>

#include <torch/torch.h>

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

/// Options of a `Collator`.
struct CollatorOptions {
  SpecialIds specials;  ///< special-token ids
  ViewFormat first;     ///< view 0 (and the hard negative)
  ViewFormat second;    ///< view 1
};

/// Builds training batches from sentences with a tokenizer callback.
///
/// Example: `Collator c(tokenize, {.specials = ids});  TrainingBatch b = c.unsupervised(sentences);`
class Collator {
public:
  /// @param tokenize ids without special tokens; @param options view formats and special ids.
  Collator(TokenizeFunction tokenize, CollatorOptions options)
      : tokenize_(std::move(tokenize)), options_(std::move(options)) {
    if (!tokenize_) throw_error<invalid_argument>("Collator: the tokenize callback is empty");
  }

  /// The ids of one row of a view. @throws vikcse::data_error for an empty sentence.
  [[nodiscard]] std::vector<std::int64_t> row(const std::string& sentence, const ViewFormat& format) const {
    auto ids = format.layout && format.layout->sentence_space ? tokenize_(" " + sentence) : tokenize_(sentence);
    const auto& sp = options_.specials;
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
        out.push_back(sp.sep);                                         // ... then close with [SEP]
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

  /// Pads rows to one length `[B, T]` (attention mask 1 on tokens, token types 0).
  [[nodiscard]] TokenBatch pad(const std::vector<std::vector<std::int64_t>>& rows, std::int64_t length = 0) const {
    std::int64_t t = length;
    for (const auto& r : rows) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(r.size()));
    const auto b = static_cast<std::int64_t>(rows.size());
    auto ids = torch::full({b, t}, options_.specials.pad, torch::kLong);
    auto mask = torch::zeros({b, t}, torch::kLong);
    auto ids_a = ids.accessor<std::int64_t, 2>();
    auto mask_a = mask.accessor<std::int64_t, 2>();
    for (std::int64_t i = 0; i < b; ++i) {
      for (std::size_t j = 0; j < rows[i].size(); ++j) {
        ids_a[i][static_cast<std::int64_t>(j)] = rows[i][j];
        mask_a[i][static_cast<std::int64_t>(j)] = 1;
      }
    }
    return {ids, mask, torch::zeros({b, t}, torch::kLong), {}};
  }

  /// One view of `sentences` in `format`.
  [[nodiscard]] TokenBatch view(const std::vector<std::string>& sentences, const ViewFormat& format,
                                std::int64_t length = 0) const {
    std::vector<std::vector<std::int64_t>> rows;
    rows.reserve(sentences.size());
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      if (sentences[i].find_first_not_of(" \t\r\n") == std::string::npos) {
        throw_error<data_error>("collator: sentence {} of the batch is empty", i);
      }
      rows.push_back(row(sentences[i], format));
    }
    return pad(rows, std::max(length, format.padded_length()));
  }

  /// Unsupervised step: the same sentences in both views (each view in its format), padded jointly.
  [[nodiscard]] TrainingBatch unsupervised(const std::vector<std::string>& sentences) const {
    return pair(sentences, sentences);
  }

  /// Supervised step: `first[i]` / `second[i]` positive pairs, optional `hard[i]` hard negatives.
  [[nodiscard]] TrainingBatch pair(const std::vector<std::string>& first, const std::vector<std::string>& second,
                                   const std::vector<std::string>& hard = {}) const {
    if (first.size() != second.size() || (!hard.empty() && hard.size() != first.size())) {
      throw_error<invalid_argument>("collator: column sizes differ ({}, {}, {})", first.size(), second.size(),
                                    hard.size());
    }
    auto a = view(first, options_.first);
    auto b = view(second, options_.second);
    std::optional<TokenBatch> c;
    if (!hard.empty()) c = view(hard, options_.first);
    auto t = std::max(a.input_ids.size(1), b.input_ids.size(1));
    if (c) t = std::max(t, c->input_ids.size(1));
    TrainingBatch out;
    out.first = widen(a, t);
    out.second = widen(b, t);
    if (c) out.hard_negative = widen(*c, t);
    out.mask_rows = rows_with_mask(out);
    return out;
  }

  /// The options.
  [[nodiscard]] const CollatorOptions& options() const { return options_; }

private:
  /// Under whole-sequence truncation of a prompt view: the rows whose mask survived in every view,
  /// when some did not; otherwise undefined (all rows).
  [[nodiscard]] torch::Tensor rows_with_mask(const TrainingBatch& batch) const {
    const auto cuts = [](const ViewFormat& f) { return f.layout && f.truncation == Truncation::whole_sequence; };
    if (!cuts(options_.first) && !cuts(options_.second)) return {};
    auto keep = torch::ones({batch.first.input_ids.size(0)}, torch::kBool);
    auto require = [&](const TokenBatch& view, const ViewFormat& f) {
      if (f.layout) keep &= view.input_ids.eq(f.layout->mask_id).any(1);
    };
    require(batch.first, options_.first);
    require(batch.second, options_.second);
    if (batch.hard_negative) require(*batch.hard_negative, options_.first);
    if (keep.all().item<bool>()) return {};
    if (!keep.any().item<bool>()) {
      throw_error<data_error>("collator: whole-sequence truncation to {} tokens cut the mask token from every row "
                              "of the batch", options_.first.max_length);
    }
    return keep.nonzero().squeeze(1);
  }

  [[nodiscard]] TokenBatch widen(const TokenBatch& b, std::int64_t t) const {
    const auto extra = t - b.input_ids.size(1);
    if (extra == 0) return b;
    namespace F = torch::nn::functional;
    return {F::pad(b.input_ids, F::PadFuncOptions({0, extra}).value(static_cast<double>(options_.specials.pad))),
            F::pad(b.attention_mask, F::PadFuncOptions({0, extra})), F::pad(b.token_type_ids, F::PadFuncOptions({0, extra})),
            {}};
  }

  TokenizeFunction tokenize_;
  CollatorOptions options_;
};

}  // namespace vikcse
