// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file collator.hpp
/// Turning sentences into the `TrainingBatch` of one step: SimCSE's duplicated rows with whole-
/// sequence truncation, prompt-templated views with sentence-only truncation (the mask always
/// survives), supervised triples. All views of a step are padded to one length so that the host
/// can encode them in one pass.

#include <vikcse/error.hpp>
#include <vikcse/prompt/view_format.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// Options of a `Collator`.
struct CollatorOptions {
  SpecialTokens specials;  ///< special tokens (cls, sep, pad; the mask id comes with a prompt layout)
  ViewFormat first;        ///< view 0 (and the hard negative)
  ViewFormat second;       ///< view 1
};

/// Builds training batches from sentences with a tokenizer callback.
///
/// Example: `Collator c(tokenize, {.specials = tokenizer.special_tokens()});  TrainingBatch b = c.unsupervised(s);`
class Collator {
public:
  /// @param tokenize ids without special tokens; @param options view formats and special ids.
  Collator(TokenizeFunction tokenize, CollatorOptions options)
      : tokenize_(std::move(tokenize)), options_(std::move(options)) {
    if (!tokenize_) throw_error<invalid_argument>("Collator: the tokenize callback is empty");
  }

  /// The ids of one row of a view (see `view_ids`).
  [[nodiscard]] std::vector<std::int64_t> row(const std::string& sentence, const ViewFormat& format) const {
    return view_ids(tokenize_, options_.specials, sentence, format);
  }

  /// The rows of one view of `sentences` in `format`. @throws vikcse::data_error for an empty sentence.
  [[nodiscard]] std::vector<std::vector<std::int64_t>> rows(const std::vector<std::string>& sentences,
                                                            const ViewFormat& format) const {
    std::vector<std::vector<std::int64_t>> out;
    out.reserve(sentences.size());
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      if (sentences[i].find_first_not_of(" \t\r\n") == std::string::npos) {
        throw_error<data_error>("collator: sentence {} of the batch is empty", i);
      }
      out.push_back(row(sentences[i], format));
    }
    return out;
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
    const auto a = rows(first, options_.first);
    const auto b = rows(second, options_.second);
    const auto c = hard.empty() ? std::vector<std::vector<std::int64_t>>{} : rows(hard, options_.first);
    // All views of a step share one padded length, so the host can encode them in one pass.
    std::int64_t t = std::max(options_.first.padded_length(), options_.second.padded_length());
    for (const auto* view : {&a, &b, &c}) {
      for (const auto& r : *view) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(r.size()));
    }
    const auto pad = options_.specials.pad;
    TrainingBatch out;
    out.first = pad_token_rows(a, pad, t);
    out.second = pad_token_rows(b, pad, t);
    if (!hard.empty()) out.hard_negative = pad_token_rows(c, pad, t);
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
      throw_error<data_error>(
          "collator: whole-sequence truncation to {} tokens cut the mask token from every row "
          "of the batch",
          options_.first.max_length);
    }
    return keep.nonzero().squeeze(1);
  }

  TokenizeFunction tokenize_;
  CollatorOptions options_;
};

}  // namespace vikcse
