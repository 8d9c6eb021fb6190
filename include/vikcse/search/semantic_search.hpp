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
#include <utility>
#include <vector>

namespace vikcse {

namespace detail::search {

/// The k best columns of each row of `s` `[R, C]`, ordered by (score descending, column
/// ascending): `topk` selects fast but leaves ties in any order and may pick any of several equal
/// scores at the k-th place, so the selection is re-sorted by column among equals, and a row whose
/// k-th score also occurs outside the selection is answered by a full stable sort.
inline std::pair<torch::Tensor, torch::Tensor> block_top_k(const torch::Tensor& s, std::int64_t k) {
  auto [vals, cols] = s.topk(k, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
  // Ascending columns first, then a stable sort by score: equal scores keep column order.
  // (three arguments: with two, `sort(true, 1)` would pick the overload sort(dim, descending))
  const auto by_col = cols.sort(/*stable=*/true, /*dim=*/1, /*descending=*/false);
  auto v = vals.gather(1, std::get<1>(by_col));
  auto c = std::get<0>(by_col);
  const auto by_score = v.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
  v = std::get<0>(by_score);
  c = c.gather(1, std::get<1>(by_score));
  // A tie across the k-th place: more entries equal the k-th score than the selection holds.
  const auto kth = v.narrow(1, k - 1, 1);
  const auto bad = (s.eq(kth).sum(1) != v.eq(kth).sum(1)).nonzero().squeeze(1);
  if (bad.numel() > 0) {
    const auto full = s.index_select(0, bad).sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
    v.index_copy_(0, bad, std::get<0>(full).narrow(1, 0, k));
    c.index_copy_(0, bad, std::get<1>(full).narrow(1, 0, k));
  }
  return {v, c};
}

}  // namespace detail::search

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
  if (queries.numel() > 0 && !torch::isfinite(queries).all().item<bool>()) {
    throw_error<invalid_argument>("semantic_search: the query embeddings hold NaN or infinite values");
  }
  const bool cosine = o.score == ScoreFunction::cosine;
  const auto q_all = cosine ? detail::unit_rows(queries) : queries;
  const auto n = corpus.size(0);
  const auto nq = q_all.size(0);
  const auto k = std::min(o.top_k, n);
  // Running best per query chunk: scores [rows, <= k] descending, ties in index order.
  std::vector<torch::Tensor> best_s, best_i;
  for (std::int64_t qs = 0; qs < nq; qs += o.query_chunk_size) {
    const auto rows = std::min(o.query_chunk_size, nq - qs);
    best_s.push_back(torch::empty({rows, 0}, q_all.options()));
    best_i.push_back(torch::empty({rows, 0}, q_all.options().dtype(torch::kLong)));
  }
  // Corpus blocks outermost: each is read once per query chunk and never copied (its rows' norms
  // divide the scores instead of a normalised copy of the block), so memory beyond the inputs is
  // one [query_chunk_size, corpus_chunk_size] score block. The first query chunk's scores show
  // whether the block holds NaN or infinite values (every corpus row is in them).
  for (std::int64_t cs = 0; cs < n; cs += o.corpus_chunk_size) {
    const auto len = std::min(o.corpus_chunk_size, n - cs);
    const auto block = corpus.narrow(0, cs, len).to(q_all.dtype());
    const auto norms = cosine ? block.norm(2, 1).clamp_min(1e-8) : torch::Tensor();
    for (std::size_t c = 0; c < best_s.size(); ++c) {
      const auto q = q_all.narrow(0, static_cast<std::int64_t>(c) * o.query_chunk_size, best_s[c].size(0));
      auto s = torch::mm(q, block.t());
      if (cosine) s.div_(norms);
      if (c == 0 && !torch::isfinite(s).all().item<bool>()) {
        throw_error<invalid_argument>("semantic_search: {} in corpus rows {}..{}",
                                      torch::isfinite(block).all().item<bool>()
                                          ? "the scores overflow float range"
                                          : "the corpus embeddings hold NaN or infinite values",
                                      cs, cs + len - 1);
      }
      auto [top_s, top_i] = detail::search::block_top_k(s, std::min(k, len));
      // The running best (lower indices, ties already in index order) comes first; a stable sort
      // keeps that order among equal scores.
      const auto cand_s = torch::cat({best_s[c], top_s}, 1);
      const auto cand_i = torch::cat({best_i[c], top_i + cs}, 1);
      const auto sorted = cand_s.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
      const auto keep = std::min(k, cand_s.size(1));
      best_s[c] = std::get<0>(sorted).narrow(1, 0, keep);
      best_i[c] = cand_i.gather(1, std::get<1>(sorted).narrow(1, 0, keep));
    }
  }
  if (best_s.empty())
    return {torch::empty({0, k}, q_all.options()), torch::empty({0, k}, q_all.options().dtype(torch::kLong))};
  return {torch::cat(best_s, 0), torch::cat(best_i, 0)};
}

}  // namespace vikcse
