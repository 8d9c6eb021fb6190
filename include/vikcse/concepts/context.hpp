// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file context.hpp
/// The context types a knowledge-base policy hands to the loss for one step (what
/// `context_t<K>` names), and the result of a retriever's search. They live with the concepts so
/// that a loss can name the context it consumes without depending on a knowledge-base policy.

#include <torch/types.h>

#include <cstdint>
#include <functional>

namespace vikcse {

/// The result of a top-k search: `[N, k]` cosine scores (descending) and `[N, k]` int64 row indices.
struct TopK {
  torch::Tensor scores;   ///< `[N, k]` float
  torch::Tensor indices;  ///< `[N, k]` int64
};

/// The empty context of `NoKnowledge`.
struct NoContext {};

/// The context of a step under `PairedImageFeatures`: `features` `[N, Dv]`, or undefined on a
/// text-only step.
struct PairedImageContext {
  torch::Tensor features;  ///< `[N, Dv]` fixed image features of the captions in the batch
};

/// What a retrieving knowledge base hands to the loss: a search over its bank, its rows and, when
/// the batch carries them, the sentences' own retrieval keys.
struct KnowledgeRetrieval {
  std::function<TopK(const torch::Tensor&, std::int64_t)> search;  ///< queries `[N, D]`, k -> TopK
  torch::Tensor bank;                                              ///< `[M, D]` unit rows (a buffer; no gradient)
  torch::Tensor keys;       ///< `[N, D]` the batch's `knowledge_keys` (every row); undefined when it has none
  torch::Tensor mask_keys;  ///< the rows of `keys` that the [MASK] term pools (`mask_rows`); undefined likewise
};

}  // namespace vikcse
