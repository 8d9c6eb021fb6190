// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file model_shape.hpp
/// The encoder sizes the suite's stages vary, and the `BertConfig` they give.

#include <vikcse/encoder/bert_config.hpp>

#include <cstdint>

namespace vikcse::gpu {

/// Encoder sizes (defaults: BERT-base).
struct ModelShape {
  std::int64_t layers = 12, hidden = 768, heads = 12, intermediate = 3072, vocab = 30522;
};

/// A BERT of `shape`; every other field keeps `BertConfig`'s default (dropout 0.1, 512 positions).
inline BertConfig bert_config(const ModelShape& shape) {
  BertConfig c;
  c.vocab_size = shape.vocab;
  c.hidden_size = shape.hidden;
  c.num_hidden_layers = shape.layers;
  c.num_attention_heads = shape.heads;
  c.intermediate_size = shape.intermediate;
  return c;
}

}  // namespace vikcse::gpu
