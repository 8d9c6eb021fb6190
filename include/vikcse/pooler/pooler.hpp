// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file pooler.hpp
/// Pooler selection by name (`cls`, `cls_before_pooler`, `avg`, `avg_top2`, `avg_first_last`,
/// `mask`) with an options struct, for programs that choose the pooler at run time.

#include <vikcse/error.hpp>
#include <vikcse/pooler/pooling.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <array>
#include <functional>
#include <string>
#include <string_view>

namespace vikcse {

/// The inference poolers.
enum class PoolerKind { cls, cls_before_pooler, avg, avg_top2, avg_first_last, mask };

/// Options of `pool`.
struct PoolerOptions {
  PoolerKind kind = PoolerKind::cls_before_pooler;          ///< which pooler
  FirstLayer first = FirstLayer::embeddings;                ///< `avg_first_last` only
  std::int64_t mask_token_id = -1;                          ///< `mask` only: the tokenizer's mask id
  std::function<torch::Tensor(const torch::Tensor&)> head;  ///< `cls` only: MLP head (empty: BERT pooler)
};

/// The name of a pooler kind.
inline std::string_view to_string(PoolerKind kind) {
  constexpr std::array<std::string_view, 6> names = {"cls",      "cls_before_pooler", "avg",
                                                     "avg_top2", "avg_first_last",    "mask"};
  return names[static_cast<std::size_t>(kind)];
}

/// Parses a pooler name. @throws vikcse::config_error listing the valid names.
inline PoolerKind parse_pooler_kind(std::string_view name) {
  for (auto kind : {PoolerKind::cls, PoolerKind::cls_before_pooler, PoolerKind::avg, PoolerKind::avg_top2,
                    PoolerKind::avg_first_last, PoolerKind::mask}) {
    if (to_string(kind) == name) return kind;
  }
  throw_error<config_error>(
      "unknown pooler '{}': expected cls, cls_before_pooler, avg, avg_top2, avg_first_last or mask", name);
}

/// True when the pooler reads intermediate layers (run the encoder with output_hidden_states).
inline bool needs_hidden_states(PoolerKind kind) {
  return kind == PoolerKind::avg_top2 || kind == PoolerKind::avg_first_last;
}

/// Applies the pooler chosen by `options` to an encoder output.
inline torch::Tensor pool(const EncoderOutput& output, const TokenBatch& batch, const PoolerOptions& options) {
  switch (options.kind) {
    case PoolerKind::cls: return cls_pooler(output, options.head);
    case PoolerKind::cls_before_pooler: return cls_before_pooler(output);
    case PoolerKind::avg: return avg_pooler(output, batch);
    case PoolerKind::avg_top2: return avg_top2_pooler(output, batch);
    case PoolerKind::avg_first_last: return avg_first_last_pooler(output, batch, options.first);
    case PoolerKind::mask:
      if (options.mask_token_id < 0) throw_error<config_error>("pooler 'mask': mask_token_id is not set");
      return mask_pooler(output, batch, options.mask_token_id);
  }
  throw_error<config_error>("pool: invalid pooler kind {}", static_cast<int>(options.kind));
}

}  // namespace vikcse
