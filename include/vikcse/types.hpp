// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file types.hpp
/// Vocabulary structs shared by tokenizers, encoders, poolers and losses.

#include <torch/types.h>

#include <vector>

namespace vikcse {

/// A padded batch of token ids, as a Hugging Face tokenizer returns it.
struct TokenBatch {
  torch::Tensor input_ids;       ///< [B, T] int64
  torch::Tensor attention_mask;  ///< [B, T] int64, 1 on real tokens, 0 on padding
  torch::Tensor token_type_ids;  ///< [B, T] int64; may be undefined (then all zeros are used)
  torch::Tensor position_ids;    ///< [B, T] int64; optional explicit positions (undefined: computed)

  /// The same batch on another device.
  [[nodiscard]] TokenBatch to(const torch::Device& device) const {
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    return {move(input_ids), move(attention_mask), move(token_type_ids), move(position_ids)};
  }
};

/// What an encoder returns.
struct EncoderOutput {
  torch::Tensor last_hidden_state;           ///< [B, T, H]
  torch::Tensor pooler_output;               ///< [B, H] tanh(dense(h[:,0])); undefined without a pooler
  std::vector<torch::Tensor> hidden_states;  ///< embeddings output then each layer's; empty unless requested
  torch::Tensor attention_mask;              ///< [B, T] the mask the states were computed with
};

}  // namespace vikcse
