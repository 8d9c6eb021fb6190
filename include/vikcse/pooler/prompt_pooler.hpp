// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file prompt_pooler.hpp
/// `MaskPromptPooler`: the training pooler of PromptBERT and VIKCSE — the last layer's state at
/// the `[MASK]` position (`vikcse::mask_pooler`), optional template denoising (PromptBERT's δ with
/// position shift, README.md#promptbert), and the MLP head in training only.

#include <vikcse/concepts/pooler.hpp>
#include <vikcse/error.hpp>
#include <vikcse/heads/tanh_projection.hpp>
#include <vikcse/pooler/pooling.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace vikcse {

/// Options of `MaskPromptPooler`.
struct MaskPromptPoolerOptions {
  /// @param hidden_size encoder H; @param mask_token_id the tokenizer's mask id.
  MaskPromptPoolerOptions(std::int64_t hidden_size, std::int64_t mask_token_id)
      : hidden_size_(hidden_size), mask_token_id_(mask_token_id) {}
  /// Encoder hidden size H.
  TORCH_ARG(std::int64_t, hidden_size);
  /// The mask token id (from the tokenizer, never hard-coded; README.md#reference-bugs).
  TORCH_ARG(std::int64_t, mask_token_id);
  /// Use the MLP head. Default: true.
  TORCH_ARG(bool, mlp) = true;
  /// Apply the head only in train mode. Default: true.
  TORCH_ARG(bool, mlp_only_train) = true;
  /// Template layouts per view for denoising (one entry: both views; two: view 0 and view 1).
  /// Empty: no denoising. Example: `{make_prompt_layout(t1, tok, ids), make_prompt_layout(t2, tok, ids)}`.
  TORCH_ARG(std::vector<PromptLayout>, denoise_layouts) = {};
  /// Back-propagate through δ (PromptBERT default); false: δ computed without gradient ("frozen").
  /// Default: true.
  TORCH_ARG(bool, denoise_grad) = true;
  /// Shift the suffix positions by the sentence length (false: `delta_no_position`). Default: true.
  TORCH_ARG(bool, denoise_positions) = true;
  /// Subtract δ in eval mode too (PromptBERT dev selection); false reports the raw [MASK] vector.
  /// Default: false.
  TORCH_ARG(bool, denoise_at_eval) = false;
  /// Offset added to the explicit position ids of the δ pass, so that the template-only rows sit
  /// at the positions the encoder gives real rows: 0 for BERT, `pad_token_id + 1` = 2 for RoBERTa.
  /// nullopt (default): the encoder's own `first_position_id()`, filled in by the host
  /// (`SentenceEmbedder`) when it is built; 0 if nothing fills it in.
  TORCH_ARG(std::optional<std::int64_t>, position_offset) = std::nullopt;
  /// Reproduce PromptBERT's RoBERTa bug: the δ pass gets position ids from 0 while real RoBERTa rows
  /// start at 2, so template and sentence passes are misaligned by 2. Overrides `position_offset`
  /// (the offset becomes 0). Default: false (the corrected behaviour).
  TORCH_ARG(bool, reference_roberta_delta_positions) = false;
};

/// The prompt pooler (satisfies `vikcse::PromptPooler`). Submodule `mlp` when the head is on.
class MaskPromptPoolerImpl : public torch::nn::Cloneable<MaskPromptPoolerImpl> {
public:
  explicit MaskPromptPoolerImpl(const MaskPromptPoolerOptions& options) : options(options) { reset(); }

  void reset() override {
    if (options.denoise_layouts().size() > 2) {
      throw_error<config_error>("MaskPromptPooler: at most 2 denoise layouts (one per view), got {}",
                                options.denoise_layouts().size());
    }
    for (const auto& layout : options.denoise_layouts()) {
      if (layout.mask_offset() >= static_cast<std::int64_t>(layout.suffix.size()) ||
          layout.mask_id != options.mask_token_id()) {
        throw_error<config_error>("MaskPromptPooler: a denoise layout has no mask token {} in its suffix",
                                  options.mask_token_id());
      }
    }
    if (options.mlp()) {
      mlp = register_module("mlp", TanhProjection(TanhProjectionOptions(options.hidden_size(), options.hidden_size())));
    }
  }

  /// `h^last` at the mask position, `[N, H]`.
  torch::Tensor forward(const EncoderOutput& output, const TokenBatch& batch) {
    return mask_pooler(output, batch, options.mask_token_id());
  }
  /// The MLP head (identity without one, and in eval mode under `mlp_only_train`).
  torch::Tensor head(const torch::Tensor& pooled) {
    if (!mlp || (options.mlp_only_train() && !is_training())) return pooled;
    return mlp(pooled);
  }
  /// Only the last layer is read.
  [[nodiscard]] bool needs_hidden_states() const { return false; }
  /// The mask token id.
  [[nodiscard]] std::int64_t mask_token_id() const { return options.mask_token_id(); }
  /// The offset the δ pass adds to its position ids (see `position_offset`,
  /// `reference_roberta_delta_positions`).
  [[nodiscard]] std::int64_t delta_position_offset() const {
    return options.reference_roberta_delta_positions() ? 0 : options.position_offset().value_or(0);
  }

  /// `pooled − δ_ℓ` for each row (ℓ = its sentence length), or `pooled` when denoising is off (no
  /// layouts, or eval mode without `denoise_at_eval`).
  /// @throws vikcse::invalid_argument when a row is shorter than the template (not collated with it).
  torch::Tensor denoise(const torch::Tensor& pooled, const TokenBatch& view, std::int64_t view_index,
                        const EncodeFunction& encode) {
    const auto& layouts = options.denoise_layouts();
    if (layouts.empty() || (!is_training() && !options.denoise_at_eval())) return pooled;
    const auto& layout = layouts[std::min<std::size_t>(static_cast<std::size_t>(view_index), layouts.size() - 1)];
    const auto mask = view.attention_mask.defined() ? view.attention_mask : torch::ones_like(view.input_ids);
    const auto lengths = mask.sum(1).to(torch::kCPU) - layout.size();
    const auto min_len = lengths.min().item<std::int64_t>();
    if (min_len < 0) {
      throw_error<invalid_argument>("MaskPromptPooler: view {} has a row of {} tokens, shorter than its template ({})",
                                    view_index, min_len + layout.size(), layout.size());
    }
    const auto k = lengths.max().item<std::int64_t>() + 1;  // δ table sized from the batch (README.md#reference-bugs)
    const auto delta = template_bias(layout, k, encode, pooled.device());
    return pooled - delta.index_select(0, lengths.to(pooled.device()));
  }

  /// δ `[k, H]`: the [MASK] state of the template alone with its suffix shifted as if after a
  /// sentence of 0..k−1 tokens (positions unshifted when `denoise_positions` is off).
  torch::Tensor template_bias(const PromptLayout& layout, std::int64_t k, const EncodeFunction& encode,
                              const torch::Device& device) {
    const auto a = static_cast<std::int64_t>(layout.prefix.size());
    const auto t = layout.size();
    std::vector<std::int64_t> ids(layout.prefix);
    ids.insert(ids.end(), layout.suffix.begin(), layout.suffix.end());
    const auto opts = torch::TensorOptions().dtype(torch::kLong);
    TokenBatch batch;
    batch.input_ids = torch::tensor(ids, opts).unsqueeze(0).expand({k, t}).contiguous();
    batch.attention_mask = torch::ones({k, t}, opts);
    batch.token_type_ids = torch::zeros({k, t}, opts);
    auto positions = torch::arange(t, opts).unsqueeze(0).repeat({k, 1});
    if (options.denoise_positions()) {
      positions.narrow(1, a, t - a).add_(torch::arange(k, opts).unsqueeze(1));
    }
    batch.position_ids = positions + delta_position_offset();
    batch = batch.to(device);
    std::optional<torch::NoGradGuard> no_grad;
    if (!options.denoise_grad()) no_grad.emplace();
    const auto out = encode(batch);
    return out.last_hidden_state.select(1, a + layout.mask_offset());
  }

  MaskPromptPoolerOptions options;
  TanhProjection mlp{nullptr};
};
/// Holder of `MaskPromptPoolerImpl`.
TORCH_MODULE(MaskPromptPooler);

}  // namespace vikcse
