// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file types.hpp
/// Vocabulary structs shared by tokenizers, encoders, poolers and losses: the token batch, what an
/// encoder returns, what one training step feeds the host (`TrainingBatch`), what the pooler hands to
/// the loss (`ContrastiveViews`) and what the loss returns (`LossOutput`).

#include <torch/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// A padded batch of token ids, as a Hugging Face tokenizer returns it.
struct TokenBatch {
  torch::Tensor input_ids;       ///< [B, T] int64
  torch::Tensor attention_mask;  ///< [B, T] int64, 1 on real tokens, 0 on padding
  torch::Tensor token_type_ids;  ///< [B, T] int64; may be undefined (then all zeros are used)
  torch::Tensor position_ids;    ///< [B, T] int64; optional explicit positions (undefined: computed)

  /// The batch with `f` applied to each of its defined tensors (rows picked, device changed).
  template <typename F>
  [[nodiscard]] TokenBatch map(F&& f) const {
    auto apply = [&](const torch::Tensor& t) { return t.defined() ? f(t) : t; };
    return {apply(input_ids), apply(attention_mask), apply(token_type_ids), apply(position_ids)};
  }

  /// The same batch on another device.
  [[nodiscard]] TokenBatch to(const torch::Device& device) const {
    return map([&](const torch::Tensor& t) { return t.to(device); });
  }
};

/// What an encoder returns.
struct EncoderOutput {
  torch::Tensor last_hidden_state;           ///< [B, T, H]
  torch::Tensor pooler_output;               ///< [B, H] tanh(dense(h[:,0])); undefined without a pooler
  std::vector<torch::Tensor> hidden_states;  ///< embeddings output then each layer's; empty unless requested
  torch::Tensor attention_mask;              ///< [B, T] the mask the states were computed with
};

/// The tokenised views of one training step.
///
/// Unsupervised methods put the same sentences in `first` and `second` (PromptBERT: under two
/// templates); supervised SimCSE puts the premise in `first`, the entailment in `second` and the
/// contradiction in `hard_negative`. MCSE's paired steps carry the image features of the captions.
struct TrainingBatch {
  TokenBatch first;                         ///< view 0, `[N, T]`
  TokenBatch second;                        ///< view 1, `[N, T']`
  std::optional<TokenBatch> hard_negative;  ///< optional third column (supervised SimCSE)
  torch::Tensor image_features;             ///< `[N, Dv]` for MCSE paired steps; undefined on text-only steps
  /// Indices (1-d long) of the rows that still hold their mask token in every view, set by the
  /// collator only when whole-sequence truncation cut some away (VIKCSE's reference truncation);
  /// the host then pools only these rows, while the raw [CLS] state keeps all `N`. Undefined: all.
  torch::Tensor mask_rows;
  /// `[N, D]` retrieval keys of the batch's sentences in the knowledge base's space (e.g. stage-1
  /// CLIP text features of the sentences), for VIKCSE's grounded retrieval (`RetrievalKey::batch_keys`,
  /// an extension); undefined otherwise.
  torch::Tensor knowledge_keys;

  /// The same step on another device (`non_blocking` copies from pinned memory overlap the compute).
  [[nodiscard]] TrainingBatch to(const torch::Device& device, bool non_blocking = false) const {
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, non_blocking) : t; };
    auto views = [&](const TokenBatch& b) { return b.map(move); };
    return {views(first),
            views(second),
            hard_negative ? std::optional<TokenBatch>(views(*hard_negative)) : std::nullopt,
            move(image_features),
            move(mask_rows),
            move(knowledge_keys)};
  }
};

/// The pooled representations of one view.
struct ViewEmbeddings {
  torch::Tensor z;    ///< `[N, H]` the training representation (after the MLP head when the pooler has one)
  torch::Tensor h;    ///< `[N, H]` the pooled vector before the head (after template denoising)
  torch::Tensor cls;  ///< `[N, H]` the raw last-layer [CLS] / <s> state
};

/// Everything a contrastive loss sees about the text side of a step.
struct ContrastiveViews {
  ViewEmbeddings first;                         ///< view 0 (anchors)
  ViewEmbeddings second;                        ///< view 1 (positives)
  std::optional<ViewEmbeddings> hard_negative;  ///< extra negatives (supervised SimCSE)
};

/// A loss value with its named terms (detached copies, for logging).
struct LossOutput {
  torch::Tensor total;                         ///< 0-d, differentiable
  std::map<std::string, torch::Tensor> terms;  ///< e.g. `text`, `vm`, `vc`, `intra`, `inter` (0-d, detached)
};

}  // namespace vikcse
