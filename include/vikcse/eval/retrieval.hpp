// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file retrieval.hpp
/// Retrieval evaluation in the way of sentence-transformers' `InformationRetrievalEvaluator`: encode
/// the evaluated queries and the whole corpus, rank the corpus for every query by cosine similarity
/// with the exact `semantic_search` (equal scores: the lower corpus row first), and compute
/// MRR@k, NDCG@k, MAP@k, Recall@k, Precision@k and Accuracy@k with binary relevance
/// (`retrieval_metrics.hpp`) on a BEIR / MTEB directory (`retrieval_data.hpp`).
///
/// Example:
/// ```
/// const auto data = vikcse::read_beir_directory("beir/scifact");
/// const auto result = vikcse::evaluate_retrieval(data, embedder);
/// fmt::print("NDCG@10: {:.4f}\n", result.metrics.ndcg.at(10));
/// ```

#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/retrieval_data.hpp>
#include <vikcse/eval/retrieval_metrics.hpp>
#include <vikcse/search/semantic_search.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// Options of `evaluate_retrieval`.
struct RetrievalEvalOptions {
  RetrievalCutoffs cutoffs;                 ///< the k of every metric (search depth: the largest)
  std::int64_t query_chunk_size = 100;      ///< `SemanticSearchOptions::query_chunk_size`
  std::int64_t corpus_chunk_size = 500000;  ///< `SemanticSearchOptions::corpus_chunk_size`
  /// Progress of the encoding: ("queries" or "corpus", sentences done, sentences to encode).
  std::function<void(std::string_view, std::size_t, std::size_t)> on_progress;
};

/// The outcome of one retrieval evaluation.
struct RetrievalResult {
  std::string name;                 ///< `RetrievalData::name`
  std::string path;                 ///< the directory evaluated
  std::size_t queries_in_file = 0;  ///< queries in queries.jsonl; `metrics.queries` of them were evaluated
  std::size_t documents = 0;        ///< corpus size
  std::size_t relevant = 0;         ///< relevant (query, document) pairs over the evaluated queries
  RetrievalMetrics metrics;         ///< the means over the evaluated queries
};

/// Evaluates `data` from precomputed embeddings: row q of `queries` embeds `data.queries[q]`, row d
/// of `corpus` embeds `data.documents[d]`.
/// @throws vikcse::invalid_argument when the row counts do not match the data, or from
///         `semantic_search` (different widths, non-finite values).
inline RetrievalResult evaluate_retrieval(const RetrievalData& data, const torch::Tensor& queries,
                                          const torch::Tensor& corpus, const RetrievalEvalOptions& options = {}) {
  const auto nq = static_cast<std::int64_t>(data.queries.size());
  const auto nd = static_cast<std::int64_t>(data.documents.size());
  if (queries.dim() != 2 || corpus.dim() != 2 || queries.size(0) != nq || corpus.size(0) != nd) {
    throw_error<invalid_argument>(
        "evaluate_retrieval({}): expected [{}, D] query and [{}, D] corpus embeddings, got {} and {} rows", data.name,
        nq, nd, queries.dim() == 2 ? queries.size(0) : -1, corpus.dim() == 2 ? corpus.size(0) : -1);
  }
  SemanticSearchOptions search;
  search.top_k = static_cast<std::int64_t>(std::max<std::size_t>(options.cutoffs.max_k(), 1));
  search.query_chunk_size = options.query_chunk_size;
  search.corpus_chunk_size = options.corpus_chunk_size;
  const auto hits = semantic_search(queries, corpus, search);
  const auto indices = hits.indices.to(torch::kCPU, torch::kLong).contiguous();
  const auto k = indices.size(1);
  const auto* rows = indices.data_ptr<std::int64_t>();
  std::vector<std::vector<std::size_t>> rankings(data.queries.size());
  for (std::int64_t q = 0; q < nq; ++q) {
    rankings[static_cast<std::size_t>(q)].assign(rows + q * k, rows + (q + 1) * k);
  }
  RetrievalResult result;
  result.name = data.name;
  result.path = std::filesystem::absolute(data.dir).string();
  result.queries_in_file = data.queries_in_file;
  result.documents = data.documents.size();
  for (const auto& r : data.relevant) result.relevant += r.size();
  result.metrics = retrieval_metrics(rankings, data.relevant, options.cutoffs);
  return result;
}

/// Encodes the evaluated queries and every document with `embedder` (`encode_sentences` with
/// `encode`, whose `on_progress` is replaced by `options.on_progress` when that is set) and
/// evaluates them.
inline RetrievalResult evaluate_retrieval(const RetrievalData& data, const Embedder& embedder,
                                          const EncodeOptions& encode = {}, const RetrievalEvalOptions& options = {}) {
  auto encode_part = [&](std::string_view part, const std::vector<std::string>& texts) {
    auto o = encode;
    if (options.on_progress) {
      o.on_progress = [&](std::size_t done, std::size_t total) { options.on_progress(part, done, total); };
    }
    return encode_sentences(embedder, texts, o);
  };
  const auto queries = encode_part("queries", data.queries);
  const auto corpus = encode_part("corpus", data.documents);
  return evaluate_retrieval(data, queries, corpus, options);
}

}  // namespace vikcse
