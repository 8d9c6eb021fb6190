// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file visual_kb.hpp
/// `VisualKnowledgeBase<Retriever>` (VIKCSE): a bank of `[M, D]` features (CLIP image, optionally
/// text, embeddings) stored as unit rows in a registered buffer, searched by cosine top-k.

#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/knowledge/retriever.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace vikcse {

/// A dense feature bank with a retriever.
/// @tparam RetrieverType satisfies `vikcse::Retriever` (default `ExactCosineRetriever`).
template <Retriever RetrieverType = ExactCosineRetriever>
class VisualKnowledgeBaseImpl : public torch::nn::Cloneable<VisualKnowledgeBaseImpl<RetrieverType>> {
public:
  using context_type = KnowledgeRetrieval;

  /// A bank of `features` `[M, D]` (validated finite; rows are L2-normalised on construction).
  /// @throws vikcse::data_error for an empty, non-2-D or non-finite matrix.
  explicit VisualKnowledgeBaseImpl(torch::Tensor features, RetrieverType retriever = {})
      : features_(std::move(features)), retriever_(std::move(retriever)) {
    validate_features(features_, "knowledge base");
    if (features_.size(0) == 0) throw_error<data_error>("knowledge base: the feature bank has no rows");
    reset();
  }

  void reset() override {
    auto unit = features_.detach().to(torch::kFloat);
    unit = unit / unit.norm(2, -1, true).clamp_min(1e-8);
    bank = this->register_buffer("bank", unit.contiguous());
  }

  /// A search over the bank, the bank itself and the batch's retrieval keys (when it has them).
  KnowledgeRetrieval context(const TrainingBatch& batch) {
    KnowledgeRetrieval r{[this](const torch::Tensor& q, std::int64_t k) { return search(q, k); }, bank, {}, {}};
    if (batch.knowledge_keys.defined()) {
      r.keys = batch.knowledge_keys.detach();
      r.mask_keys = batch.mask_rows.defined() ? r.keys.index_select(0, batch.mask_rows) : r.keys;
    }
    return r;
  }
  /// Top-k rows for each query (no gradient).
  TopK search(const torch::Tensor& queries, std::int64_t k) {
    torch::NoGradGuard no_grad;
    return retriever_.search(queries.detach(), bank, k);
  }
  /// The unit rows at `indices` (any shape) -> `indices.sizes() + [D]`.
  torch::Tensor rows(const torch::Tensor& indices) {
    return bank.index_select(0, indices.reshape(-1)).view([&] {
      auto s = indices.sizes().vec();
      s.push_back(bank.size(1));
      return s;
    }());
  }
  /// Rows in the bank (M).
  [[nodiscard]] std::int64_t size() const { return bank.size(0); }
  /// Feature dimension (D).
  [[nodiscard]] std::int64_t feature_dim() const { return bank.size(1); }

  torch::Tensor bank;  ///< `[M, D]` unit rows (buffer)

private:
  torch::Tensor features_;
  RetrieverType retriever_;
};

/// Holder of `VisualKnowledgeBaseImpl` (hand-written: TORCH_MODULE cannot take templates).
/// @tparam RetrieverType satisfies `vikcse::Retriever`.
template <Retriever RetrieverType = ExactCosineRetriever>
class VisualKnowledgeBase : public torch::nn::ModuleHolder<VisualKnowledgeBaseImpl<RetrieverType>> {
public:
  using torch::nn::ModuleHolder<VisualKnowledgeBaseImpl<RetrieverType>>::ModuleHolder;
  using Impl = VisualKnowledgeBaseImpl<RetrieverType>;
};

}  // namespace vikcse
