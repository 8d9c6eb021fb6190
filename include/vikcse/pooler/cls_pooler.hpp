// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file cls_pooler.hpp
/// `ClsPooler`: the training pooler of SimCSE / MCSE — one of the inference poolers of
/// `vikcse/pooler/pooler.hpp` (cls, cls_before_pooler, avg, avg_top2, avg_first_last) followed by
/// the freshly initialised MLP head `tanh(W h + b)` for the `cls` kind only (SimCSE's rule: the
/// other kinds have no head), used in training only (`mlp_only_train`) unless told otherwise.

#include <vikcse/error.hpp>
#include <vikcse/heads/tanh_projection.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <optional>

namespace vikcse {

/// Options of `ClsPooler`.
struct ClsPoolerOptions {
  /// @param hidden_size encoder H (MLP head size).
  /* implicit */ ClsPoolerOptions(std::int64_t hidden_size) : hidden_size_(hidden_size) {}
  /// Encoder hidden size H.
  TORCH_ARG(std::int64_t, hidden_size);
  /// Pooling before the head. `cls` means "[CLS] + MLP head" (the head is this module's).
  /// Default: cls. Example: `.kind(PoolerKind::avg)`.
  TORCH_ARG(PoolerKind, kind) = PoolerKind::cls;
  /// `avg_first_last` only: which "first" layer. Default: embeddings (SimCSE paper numbers).
  TORCH_ARG(FirstLayer, first) = FirstLayer::embeddings;
  /// Use the MLP head. Default (nullopt): only for `cls`, as SimCSE does (`cls_before_pooler`, `avg`,
  /// `avg_top2` and `avg_first_last` have none). Set it to force the head on or off for any kind.
  TORCH_ARG(std::optional<bool>, mlp) = std::nullopt;

public:
  /// Whether this configuration has the MLP head.
  [[nodiscard]] bool has_mlp() const { return mlp().value_or(kind() == PoolerKind::cls); }

  /// Apply the MLP head only in train mode (SimCSE unsupervised). Default: true.
  TORCH_ARG(bool, mlp_only_train) = true;
};

/// SimCSE's pooler policy (satisfies `vikcse::Pooler`). Submodule `mlp` when the head is on.
class ClsPoolerImpl : public torch::nn::Cloneable<ClsPoolerImpl> {
public:
  explicit ClsPoolerImpl(const ClsPoolerOptions& options) : options(options) { reset(); }

  void reset() override {
    if (options.kind() == PoolerKind::mask) {
      throw_error<config_error>("ClsPooler: pooler kind 'mask' needs a prompt pooler (MaskPromptPooler)");
    }
    if (options.has_mlp()) {
      mlp = register_module("mlp", TanhProjection(TanhProjectionOptions(options.hidden_size(), options.hidden_size())));
    }
  }

  /// The pooled `[N, H]` vector before the head.
  torch::Tensor forward(const EncoderOutput& output, const TokenBatch& batch) {
    PoolerOptions p;
    p.kind = options.kind() == PoolerKind::cls ? PoolerKind::cls_before_pooler : options.kind();
    p.first = options.first();
    return pool(output, batch, p);
  }
  /// The MLP head (identity without one, and in eval mode under `mlp_only_train`).
  torch::Tensor head(const torch::Tensor& pooled) {
    if (!mlp || (options.mlp_only_train() && !is_training())) return pooled;
    return mlp(pooled);
  }
  /// Whether the encoder must return every layer.
  [[nodiscard]] bool needs_hidden_states() const { return vikcse::needs_hidden_states(options.kind()); }

  ClsPoolerOptions options;
  TanhProjection mlp{nullptr};
};
/// Holder of `ClsPoolerImpl`.
TORCH_MODULE(ClsPooler);

}  // namespace vikcse
