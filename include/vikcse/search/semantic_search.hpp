// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file semantic_search.hpp
/// Exact top-k search of query embeddings in a corpus of embeddings, as sentence-transformers'
/// `util.semantic_search`, in query chunks × corpus chunks: the largest score matrix held at once
/// is `[query_chunk_size, corpus_chunk_size]`, so a corpus of a million rows never builds a
/// `[Q, N]` matrix. Each corpus chunk's best k are merged into the running best k. Equal scores
/// rank the lower corpus index first, whatever the chunk sizes.
///
/// Example:
/// ```
/// auto hits = vikcse::semantic_search(queries, corpus, {.top_k = 5});
/// // hits.indices[q][r]: corpus row of rank r for query q; hits.scores[q][r]: its cosine
/// ```

#include <vikcse/concepts/context.hpp>
#include <vikcse/error.hpp>
#include <vikcse/search/similarity.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace vikcse {

/// Options of `semantic_search`.
struct SemanticSearchOptions {
  std::int64_t top_k = 10;                      ///< hits per query (at most the corpus size)
  ScoreFunction score = ScoreFunction::cosine;  ///< how a query and a corpus row are scored
  std::int64_t query_chunk_size = 100;          ///< queries scored per block (sentence-transformers: 100)
  std::int64_t corpus_chunk_size = 500000;      ///< corpus rows scored per block (sentence-transformers: 500000)
};

/// The `min(top_k, N)` best corpus rows of every query: `scores` `[Q, k]` (descending) and
/// `indices` `[Q, k]` (int64; ties: lower index first). An empty corpus gives `[Q, 0]`.
/// @throws vikcse::invalid_argument for non-2-D inputs, different widths, non-finite values, or
///         `top_k` / chunk sizes below 1.
inline TopK semantic_search(const torch::Tensor& queries, const torch::Tensor& corpus,
                            const SemanticSearchOptions& options = {}) {
  detail::search::check_pair(queries, corpus, "semantic_search");
  const auto& o = options;
  if (o.top_k < 1 || o.query_chunk_size < 1 || o.corpus_chunk_size < 1) {
    throw_error<invalid_argument>(
        "semantic_search: top_k ({}), query_chunk_size ({}) and corpus_chunk_size ({}) must be >= 1", o.top_k,
        o.query_chunk_size, o.corpus_chunk_size);
  }
  for (const auto* t : {&queries, &corpus}) {
    if (t->numel() > 0 && !torch::isfinite(*t).all().item<bool>()) {
      throw_error<invalid_argument>("semantic_search: the {} embeddings hold NaN or infinite values",
                                    t == &queries ? "query" : "corpus");
    }
  }
  const bool cosine = o.score == ScoreFunction::cosine;
  const auto q_all = cosine ? detail::unit_rows(queries) : queries;
  const auto c_all = (cosine ? detail::unit_rows(corpus) : corpus).to(q_all.dtype());
  const auto n = c_all.size(0);
  const auto k = std::min(o.top_k, n);
  std::vector<torch::Tensor> scores, indices;
  for (std::int64_t qs = 0; qs < q_all.size(0); qs += o.query_chunk_size) {
    const auto q = q_all.narrow(0, qs, std::min(o.query_chunk_size, q_all.size(0) - qs));
    auto best_s = torch::empty({q.size(0), 0}, q.options());
    auto best_i = torch::empty({q.size(0), 0}, q.options().dtype(torch::kLong));
    for (std::int64_t cs = 0; cs < n; cs += o.corpus_chunk_size) {
      const auto len = std::min(o.corpus_chunk_size, n - cs);
      const auto s = torch::mm(q, c_all.narrow(0, cs, len).t());
      // The running best (lower indices, ties already in index order) comes first; a stable sort
      // keeps that order among equal scores.
      const auto cand_s = torch::cat({best_s, s}, 1);
      const auto cand_i =
          torch::cat({best_i, torch::arange(cs, cs + len, best_i.options()).expand({q.size(0), len})}, 1);
      const auto sorted = cand_s.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
      const auto keep = std::min(k, cand_s.size(1));
      best_s = std::get<0>(sorted).narrow(1, 0, keep);
      best_i = cand_i.gather(1, std::get<1>(sorted).narrow(1, 0, keep));
    }
    scores.push_back(best_s);
    indices.push_back(best_i);
  }
  if (scores.empty())
    return {torch::empty({0, k}, q_all.options()), torch::empty({0, k}, q_all.options().dtype(torch::kLong))};
  return {torch::cat(scores, 0), torch::cat(indices, 0)};
}

}  // namespace vikcse
