// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file pooler.hpp
/// The `Pooler` concept (training-time pooling policy with its optional head) and its
/// refinement `PromptPooler` (templated input with `[MASK]` pooling and template denoising).

#include <vikcse/concepts/encoder.hpp>
#include <vikcse/types.hpp>

#include <torch/types.h>

#include <concepts>
#include <cstdint>
#include <functional>

namespace vikcse {

/// Runs the host's encoder on a batch (given to prompt poolers for their template-denoising pass).
using EncodeFunction = std::function<EncoderOutput(const TokenBatch&)>;

/// A pooler policy.
///
/// Requirements: `TorchModuleHolder<P>`;
/// `p->forward(const EncoderOutput&, const TokenBatch&) -> torch::Tensor` — the pooled `[N, H]`
/// vector before any training head (what evaluation uses);
/// `p->head(const torch::Tensor&) -> torch::Tensor` — the training head (identity when none);
/// `p->needs_hidden_states() -> bool` — whether the encoder must return every layer.
template <typename P>
concept Pooler = TorchModuleHolder<P> &&
    requires(P p, const EncoderOutput& out, const TokenBatch& batch, const torch::Tensor& x) {
  { p->forward(out, batch) } -> std::same_as<torch::Tensor>;
  { p->head(x) } -> std::same_as<torch::Tensor>;
  { p->needs_hidden_states() } -> std::convertible_to<bool>;
};

/// A pooler over prompt-templated input (PromptBERT, VIKCSE): a `Pooler` that can also remove the
/// template's own contribution from a view.
///
/// Additional requirement: `p->denoise(const torch::Tensor& pooled, const TokenBatch& view,
/// std::int64_t view_index, const EncodeFunction& encode) -> torch::Tensor` — returns `pooled`
/// minus the template bias δ of that view (or `pooled` unchanged when denoising is off);
/// `p->mask_token_id() -> std::int64_t`.
template <typename P>
concept PromptPooler = Pooler<P> &&
    requires(P p, const torch::Tensor& x, const TokenBatch& batch, const EncodeFunction& encode) {
  { p->denoise(x, batch, std::int64_t{0}, encode) } -> std::same_as<torch::Tensor>;
  { p->mask_token_id() } -> std::convertible_to<std::int64_t>;
};

}  // namespace vikcse
