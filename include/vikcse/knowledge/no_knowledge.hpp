// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file no_knowledge.hpp
/// `NoKnowledge`: the knowledge policy of text-only methods (SimCSE, PromptBERT).

#include <vikcse/concepts/context.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>

namespace vikcse {

/// A knowledge base that knows nothing; its context is `NoContext`.
class NoKnowledgeImpl : public torch::nn::Cloneable<NoKnowledgeImpl> {
public:
  using context_type = NoContext;
  NoKnowledgeImpl() = default;
  void reset() override {}
  /// Always `NoContext{}`.
  NoContext context(const TrainingBatch& /*batch*/) const { return {}; }
  /// 0: no features.
  [[nodiscard]] std::int64_t feature_dim() const { return 0; }
};
/// Holder of `NoKnowledgeImpl`.
TORCH_MODULE(NoKnowledge);

}  // namespace vikcse
