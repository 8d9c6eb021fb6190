// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file loss.hpp
/// The `ContrastiveLoss` concept and the two-parameter `ContrastiveLossFor<L, K>`: the loss can
/// consume the context that the knowledge base `K` provides. A knowledge-based loss with a
/// knowledge policy that provides no knowledge does not satisfy it (a compile error in the host).

#include <vikcse/concepts/encoder.hpp>
#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/types.hpp>

#include <concepts>

namespace vikcse {

/// A contrastive-loss policy.
///
/// Requirement: `TorchModuleHolder<L>`. What the host calls, `l->forward(views, context)`, depends
/// on the knowledge policy and is checked by `ContrastiveLossFor<L, K>`.
template <typename L>
concept ContrastiveLoss = TorchModuleHolder<L>;

/// A contrastive loss usable with the knowledge base `K`:
/// `l->forward(const ContrastiveViews&, const context_t<K>&) -> LossOutput`.
template <typename L, typename K>
concept ContrastiveLossFor = ContrastiveLoss<L> && KnowledgeBase<K> &&
    requires(L l, const ContrastiveViews& views, const context_t<K>& context) {
  { l->forward(views, context) } -> std::same_as<LossOutput>;
};

}  // namespace vikcse
