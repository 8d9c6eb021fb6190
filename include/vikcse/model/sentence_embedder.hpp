// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file sentence_embedder.hpp
/// The host every method is an alias of: `SentenceEmbedder<Encoder, Pooler, KnowledgeBase, Loss>`.
/// A training step encodes the views of a `TrainingBatch` (dropout is the augmentation), pools
/// them (prompt poolers may subtract their template bias), asks the knowledge policy for its
/// context and hands everything to the loss. `embed` is the evaluation embedding.

#include <vikcse/concepts/concepts.hpp>
#include <vikcse/error.hpp>
#include <vikcse/model/row_gather.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace vikcse {

/// Options of the host.
struct SentenceEmbedderOptions {
  /// Encode all views of a step in one pass of `k·N` rows (SimCSE, MCSE, PromptBERT) when they
  /// have the same padded length; false: one pass per view (VIKCSE). Default: true.
  TORCH_ARG(bool, views_in_one_pass) = true;
};

namespace detail {

/// An encoder output with `rows` applied to each of its `[N, ...]` tensors.
inline EncoderOutput map_rows(const EncoderOutput& out,
                              const std::function<torch::Tensor(const torch::Tensor&)>& rows) {
  EncoderOutput s;
  s.last_hidden_state = rows(out.last_hidden_state);
  if (out.pooler_output.defined()) s.pooler_output = rows(out.pooler_output);
  for (const auto& h : out.hidden_states) s.hidden_states.push_back(rows(h));
  if (out.attention_mask.defined()) s.attention_mask = rows(out.attention_mask);
  return s;
}

/// Rows `[start, start + n)` of an encoder output.
inline EncoderOutput slice_rows(const EncoderOutput& out, std::int64_t start, std::int64_t n) {
  return map_rows(out, [&](const torch::Tensor& t) { return t.narrow(0, start, n); });
}

/// The rows `index` (a 1-d long tensor) of an encoder output.
inline EncoderOutput select_rows(const EncoderOutput& out, const torch::Tensor& index) {
  const auto at = index.to(out.last_hidden_state.device());
  return map_rows(out, [&](const torch::Tensor& t) { return t.index_select(0, at); });
}

/// The rows `index` of a token batch.
inline TokenBatch select_rows(const TokenBatch& batch, const torch::Tensor& index) {
  return batch.map([&](const torch::Tensor& t) { return t.index_select(0, index.to(t.device())); });
}

/// The rows of several batches of one length stacked.
inline TokenBatch cat_rows(const std::vector<const TokenBatch*>& batches) {
  auto cat = [&](auto member) -> torch::Tensor {
    std::vector<torch::Tensor> parts;
    for (const auto* b : batches) {
      if (!(b->*member).defined()) return {};
      parts.push_back(b->*member);
    }
    return torch::cat(parts, 0);
  };
  return {cat(&TokenBatch::input_ids), cat(&TokenBatch::attention_mask), cat(&TokenBatch::token_type_ids),
          cat(&TokenBatch::position_ids)};
}

}  // namespace detail

/// The method host.
///
/// @tparam EncoderType   satisfies `vikcse::Encoder` (BertModel, RobertaModel, AutoModel)
/// @tparam PoolerType    satisfies `vikcse::Pooler`; a `vikcse::PromptPooler` also denoises
/// @tparam KnowledgeType satisfies `vikcse::KnowledgeBase`
/// @tparam LossType      satisfies `vikcse::ContrastiveLossFor<LossType, KnowledgeType>`
///
/// Submodules: `encoder` (Hugging Face keys), `pooler`, `knowledge`, `loss`.
template <typename EncoderType, typename PoolerType, typename KnowledgeType, typename LossType>
class SentenceEmbedderImpl : public torch::nn::Module {
  static_assert(Encoder<EncoderType>,
                "vikcse::SentenceEmbedder: EncoderType must satisfy vikcse::Encoder "
                "(e->forward(const TokenBatch&, bool) -> EncoderOutput)");
  static_assert(Pooler<PoolerType>,
                "vikcse::SentenceEmbedder: PoolerType must satisfy vikcse::Pooler "
                "(p->forward(EncoderOutput, TokenBatch), p->head(Tensor), p->needs_hidden_states())");
  static_assert(KnowledgeBase<KnowledgeType>,
                "vikcse::SentenceEmbedder: KnowledgeType must satisfy vikcse::KnowledgeBase "
                "(context_type, k->context(TrainingBatch))");
  static_assert(ContrastiveLoss<LossType>,
                "vikcse::SentenceEmbedder: LossType must satisfy vikcse::ContrastiveLoss (a LibTorch module holder)");
  static_assert(ContrastiveLossFor<LossType, KnowledgeType>,
                "vikcse::SentenceEmbedder: the loss cannot use the knowledge policy's context "
                "(e.g. a knowledge-based loss such as KnowledgeInfoNCELoss needs a retrieving knowledge base "
                "such as VisualKnowledgeBase, not NoKnowledge): LossType must satisfy "
                "vikcse::ContrastiveLossFor<LossType, KnowledgeType>");

public:
  using encoder_type = EncoderType;      ///< the encoder policy
  using pooler_type = PoolerType;        ///< the pooler policy
  using knowledge_type = KnowledgeType;  ///< the knowledge policy
  using loss_type = LossType;            ///< the loss policy

  /// The view index whose template a hard negative is denoised with: the collator builds hard
  /// negatives in view 0's format, so they carry view 0's template.
  static constexpr std::int64_t hard_negative_view = 0;

  /// Registers the four policies as submodules. A prompt pooler whose δ-pass position offset is
  /// unset gets the encoder's first position id (2 for RoBERTa), so template-only rows sit where
  /// real rows do.
  SentenceEmbedderImpl(EncoderType encoder_, PoolerType pooler_, KnowledgeType knowledge_, LossType loss_,
                       SentenceEmbedderOptions options_ = {})
      : options(options_),
        encoder(register_module("encoder", std::move(encoder_).ptr())),
        pooler(register_module("pooler", std::move(pooler_).ptr())),
        knowledge(register_module("knowledge", std::move(knowledge_).ptr())),
        loss(register_module("loss", std::move(loss_).ptr())) {
    if constexpr (requires {
                    pooler->options.position_offset(std::int64_t{0});
                    encoder->first_position_id();
                  }) {
      if (!pooler->options.position_offset()) pooler->options.position_offset(encoder->first_position_id());
    }
  }

  /// The pooled views of a step (train mode: dropout differs per view).
  ContrastiveViews views(const TrainingBatch& batch) {
    const bool hidden = pooler->needs_hidden_states();
    EncodeFunction encode = [this, hidden](const TokenBatch& b) { return encoder->forward(b, hidden); };
    std::vector<const TokenBatch*> inputs{&batch.first, &batch.second};
    if (batch.hard_negative) inputs.push_back(&*batch.hard_negative);
    std::vector<EncoderOutput> outputs;
    bool same_length = true;
    for (const auto* b : inputs) same_length = same_length && b->input_ids.size(1) == inputs[0]->input_ids.size(1);
    if (options.views_in_one_pass() && same_length) {
      const auto all = encode(detail::cat_rows(inputs));
      std::int64_t start = 0;
      for (const auto* b : inputs) {
        outputs.push_back(detail::slice_rows(all, start, b->input_ids.size(0)));
        start += b->input_ids.size(0);
      }
    } else {
      for (const auto* b : inputs) outputs.push_back(encode(*b));
    }
    // `mask_rows` (whole-sequence truncation that cut some [MASK] tokens away): the pooled and
    // head vectors keep only those rows, the raw [CLS] state keeps every row.
    const bool subset = batch.mask_rows.defined();
    std::vector<ViewEmbeddings> pooled;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& out = subset ? detail::select_rows(outputs[i], batch.mask_rows) : outputs[i];
      const auto& in = subset ? detail::select_rows(*inputs[i], batch.mask_rows) : *inputs[i];
      auto h = pooler->forward(out, in);
      if constexpr (PromptPooler<PoolerType>) {
        h = pooler->denoise(h, in, i == 1 ? 1 : hard_negative_view, encode);
      }
      pooled.push_back({pooler->head(h), h, outputs[i].last_hidden_state.select(1, 0)});
    }
    ContrastiveViews v{pooled[0], pooled[1], std::nullopt};
    if (pooled.size() > 2) v.hard_negative = pooled[2];
    return v;
  }

  /// The training loss of one step (call in train mode).
  LossOutput forward(const TrainingBatch& batch) {
    const auto v = views(batch);
    return loss->forward(v, knowledge->context(batch));
  }

  /// The training loss of one step of data-parallel training: `batch` holds this rank's rows; the
  /// views and the knowledge context are gathered into the global batch (`gather`) before the
  /// loss, so every rank computes the loss of the whole batch (`model/row_gather.hpp`).
  /// @throws vikcse::invalid_argument when the knowledge context has no `gather_rows` overload.
  LossOutput forward(const TrainingBatch& batch, const RowGather& gather) {
    const auto v = gather_views(views(batch), gather);
    const auto context = knowledge->context(batch);
    if constexpr (requires { gather_rows(context, gather); }) {
      return loss->forward(v, gather_rows(context, gather));
    } else {
      throw_error<invalid_argument>(
          "data-parallel training: the knowledge policy's context type has no gather_rows(context, RowGather) "
          "overload, so its rows cannot be gathered over the ranks");
    }
  }

  /// The evaluation embedding `[N, D]` of a batch in the current mode (call `eval()` first):
  /// pooled vector, denoised when the prompt pooler does so at evaluation, head unless
  /// `mlp_only_train`.
  torch::Tensor embed(const TokenBatch& batch) {
    const bool hidden = pooler->needs_hidden_states();
    EncodeFunction encode = [this, hidden](const TokenBatch& b) { return encoder->forward(b, hidden); };
    auto h = pooler->forward(encode(batch), batch);
    if constexpr (PromptPooler<PoolerType>) h = pooler->denoise(h, batch, 0, encode);
    return pooler->head(h);
  }

  SentenceEmbedderOptions options;  ///< host options
  EncoderType encoder;              ///< encoder policy (submodule `encoder`)
  PoolerType pooler;                ///< pooler policy (submodule `pooler`)
  KnowledgeType knowledge;          ///< knowledge policy (submodule `knowledge`)
  LossType loss;                    ///< loss policy (submodule `loss`)
};

/// Holder of `SentenceEmbedderImpl` (hand-written: TORCH_MODULE cannot take templates).
/// @tparam EncoderType satisfies `vikcse::Encoder`
/// @tparam PoolerType satisfies `vikcse::Pooler`
/// @tparam KnowledgeType satisfies `vikcse::KnowledgeBase`
/// @tparam LossType satisfies `vikcse::ContrastiveLossFor<LossType, KnowledgeType>`
template <typename EncoderType, typename PoolerType, typename KnowledgeType, typename LossType>
class SentenceEmbedder
    : public torch::nn::ModuleHolder<SentenceEmbedderImpl<EncoderType, PoolerType, KnowledgeType, LossType>> {
public:
  using Impl = SentenceEmbedderImpl<EncoderType, PoolerType, KnowledgeType, LossType>;
  using torch::nn::ModuleHolder<Impl>::ModuleHolder;
};

}  // namespace vikcse
