// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file batch.hpp
/// Turns encoded batches into `vikcse::TokenBatch` tensors. The only tokenizer header that
/// includes torch; everything else in vikcse/tokenizer is torch-free.

#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/types.hpp>

#include <torch/types.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace vikcse {

namespace detail {

inline torch::Tensor to_long_tensor(const std::vector<std::int64_t>& values, std::size_t rows, std::size_t cols) {
  const auto shape = std::vector<std::int64_t>{static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)};
  if (values.empty()) return torch::zeros(shape, torch::kLong);
  return torch::from_blob(const_cast<std::int64_t*>(values.data()), shape, torch::kLong).clone();
}

}  // namespace detail

/// input_ids, attention_mask and token_type_ids of `batch` as [rows, cols] int64 CPU tensors
/// (position_ids left undefined: the encoder computes them).
inline TokenBatch to_token_batch(const EncodedBatch& batch) {
  TokenBatch out;
  out.input_ids = detail::to_long_tensor(batch.input_ids, batch.rows, batch.cols);
  out.attention_mask = detail::to_long_tensor(batch.attention_mask, batch.rows, batch.cols);
  out.token_type_ids = detail::to_long_tensor(batch.token_type_ids, batch.rows, batch.cols);
  return out;
}

/// Tokenizes sentences into a padded TokenBatch (see BatchEncodingOptions).
///
/// Example:
/// @code
///   vikcse::BatchEncodingOptions o;
///   o.max_length = 32;
///   o.prompt_template = "This sentence : \"{sentence}\" means [MASK] .";
///   o.truncation = vikcse::Truncation::sentence_only;  // the [MASK] always survives
///   vikcse::TokenBatch batch = vikcse::encode_token_batch(tok, sentences, o);
/// @endcode
template <TextTokenizer Tok, std::ranges::random_access_range Range>
  requires std::convertible_to<std::ranges::range_reference_t<Range>, std::string_view>
TokenBatch encode_token_batch(const Tok& tok, const Range& sentences, const BatchEncodingOptions& options = {}) {
  return to_token_batch(encode_batch(tok, sentences, options));
}

/// Tokenizes sentence pairs into a padded TokenBatch with token types (0 for A, 1 for B in BERT).
template <TextTokenizer Tok, std::ranges::random_access_range RangeA, std::ranges::random_access_range RangeB>
  requires std::convertible_to<std::ranges::range_reference_t<RangeA>, std::string_view> &&
           std::convertible_to<std::ranges::range_reference_t<RangeB>, std::string_view>
TokenBatch encode_token_pair_batch(const Tok& tok, const RangeA& a, const RangeB& b, const BatchEncodingOptions& options = {}) {
  return to_token_batch(encode_pair_batch(tok, a, b, options));
}

}  // namespace vikcse
