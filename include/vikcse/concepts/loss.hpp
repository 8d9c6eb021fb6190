// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file loss.hpp
/// The `ContrastiveLoss` concept and the two-parameter `ContrastiveLossFor<L, K>`: the loss can
/// consume the context that the knowledge base `K` provides. A knowledge-based loss with a
/// knowledge policy that provides no knowledge does not satisfy it (a compile error in the host).

#include <vikcse/concepts/encoder.hpp>
#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/model/views.hpp>

#include <concepts>

namespace vikcse {

/// A contrastive-loss policy.
///
/// Requirements: `TorchModuleHolder<L>`; `l->temperature() -> double`.
template <typename L>
concept ContrastiveLoss = TorchModuleHolder<L> && requires(const L& l) {
  { l->temperature() } -> std::convertible_to<double>;
};

/// A contrastive loss usable with the knowledge base `K`:
/// `l->forward(const ContrastiveViews&, const context_t<K>&) -> LossOutput`.
template <typename L, typename K>
concept ContrastiveLossFor = ContrastiveLoss<L> && KnowledgeBase<K> &&
                             requires(L l, const ContrastiveViews& views, const context_t<K>& context) {
                               { l->forward(views, context) } -> std::same_as<LossOutput>;
                             };

}  // namespace vikcse
