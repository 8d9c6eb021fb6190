// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file batcher.hpp
/// SentEval batchers tokenise with `padding=True` and no truncation: every sentence framed with the
/// tokenizer's special tokens, padded with its pad id to the longest sentence of the batch.
/// `make_tokenize_fn` builds that from any tokenizer with `encode(text)` and `special_tokens()`.

#include <vikcse/error.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vikcse {

/// Pads id sequences into a `TokenBatch`: `input_ids` padded with `pad_id`, `attention_mask` 1 on
/// real tokens, `token_type_ids` all 0.
/// @throws vikcse::invalid_argument when `sequences` is empty.
inline TokenBatch pad_sequences(const std::vector<std::vector<std::int64_t>>& sequences, std::int64_t pad_id) {
  if (sequences.empty()) throw_error<invalid_argument>("pad_sequences: no sequences to batch");
  std::size_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  const auto rows = static_cast<std::int64_t>(sequences.size());
  const auto cols = static_cast<std::int64_t>(longest);
  auto ids = torch::full({rows, cols}, pad_id, torch::kLong);
  auto mask = torch::zeros({rows, cols}, torch::kLong);
  auto* id_data = ids.data_ptr<std::int64_t>();
  auto* mask_data = mask.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& s = sequences[static_cast<std::size_t>(r)];
    std::copy(s.begin(), s.end(), id_data + r * cols);
    std::fill_n(mask_data + r * cols, s.size(), std::int64_t{1});
  }
  return {ids, mask, torch::zeros({rows, cols}, torch::kLong), torch::Tensor()};
}

/// A function that tokenises a batch of sentences SentEval-style with `tokenizer` (shared, so the
/// function may outlive the caller's variable).
/// @tparam TokenizerType has `encode(std::string_view) -> std::vector<std::int64_t>` (with special
///         tokens) and `special_tokens()` with a `pad` id
template <typename TokenizerType>
std::function<TokenBatch(const std::vector<std::string>&)> make_tokenize_fn(std::shared_ptr<const TokenizerType> tokenizer) {
  if (tokenizer->special_tokens().pad < 0) throw_error<tokenizer_error>("tokenizer has no padding token; cannot batch");
  return [tokenizer](const std::vector<std::string>& sentences) {
    std::vector<std::vector<std::int64_t>> ids;
    ids.reserve(sentences.size());
    for (const auto& s : sentences) ids.push_back(tokenizer->encode(s));
    return pad_sequences(ids, tokenizer->special_tokens().pad);
  };
}

}  // namespace vikcse
