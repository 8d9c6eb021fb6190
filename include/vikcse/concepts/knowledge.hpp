// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file knowledge.hpp
/// The `KnowledgeBase` concept (what a method knows beyond the text of a batch), its context type,
/// the `Retriever` concept inside a retrieving knowledge base, and `RetrievingKnowledgeBase`.

#include <vikcse/concepts/context.hpp>
#include <vikcse/concepts/encoder.hpp>
#include <vikcse/types.hpp>

#include <torch/types.h>

#include <concepts>
#include <cstdint>

namespace vikcse {

/// The context type a knowledge-base policy hands to the loss for a step.
template <typename K>
using context_t = typename K::ContainedType::context_type;

/// A knowledge-base policy.
///
/// Requirements: `TorchModuleHolder<K>`; a nested `context_type` in the module
/// (`context_t<K>`); `k->context(const TrainingBatch&) -> context_t<K>`. That is all the host calls.
template <typename K>
concept KnowledgeBase = TorchModuleHolder<K> && requires(K k, const TrainingBatch& batch) {
  typename context_t<K>;
  { k->context(batch) } -> std::same_as<context_t<K>>;
};

/// A nearest-neighbour search over a bank of unit-norm rows.
///
/// Requirement: `r.search(const torch::Tensor& queries /*[N,D]*/, const torch::Tensor& bank
/// /*[M,D] unit rows*/, std::int64_t k) -> TopK` (descending scores, ties broken by lowest index).
template <typename R>
concept Retriever = std::copy_constructible<R> && requires(const R& r, const torch::Tensor& t, std::int64_t k) {
  { r.search(t, t, k) } -> std::same_as<TopK>;
};

/// A knowledge base that retrieves rows of a feature bank (VIKCSE).
///
/// Additional requirements: `k->size() -> std::int64_t` (rows in the bank);
/// `k->search(const torch::Tensor& queries, std::int64_t k) -> TopK`;
/// `k->rows(const torch::Tensor& indices) -> torch::Tensor`.
template <typename K>
concept RetrievingKnowledgeBase = KnowledgeBase<K> && requires(K k, const torch::Tensor& q) {
  { k->size() } -> std::convertible_to<std::int64_t>;
  { k->search(q, std::int64_t{1}) } -> std::same_as<TopK>;
  { k->rows(q) } -> std::same_as<torch::Tensor>;
};

}  // namespace vikcse
