// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file sts.hpp
/// The SentEval STS protocol (README.md#evaluation-protocol): cosine of the two embeddings of each pair (NaN -> 0),
/// Pearson and Spearman per subset, over the concatenation of all subsets ("all", the number papers
/// report), their plain mean and their mean weighted by subset size; plus MCSE's alignment and
/// uniformity diagnostics over SentEval's batches.
///
/// The cosine is computed in float32 by default, the way SentEval computes it on the float32
/// embeddings its batchers return: `dot(u, v) / (sqrt(dot(u, u)) * sqrt(dot(v, v)))` with every
/// operation rounded to float32. The precision matters for Spearman: float32 rounding makes pairs
/// tie (identical sentences all at 1 or a neighbouring float, near-constant vectors at one value)
/// where float64 keeps them apart, and ties change the ranks. `CosinePrecision::float64` is offered
/// for comparison.

#include <vikcse/error.hpp>
#include <vikcse/eval/alignment_uniformity.hpp>
#include <vikcse/eval/correlation.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/senteval_data.hpp>

#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// Arithmetic of the STS cosine.
enum class CosinePrecision {
  float32,  ///< SentEval's: every operation in float32 (the digits SentEval prints)
  float64,  ///< embeddings widened to float64 first (breaks the float32 ties apart)
};

/// The name of a cosine precision (`float32`, `float64`).
inline std::string_view to_string(CosinePrecision precision) {
  return precision == CosinePrecision::float32 ? "float32" : "float64";
}

/// Options of the STS evaluation.
struct StsEvalOptions {
  bool alignment_uniformity = true;                   ///< compute MCSE's alignment/uniformity diagnostics
  std::int64_t diagnostic_batch_size = 128;           ///< SentEval batch size the diagnostics are averaged over
  double positive_threshold = 4.0;                    ///< pairs with gold >= this are "positive" for alignment
  CosinePrecision cosine = CosinePrecision::float32;  ///< arithmetic of the cosine (SentEval: float32)
};

/// Result for one subset (or one split for STS-B / SICK-R).
struct StsSubsetResult {
  std::string name;                  ///< subset name
  std::size_t n = 0;                 ///< number of pairs
  double pearson = 0.0;              ///< Pearson of cosine vs gold
  double spearman = 0.0;             ///< Spearman of cosine vs gold
  double alignment = std::nan("");   ///< mean over SentEval batches (NaN when not computed)
  double uniformity = std::nan("");  ///< mean over SentEval batches (NaN when not computed)
};

/// A metric aggregated over subsets: "all" (concatenation), "mean", "wmean" (weighted by size).
struct StsAggregate {
  double all = 0.0;    ///< over the concatenation of all pairs (for alignment/uniformity: mean over all batches)
  double mean = 0.0;   ///< plain mean of the per-subset values
  double wmean = 0.0;  ///< mean of the per-subset values weighted by their pair counts
};

/// Result of one STS task.
struct StsTaskResult {
  std::string name;                      ///< task name (`STS12`, `STSBenchmark`, ...)
  std::size_t n = 0;                     ///< total pairs
  std::vector<StsSubsetResult> subsets;  ///< per subset, in SentEval order
  StsAggregate pearson;                  ///< Pearson aggregates
  StsAggregate spearman;                 ///< Spearman aggregates; `spearman.all` is the paper number
  StsAggregate alignment{std::nan(""), std::nan(""), std::nan("")};   ///< alignment aggregates
  StsAggregate uniformity{std::nan(""), std::nan(""), std::nan("")};  ///< uniformity aggregates
};

namespace detail::eval {

/// SentEval's similarity `nan_to_num(cosine(nan_to_num(u), nan_to_num(v)))` with
/// `cosine(u, v) = dot(u, v) / (norm(u) * norm(v))` and `norm(u) = sqrt(dot(u, u))`, each step in the
/// arithmetic of `precision` (numpy keeps float32 inputs in float32). As in numpy, NaN becomes 0 and
/// +-inf the largest finite value of that type. The float32 sums run in LibTorch's order rather than
/// the BLAS order numpy uses, so a cosine can differ from SentEval's in its last bits unless the sums
/// are exact; the results are returned widened to double.
inline std::vector<double> senteval_cosines(const torch::Tensor& a, const torch::Tensor& b,
                                            CosinePrecision precision = CosinePrecision::float32) {
  torch::NoGradGuard no_grad;
  const auto dtype = precision == CosinePrecision::float32 ? torch::kFloat : torch::kDouble;
  const auto x = torch::nan_to_num(a.detach().to(torch::kCPU, dtype), 0.0);
  const auto y = torch::nan_to_num(b.detach().to(torch::kCPU, dtype), 0.0);
  const auto norms = (x * x).sum(1).sqrt() * (y * y).sum(1).sqrt();
  const auto cos = torch::nan_to_num((x * y).sum(1) / norms, 0.0).to(torch::kDouble).contiguous();
  return {cos.data_ptr<double>(), cos.data_ptr<double>() + cos.numel()};
}

inline StsAggregate aggregate(const std::vector<double>& values, const std::vector<std::size_t>& weights, double all) {
  StsAggregate a{all, 0.0, 0.0};
  double total = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    a.mean += values[i];
    a.wmean += values[i] * static_cast<double>(weights[i]);
    total += static_cast<double>(weights[i]);
  }
  a.mean /= static_cast<double>(values.size());
  a.wmean /= total;
  return a;
}

}  // namespace detail::eval

/// Evaluates one STS task from precomputed embeddings: row k of `first` / `second` belongs to the
/// k-th pair of the task's subsets concatenated in order.
/// @throws vikcse::invalid_argument when the row counts do not match the task.
inline StsTaskResult evaluate_sts(const StsTaskData& task, const torch::Tensor& first, const torch::Tensor& second,
                                  const StsEvalOptions& options = {}) {
  const auto n = static_cast<std::int64_t>(task.size());
  if (first.dim() != 2 || second.dim() != 2 || first.size(0) != n || second.size(0) != n) {
    throw_error<invalid_argument>("evaluate_sts({}): expected two [{}, D] embedding tensors, got {} and {} rows",
                                  task.name, n, first.dim() == 2 ? first.size(0) : -1,
                                  second.dim() == 2 ? second.size(0) : -1);
  }
  if (task.subsets.empty()) throw_error<invalid_argument>("evaluate_sts({}): the task has no subsets", task.name);
  if (options.diagnostic_batch_size <= 0) {
    throw_error<invalid_argument>("evaluate_sts: diagnostic_batch_size must be > 0, got {}",
                                  options.diagnostic_batch_size);
  }
  StsTaskResult result;
  result.name = task.name;
  result.n = task.size();
  std::vector<double> all_sys, all_gold, subset_pearson, subset_spearman, subset_align, subset_uniform;
  std::vector<double> all_align_batches, all_uniform_batches;
  std::vector<std::size_t> weights;
  std::int64_t offset = 0;
  for (const auto& subset : task.subsets) {
    const auto count = static_cast<std::int64_t>(subset.size());
    const auto a = first.narrow(0, offset, count);
    const auto b = second.narrow(0, offset, count);
    offset += count;
    const auto sys = detail::eval::senteval_cosines(a, b, options.cosine);
    StsSubsetResult r;
    r.name = subset.name;
    r.n = subset.size();
    r.pearson = pearson(sys, subset.gold);
    r.spearman = spearman(sys, subset.gold);
    if (options.alignment_uniformity) {
      std::vector<double> align_batches, uniform_batches;
      for (std::int64_t start = 0; start < count; start += options.diagnostic_batch_size) {
        const auto len = std::min(options.diagnostic_batch_size, count - start);
        std::vector<std::int64_t> positives;
        for (std::int64_t i = start; i < start + len; ++i) {
          if (subset.gold[static_cast<std::size_t>(i)] >= options.positive_threshold) positives.push_back(i - start);
        }
        const auto ba = a.narrow(0, start, len);
        const auto bb = b.narrow(0, start, len);
        const auto idx = torch::tensor(positives, torch::kLong);
        align_batches.push_back(alignment(ba.index_select(0, idx), bb.index_select(0, idx)));
        uniform_batches.push_back(uniformity(torch::cat({ba, bb}, 0)));
      }
      auto mean_of = [](const std::vector<double>& v) {
        double s = 0.0;
        for (double x : v) s += x;
        return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
      };
      r.alignment = mean_of(align_batches);
      r.uniformity = mean_of(uniform_batches);
      all_align_batches.insert(all_align_batches.end(), align_batches.begin(), align_batches.end());
      all_uniform_batches.insert(all_uniform_batches.end(), uniform_batches.begin(), uniform_batches.end());
      subset_align.push_back(r.alignment);
      subset_uniform.push_back(r.uniformity);
    }
    all_sys.insert(all_sys.end(), sys.begin(), sys.end());
    all_gold.insert(all_gold.end(), subset.gold.begin(), subset.gold.end());
    subset_pearson.push_back(r.pearson);
    subset_spearman.push_back(r.spearman);
    weights.push_back(r.n);
    result.subsets.push_back(r);
  }
  result.pearson = detail::eval::aggregate(subset_pearson, weights, pearson(all_sys, all_gold));
  result.spearman = detail::eval::aggregate(subset_spearman, weights, spearman(all_sys, all_gold));
  if (options.alignment_uniformity) {
    auto mean_of = [](const std::vector<double>& v) {
      double s = 0.0;
      for (double x : v) s += x;
      return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
    };
    result.alignment = detail::eval::aggregate(subset_align, weights, mean_of(all_align_batches));
    result.uniformity = detail::eval::aggregate(subset_uniform, weights, mean_of(all_uniform_batches));
  }
  return result;
}

/// All sentences of a task in the layout `evaluate_sts` expects: first sentences of every pair
/// (subsets concatenated), then second sentences.
inline std::vector<std::string> sts_sentences(const StsTaskData& task) {
  std::vector<std::string> out;
  out.reserve(2 * task.size());
  for (const auto& s : task.subsets) out.insert(out.end(), s.first.begin(), s.first.end());
  for (const auto& s : task.subsets) out.insert(out.end(), s.second.begin(), s.second.end());
  return out;
}

/// Encodes the task's sentences with `embedder` and evaluates it.
inline StsTaskResult evaluate_sts(const StsTaskData& task, const Embedder& embedder, const EncodeOptions& encode = {},
                                  const StsEvalOptions& options = {}) {
  const auto embeddings = encode_sentences(embedder, sts_sentences(task), encode);
  const auto n = static_cast<std::int64_t>(task.size());
  return evaluate_sts(task, embeddings.narrow(0, 0, n), embeddings.narrow(0, n, n), options);
}

}  // namespace vikcse
