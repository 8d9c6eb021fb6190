// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file retriever.hpp
/// `ExactCosineRetriever`: exact top-k cosine search over a bank of unit-norm rows, in query
/// chunks, with deterministic tie-breaking (equal scores: lowest row index first; README.md#reference-bugs).

#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace vikcse {

/// Exact cosine top-k: `normalize(q) · bankᵀ`, then the k best columns per row.
struct ExactCosineRetriever {
  /// Queries scored per matrix product (bounds the `[chunk, M]` score matrix). Default: 256.
  std::int64_t chunk_size = 256;

  /// @param queries `[N, D]`; @param bank `[M, D]` rows already L2-normalised; @param k `1..M`.
  /// @throws vikcse::invalid_argument on shape mismatch or k outside `1..M`.
  [[nodiscard]] TopK search(const torch::Tensor& queries, const torch::Tensor& bank, std::int64_t k) const {
    if (!queries.defined() || queries.dim() != 2) {
      throw_error<invalid_argument>("retriever: queries must be [N, D], got {} dimensions",
                                    queries.defined() ? queries.dim() : 0);
    }
    if (!bank.defined() || bank.dim() != 2 || bank.size(0) == 0) {
      throw_error<invalid_argument>("retriever: the bank must be a non-empty [M, D] tensor");
    }
    if (queries.size(1) != bank.size(1)) {
      throw_error<invalid_argument>("retriever: query dimension {} differs from the bank's feature dimension {}",
                                    queries.size(1), bank.size(1));
    }
    if (k < 1 || k > bank.size(0)) {
      throw_error<invalid_argument>("retriever: k must be in 1..{} (bank rows), got {}", bank.size(0), k);
    }
    if (chunk_size <= 0) throw_error<invalid_argument>("retriever: chunk_size must be > 0, got {}", chunk_size);
    std::vector<torch::Tensor> scores;
    std::vector<torch::Tensor> indices;
    const auto q = queries.to(bank.dtype());
    for (std::int64_t start = 0; start < q.size(0); start += chunk_size) {
      const auto len = std::min(chunk_size, q.size(0) - start);
      const auto chunk = q.narrow(0, start, len);
      const auto s = torch::mm(chunk / chunk.norm(2, -1, true).clamp_min(1e-8), bank.t());
      if (k == 1) {
        // argmax returns the first maximal index.
        const auto idx = s.argmax(1, /*keepdim=*/true);
        scores.push_back(s.gather(1, idx));
        indices.push_back(idx);
      } else {
        const auto sorted = s.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
        scores.push_back(std::get<0>(sorted).narrow(1, 0, k));
        indices.push_back(std::get<1>(sorted).narrow(1, 0, k));
      }
    }
    if (scores.empty()) {
      return {torch::empty({0, k}, bank.options()), torch::empty({0, k}, bank.options().dtype(torch::kLong))};
    }
    return {torch::cat(scores, 0), torch::cat(indices, 0)};
  }
};

static_assert(Retriever<ExactCosineRetriever>);

}  // namespace vikcse
