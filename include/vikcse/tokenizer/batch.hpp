// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file batch.hpp
/// `pad_token_rows`, the one function that turns rows of token ids into a padded `TokenBatch`
/// (training views, evaluation batches and the tokenizer's own batch calls all go through it), and
/// `encode_token_batch` / `encode_token_pair_batch` on top of it. The only tokenizer header that
/// includes torch; everything else in vikcse/tokenizer is torch-free.

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/types.hpp>

#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace vikcse {

/// Pads `rows` into a `[B, T]` batch, `T` = max(longest row, `length`): `input_ids` padded with
/// `pad_id`, `attention_mask` 1 on tokens, `token_type_ids` from `token_types` (row-aligned, each
/// as long as its row) or 0, `position_ids` undefined (the encoder computes them).
/// @throws vikcse::tokenizer_error when a row needs padding and `pad_id` < 0 (no pad token);
///         vikcse::invalid_argument when `token_types` does not match `rows`.
inline TokenBatch pad_token_rows(const std::vector<std::vector<std::int64_t>>& rows, std::int64_t pad_id,
                                 std::int64_t length = 0,
                                 const std::vector<std::vector<std::int64_t>>* token_types = nullptr) {
  std::int64_t t = length;
  for (const auto& r : rows) t = std::max<std::int64_t>(t, static_cast<std::int64_t>(r.size()));
  const auto b = static_cast<std::int64_t>(rows.size());
  if (token_types != nullptr && token_types->size() != rows.size()) {
    throw_error<invalid_argument>("pad_token_rows: {} rows but {} token-type rows", rows.size(), token_types->size());
  }
  const bool needs_pad =
      std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return static_cast<std::int64_t>(r.size()) < t; });
  if (needs_pad && pad_id < 0)
    throw_error<tokenizer_error>("padding needs a pad token, and the tokenizer's vocabulary has none");
  auto ids = torch::full({b, t}, pad_id, torch::kLong);
  auto mask = torch::zeros({b, t}, torch::kLong);
  auto types = torch::zeros({b, t}, torch::kLong);
  auto* id_data = ids.data_ptr<std::int64_t>();
  auto* mask_data = mask.data_ptr<std::int64_t>();
  auto* type_data = types.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    std::copy(r.begin(), r.end(), id_data + i * t);
    std::fill_n(mask_data + i * t, r.size(), std::int64_t{1});
    if (token_types != nullptr) {
      const auto& ty = (*token_types)[static_cast<std::size_t>(i)];
      if (ty.size() != r.size()) {
        throw_error<invalid_argument>("pad_token_rows: row {} has {} ids but {} token types", i, r.size(), ty.size());
      }
      std::copy(ty.begin(), ty.end(), type_data + i * t);
    }
  }
  return {ids, mask, types, torch::Tensor()};
}

/// Tokenizes sentences into a padded TokenBatch (truncation and special tokens as
/// `BatchEncodingOptions` says; `Padding::max_length` pads to `max_length`).
template <TextTokenizer Tok, TextArray Range>
TokenBatch encode_token_batch(const Tok& tok, const Range& sentences, const BatchEncodingOptions& options = {}) {
  const auto length = options.padding == Padding::max_length ? static_cast<std::int64_t>(options.max_length) : 0;
  return pad_token_rows(encode_all(tok, sentences, options), tok.special_tokens().pad, length);
}

/// Tokenizes sentence pairs into a padded TokenBatch with token types (0 for A, 1 for B in BERT).
/// @throws vikcse::invalid_argument when the two columns differ in length.
template <TextTokenizer Tok, TextArray RangeA, TextArray RangeB>
TokenBatch encode_token_pair_batch(const Tok& tok, const RangeA& a, const RangeB& b,
                                   const BatchEncodingOptions& options = {}) {
  const auto [rows, types] = encode_pair_all(tok, a, b, options);
  const auto length = options.padding == Padding::max_length ? static_cast<std::int64_t>(options.max_length) : 0;
  return pad_token_rows(rows, tok.special_tokens().pad, length, &types);
}

}  // namespace vikcse
