// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file faiss_search.hpp
/// `faiss_semantic_search`: `semantic_search` answered by FAISS's exact flat inner-product index
/// (`IndexFlatIP`, FAISS's own blocked kernels; for cosine over unit rows), with the same
/// contract: `min(top_k, N)` hits per query, scores descending, ties to the lower corpus row.
///
/// Ties: FAISS orders equal scores as its heap leaves them. Each query therefore asks FAISS for
/// `tie_window` more rows than it needs and sorts them by (score descending, row ascending); when
/// the k-th score still equals the last one of that window (a tie that may reach beyond it), the
/// query is answered by the exact `semantic_search` instead. Scores are FAISS's float32 inner
/// products (of unit rows, for cosine), equal to the exact path's to float32 rounding.
///
/// Link `vikcse::faiss` to use it; without the FAISS headers it declares nothing and
/// `VIKCSE_HAS_FAISS_SEARCH` is 0. Not included by `<vikcse/vikcse.hpp>`.

#if __has_include(<faiss/IndexFlat.h>)

#define VIKCSE_HAS_FAISS_SEARCH 1

#include <vikcse/error.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/search/semantic_search.hpp>
#include <vikcse/search/similarity.hpp>

#include <faiss/IndexFlat.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace vikcse {

/// What `faiss_semantic_search` adds to `SemanticSearchOptions`.
struct FaissSearchOptions {
  std::int64_t tie_window = 16;  ///< extra rows fetched per query to order ties (>= 1)
};

/// `semantic_search(queries, corpus, options)` through FAISS (see the file comment).
/// @throws vikcse::invalid_argument as `semantic_search` does, and for `tie_window < 1`.
inline TopK faiss_semantic_search(const torch::Tensor& queries, const torch::Tensor& corpus,
                                  const SemanticSearchOptions& options = {}, const FaissSearchOptions& faiss = {}) {
  detail::search::check_pair(queries, corpus, "faiss_semantic_search");
  if (options.top_k < 1 || options.query_chunk_size < 1) {
    throw_error<invalid_argument>("faiss_semantic_search: top_k ({}) and query_chunk_size ({}) must be >= 1",
                                  options.top_k, options.query_chunk_size);
  }
  if (faiss.tie_window < 1) {
    throw_error<invalid_argument>("faiss_semantic_search: tie_window must be >= 1, got {}", faiss.tie_window);
  }
  const auto raw = queries.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const auto n = corpus.size(0);
  const auto k = std::min(options.top_k, n);
  if (n == 0) return {torch::empty({raw.size(0), 0}, torch::kFloat), torch::empty({raw.size(0), 0}, torch::kLong)};
  const bool cosine = options.score == ScoreFunction::cosine;
  auto bank = corpus.detach().to(torch::kCPU, torch::kFloat).contiguous();
  if (cosine) bank = detail::unit_rows(bank).contiguous();
  const auto q = cosine ? detail::unit_rows(raw).contiguous() : raw;
  const auto window = std::min(n, k + faiss.tie_window);
  faiss::IndexFlatIP index(bank.size(1));
  index.add(n, bank.data_ptr<float>());
  auto scores = torch::empty({q.size(0), k}, torch::kFloat);
  auto indices = torch::empty({q.size(0), k}, torch::kLong);
  std::vector<std::int64_t> exact_rows;
  for (std::int64_t start = 0; start < q.size(0); start += options.query_chunk_size) {
    const auto rows = std::min(options.query_chunk_size, q.size(0) - start);
    auto s = torch::empty({rows, window}, torch::kFloat);
    auto labels = torch::empty({rows, window}, torch::kLong);
    // FAISS labels are int64_t (`faiss::Index::idx_t` in 1.7.3, `faiss::idx_t` later).
    index.search(rows, q.narrow(0, start, rows).data_ptr<float>(), window, s.data_ptr<float>(),
                 labels.data_ptr<std::int64_t>());
    const auto* sp = s.data_ptr<float>();
    const auto* ip = labels.data_ptr<std::int64_t>();
    auto* out_s = scores.data_ptr<float>();
    auto* out_i = indices.data_ptr<std::int64_t>();
    std::vector<std::int64_t> order(static_cast<std::size_t>(window));
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto* rs = sp + r * window;
      const auto* ri = ip + r * window;
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](std::int64_t a, std::int64_t b) { return rs[a] != rs[b] ? rs[a] > rs[b] : ri[a] < ri[b]; });
      if (window < n && rs[order[static_cast<std::size_t>(k - 1)]] == rs[order.back()]) {
        exact_rows.push_back(start + r);  // the tie may continue past the window
      }
      for (std::int64_t j = 0; j < k; ++j) {
        out_s[(start + r) * k + j] = rs[order[static_cast<std::size_t>(j)]];
        out_i[(start + r) * k + j] = ri[order[static_cast<std::size_t>(j)]];
      }
    }
  }
  if (!exact_rows.empty()) {
    const auto pick = torch::tensor(exact_rows, torch::kLong);
    auto exact_options = options;
    exact_options.top_k = k;
    const auto exact = semantic_search(raw.index_select(0, pick), corpus, exact_options);
    scores.index_copy_(0, pick, exact.scores.to(torch::kFloat));
    indices.index_copy_(0, pick, exact.indices);
  }
  return {scores, indices};
}

}  // namespace vikcse

#else

/// FAISS headers are not on the include path: `faiss_semantic_search` is not declared.
#define VIKCSE_HAS_FAISS_SEARCH 0

#endif
