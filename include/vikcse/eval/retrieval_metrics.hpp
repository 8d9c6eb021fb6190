// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file retrieval_metrics.hpp
/// Ranking metrics of an information-retrieval evaluation with binary relevance, defined as
/// sentence-transformers' `InformationRetrievalEvaluator.compute_metrics` defines them. For one
/// query with relevant set R (|R| >= 1) and ranked hits h_1, h_2, ... (rel_i = 1 when h_i is in R):
///
/// - Accuracy@k  = 1 when some h_i with i <= k is relevant, else 0
/// - Precision@k = (sum_{i<=k} rel_i) / k                         (k, even when fewer than k hits exist)
/// - Recall@k    = (sum_{i<=k} rel_i) / |R|
/// - MRR@k       = 1 / (rank of the first relevant hit) when it is <= k, else 0
/// - NDCG@k      = DCG@k / IDCG@k with DCG@k = sum_{i<=k} rel_i / log2(i + 1) and the ideal
///                 IDCG@k = sum_{i<=min(k, |R|)} 1 / log2(i + 1) (all of R ranked first)
/// - MAP@k       = (sum_{i<=k, rel_i = 1} Precision@i) / min(k, |R|)
///
/// Each reported number is the mean over the queries. Torch-free: the input is, per query, the
/// ranked corpus rows and the set of relevant rows.
///
/// Example:
/// ```
/// const std::vector<std::vector<std::size_t>> rankings = {{4, 7, 2}};
/// const std::vector<std::set<std::size_t>> relevant = {{2}};
/// const auto m = vikcse::retrieval_metrics(rankings, relevant);  // m.mrr.at(10) == 1.0 / 3
/// ```

#include <vikcse/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse {

/// The cut-offs k each metric is computed at (defaults: the numbers BEIR/MTEB tables quote, plus
/// accuracy and precision at 1/5/10).
struct RetrievalCutoffs {
  std::vector<std::size_t> accuracy = {1, 5, 10};     ///< Accuracy@k
  std::vector<std::size_t> precision = {1, 5, 10};    ///< Precision@k
  std::vector<std::size_t> recall = {1, 5, 10, 100};  ///< Recall@k
  std::vector<std::size_t> mrr = {10};                ///< MRR@k
  std::vector<std::size_t> ndcg = {10};               ///< NDCG@k
  std::vector<std::size_t> map = {100};               ///< MAP@k

  /// The largest cut-off: how many ranked hits per query the metrics read (0 when there is none).
  [[nodiscard]] std::size_t max_k() const {
    std::size_t k = 0;
    for (const auto* list : {&accuracy, &precision, &recall, &mrr, &ndcg, &map}) {
      for (const auto v : *list) k = std::max(k, v);
    }
    return k;
  }
};

/// Mean metrics over the evaluated queries, each keyed by its cut-off k; fractions in [0, 1].
struct RetrievalMetrics {
  std::size_t queries = 0;                  ///< number of queries averaged over
  std::map<std::size_t, double> accuracy;   ///< Accuracy@k
  std::map<std::size_t, double> precision;  ///< Precision@k
  std::map<std::size_t, double> recall;     ///< Recall@k
  std::map<std::size_t, double> mrr;        ///< MRR@k
  std::map<std::size_t, double> ndcg;       ///< NDCG@k
  std::map<std::size_t, double> map;        ///< MAP@k
};

/// The metric families of `RetrievalMetrics` with their names (`accuracy`, `precision`, `recall`,
/// `mrr`, `ndcg`, `map`: the names of the JSON keys `<name>@<k>`), in that order.
inline std::vector<std::pair<std::string, std::map<std::size_t, double>*>> metric_families(RetrievalMetrics& m) {
  return {{"accuracy", &m.accuracy}, {"precision", &m.precision}, {"recall", &m.recall},
          {"mrr", &m.mrr},           {"ndcg", &m.ndcg},           {"map", &m.map}};
}

/// Const overload of `metric_families`.
inline std::vector<std::pair<std::string, const std::map<std::size_t, double>*>> metric_families(
    const RetrievalMetrics& m) {
  return {{"accuracy", &m.accuracy}, {"precision", &m.precision}, {"recall", &m.recall},
          {"mrr", &m.mrr},           {"ndcg", &m.ndcg},           {"map", &m.map}};
}

/// The metric family named `name` (see `metric_families`) of `m`, or nullptr for another name.
inline std::map<std::size_t, double>* metric_family_or_null(RetrievalMetrics& m, std::string_view name) {
  for (auto& [family, values] : metric_families(m)) {
    if (family == name) return values;
  }
  return nullptr;
}

/// The metric family named `name` (see `metric_families`) of `m`.
/// @throws vikcse::invalid_argument for another name.
inline const std::map<std::size_t, double>& metric_family(const RetrievalMetrics& m, std::string_view name) {
  for (const auto& [family, values] : metric_families(m)) {
    if (family == name) return *values;
  }
  throw_error<invalid_argument>("metric_family: expected accuracy, precision, recall, mrr, ndcg or map, got '{}'",
                                name);
}

/// The metrics of the module comment, averaged over the queries: `rankings[q]` holds query q's
/// ranked corpus rows (best first; only the first `cutoffs.max_k()` are read, fewer are allowed when
/// the corpus is small) and `relevant[q]` the corpus rows relevant to it.
/// @throws vikcse::invalid_argument when the two lists differ in length or are empty, a query has no
///         relevant row (such queries are not evaluated; leave them out), a ranking repeats a row
///         within its first `max_k` hits, or a cut-off is 0.
inline RetrievalMetrics retrieval_metrics(std::span<const std::vector<std::size_t>> rankings,
                                          std::span<const std::set<std::size_t>> relevant,
                                          const RetrievalCutoffs& cutoffs = {}) {
  if (rankings.size() != relevant.size()) {
    throw_error<invalid_argument>("retrieval_metrics: {} rankings but {} relevant sets (one of each per query)",
                                  rankings.size(), relevant.size());
  }
  if (rankings.empty()) throw_error<invalid_argument>("retrieval_metrics: no queries to evaluate");
  RetrievalMetrics sums;
  const std::vector<std::pair<const std::vector<std::size_t>*, std::map<std::size_t, double>*>> wanted = {
      {&cutoffs.accuracy, &sums.accuracy}, {&cutoffs.precision, &sums.precision}, {&cutoffs.recall, &sums.recall},
      {&cutoffs.mrr, &sums.mrr},           {&cutoffs.ndcg, &sums.ndcg},           {&cutoffs.map, &sums.map}};
  for (const auto& [ks, sum] : wanted) {
    for (const auto k : *ks) {
      if (k == 0) throw_error<invalid_argument>("retrieval_metrics: a cut-off k must be >= 1, got 0");
      (*sum)[k] = 0.0;
    }
  }
  const auto max_k = cutoffs.max_k();
  for (std::size_t q = 0; q < rankings.size(); ++q) {
    const auto& rel = relevant[q];
    if (rel.empty()) {
      throw_error<invalid_argument>("retrieval_metrics: query {} has no relevant corpus row (leave such queries out)",
                                    q);
    }
    const auto n = std::min(rankings[q].size(), max_k);
    // hit[i] = rel_{i+1}; hits_upto[i] = number of relevant hits among the first i (hits_upto[0] = 0).
    std::vector<int> hit(n, 0);
    std::vector<std::size_t> hits_upto(n + 1, 0);
    std::set<std::size_t> seen;
    for (std::size_t i = 0; i < n; ++i) {
      const auto row = rankings[q][i];
      if (!seen.insert(row).second) {
        throw_error<invalid_argument>("retrieval_metrics: query {} ranks corpus row {} twice (again at rank {})", q,
                                      row, i + 1);
      }
      hit[i] = rel.contains(row) ? 1 : 0;
      hits_upto[i + 1] = hits_upto[i] + static_cast<std::size_t>(hit[i]);
    }
    const auto relevant_count = static_cast<double>(rel.size());
    auto hits_at = [&](std::size_t k) { return hits_upto[std::min(k, n)]; };
    for (auto& [k, sum] : sums.accuracy) sum += hits_at(k) > 0 ? 1.0 : 0.0;
    for (auto& [k, sum] : sums.precision) sum += static_cast<double>(hits_at(k)) / static_cast<double>(k);
    for (auto& [k, sum] : sums.recall) sum += static_cast<double>(hits_at(k)) / relevant_count;
    for (auto& [k, sum] : sums.mrr) {
      for (std::size_t i = 0; i < std::min(k, n); ++i) {
        if (hit[i] != 0) {
          sum += 1.0 / static_cast<double>(i + 1);
          break;
        }
      }
    }
    for (auto& [k, sum] : sums.ndcg) {
      double dcg = 0.0;
      for (std::size_t i = 0; i < std::min(k, n); ++i) {
        if (hit[i] != 0) dcg += 1.0 / std::log2(static_cast<double>(i + 2));
      }
      double ideal = 0.0;
      for (std::size_t i = 0; i < std::min(k, rel.size()); ++i) ideal += 1.0 / std::log2(static_cast<double>(i + 2));
      sum += dcg / ideal;
    }
    for (auto& [k, sum] : sums.map) {
      double precisions = 0.0;
      for (std::size_t i = 0; i < std::min(k, n); ++i) {
        if (hit[i] != 0) precisions += static_cast<double>(hits_upto[i + 1]) / static_cast<double>(i + 1);
      }
      sum += precisions / static_cast<double>(std::min(k, rel.size()));
    }
  }
  sums.queries = rankings.size();
  const auto count = static_cast<double>(rankings.size());
  for (auto& [name, family] : metric_families(sums)) {
    for (auto& [k, value] : *family) value /= count;
  }
  return sums;
}

}  // namespace vikcse
