// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file pooler.hpp
/// Pooler selection by name (`cls`, `cls_before_pooler`, `avg`, `avg_top2`, `avg_first_last`,
/// `mask`, `max`, `mean_sqrt_len`, `weighted_mean`, `last_token`) with an options struct, for
/// programs that choose the pooler at run time.

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
enum class PoolerKind {
  cls,                ///< [CLS] through a head (BERT's pooler or a trained MLP)
  cls_before_pooler,  ///< the [CLS] state
  avg,                ///< masked mean of the last layer
  avg_top2,           ///< masked mean of the last two layers
  avg_first_last,     ///< masked mean of the first and the last layer
  mask,               ///< the [MASK] state of a prompt
  max,                ///< masked per-dimension max of the last layer
  mean_sqrt_len,      ///< masked sum / sqrt(token count)
  weighted_mean,      ///< position-weighted masked mean
  last_token          ///< the last real token
};

/// Every pooler kind, in declaration order.
inline constexpr std::array<PoolerKind, 10> all_pooler_kinds = {
    PoolerKind::cls,       PoolerKind::cls_before_pooler, PoolerKind::avg,
    PoolerKind::avg_top2,  PoolerKind::avg_first_last,    PoolerKind::mask,
    PoolerKind::max,       PoolerKind::mean_sqrt_len,     PoolerKind::weighted_mean,
    PoolerKind::last_token};

/// Options of `pool`.
struct PoolerOptions {
  PoolerKind kind = PoolerKind::cls_before_pooler;          ///< which pooler
  FirstLayer first = FirstLayer::embeddings;                ///< `avg_first_last` only
  std::int64_t mask_token_id = -1;                          ///< `mask` only: the tokenizer's mask id
  std::function<torch::Tensor(const torch::Tensor&)> head;  ///< `cls` only: MLP head (empty: BERT pooler)
};

/// The name of a pooler kind.
inline std::string_view to_string(PoolerKind kind) {
  constexpr std::array<std::string_view, 10> names = {
      "cls", "cls_before_pooler", "avg",           "avg_top2",  "avg_first_last", "mask",
      "max", "mean_sqrt_len",     "weighted_mean", "last_token"};
  return names[static_cast<std::size_t>(kind)];
}

/// Parses a pooler name. @throws vikcse::config_error listing the valid names.
inline PoolerKind parse_pooler_kind(std::string_view name) {
  for (auto kind : all_pooler_kinds) {
    if (to_string(kind) == name) return kind;
  }
  throw_error<config_error>(
      "unknown pooler '{}': expected cls, cls_before_pooler, avg, avg_top2, avg_first_last, mask, max, mean_sqrt_len, "
      "weighted_mean or last_token",
      name);
}

/// The `1_Pooling/config.json` key of sentence-transformers' `Pooling` mode that computes `kind`
/// (`pooling_mode_cls_token` for `cls_before_pooler`, ...), or an empty view when the pooler has
/// none (`cls` with a head, `avg_top2`, `avg_first_last`, `mask`).
inline std::string_view sentence_transformers_pooling_key(PoolerKind kind) {
  switch (kind) {
    case PoolerKind::cls_before_pooler: return "pooling_mode_cls_token";
    case PoolerKind::avg: return "pooling_mode_mean_tokens";
    case PoolerKind::max: return "pooling_mode_max_tokens";
    case PoolerKind::mean_sqrt_len: return "pooling_mode_mean_sqrt_len_tokens";
    case PoolerKind::weighted_mean: return "pooling_mode_weightedmean_tokens";
    case PoolerKind::last_token: return "pooling_mode_lasttoken";
    default: return {};
  }
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
    case PoolerKind::max: return max_pooler(output, batch);
    case PoolerKind::mean_sqrt_len: return mean_sqrt_len_pooler(output, batch);
    case PoolerKind::weighted_mean: return weighted_mean_pooler(output, batch);
    case PoolerKind::last_token: return last_token_pooler(output, batch);
  }
  throw_error<config_error>("pool: invalid pooler kind {}", static_cast<int>(options.kind));
}

}  // namespace vikcse
