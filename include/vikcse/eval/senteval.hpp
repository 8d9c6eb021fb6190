// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file senteval.hpp
/// A SentEval-like engine independent of any model: give it an `Embedder` (sentences -> `[N, D]`)
/// and a SentEval data directory, ask for tasks by name, get an `EvalReport`. Embeddings can be
/// cached on disk per model + pooler + dataset.
///
/// Example:
/// ```
/// vikcse::SentEvalOptions options;
/// options.senteval_dir = "data/senteval";
/// vikcse::SentEval engine(my_embedder, options);
/// auto report = engine.run({"sts"});
/// std::cout << vikcse::format_sts_table(report.sts);
/// ```

#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/embedding_cache.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/eval/transfer.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse {

/// Options of the `SentEval` engine.
struct SentEvalOptions {
  std::filesystem::path senteval_dir;  ///< directory holding `downstream/`
  EncodeOptions encode;                ///< batching (batch size 128, sorted by length)
  StsEvalOptions sts;                  ///< STS options (alignment/uniformity on)
  TransferOptions transfer = TransferOptions::for_mode(TransferMode::test);  ///< classifier protocol
  std::optional<std::filesystem::path> cache_dir;  ///< embedding cache directory (none: no cache)
  /// Model identity for the cache key. Make it name the model's contents (e.g. with
  /// `checkpoint_content_hash` and `tokenizer_content_hash`), not only its path, or a checkpoint rewritten in place
  /// is served stale.
  std::string model_id = "model";
  std::string pooler_id = "pooler";  ///< pooler identity (with template) for the cache key
  /// Progress: (dataset being encoded, sentences done, sentences in that dataset).
  std::function<void(std::string_view, std::size_t, std::size_t)> on_progress;
};

/// Expands task groups: `sts` (the seven paper STS tasks), `transfer` (MR, CR, SUBJ, MPQA, SST2,
/// TREC, MRPC), `all` (both); other names pass through. Duplicates are removed, order kept.
inline std::vector<std::string> expand_task_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& n : names) {
    if (n == "sts" || n == "all") {
      for (const auto& t : sts_task_names()) add(t);
    }
    if (n == "transfer" || n == "all") {
      for (const auto& t : transfer_task_names()) {
        if (t != "SST5") add(t);
      }
    }
    if (n != "sts" && n != "transfer" && n != "all") add(n);
  }
  return out;
}

/// True when `name` is an STS task (`STS12`..`STS16`, `STSBenchmark[-dev]`, `SICKRelatedness[-dev]`).
inline bool is_sts_task(std::string_view name) {
  return name.starts_with("STS") || name.starts_with("SICKRelatedness");
}

/// The evaluation engine.
class SentEval {
public:
  /// An engine that encodes with `embedder`.
  SentEval(Embedder embedder, SentEvalOptions options) : embedder_(std::move(embedder)), options_(std::move(options)) {
    if (!embedder_) throw_error<invalid_argument>("SentEval: the embedder callback is empty");
  }

  /// Embeddings of `sentences` (row i = sentence i), from the cache when present.
  torch::Tensor embed(const std::string& dataset, const std::vector<std::string>& sentences) {
    std::optional<EmbeddingCache> cache;
    const EmbeddingCacheKey key{options_.model_id, options_.pooler_id, dataset};
    if (options_.cache_dir) {
      cache.emplace(*options_.cache_dir);
      if (auto hit = cache->load(key, sentences)) {
        if (options_.on_progress) options_.on_progress(dataset, sentences.size(), sentences.size());
        return *hit;
      }
    }
    auto encode = options_.encode;
    if (options_.on_progress) {
      encode.on_progress = [&](std::size_t done, std::size_t total) { options_.on_progress(dataset, done, total); };
    }
    auto embeddings = encode_sentences(embedder_, sentences, encode);
    if (cache) cache->store(key, sentences, embeddings);
    return embeddings;
  }

  /// Runs one STS task by name.
  StsTaskResult sts(const std::string& name) {
    const auto task = read_sts_task(options_.senteval_dir, name);
    const auto embeddings = embed(name, sts_sentences(task));
    const auto n = static_cast<std::int64_t>(task.size());
    return evaluate_sts(task, embeddings.narrow(0, 0, n), embeddings.narrow(0, n, n), options_.sts);
  }

  /// Runs one transfer task by name.
  TransferTaskResult transfer(const std::string& name) {
    const auto task = read_transfer_task(options_.senteval_dir, name);
    return evaluate_transfer(task, PartEmbedder([&](const std::vector<std::string>& s, const std::string& part) {
                               return embed(name + "-" + part, s);
                             }),
                             options_.transfer);
  }

  /// Runs the named tasks (groups expanded by `expand_task_names`) and collects the report.
  EvalReport run(const std::vector<std::string>& names) {
    EvalReport report;
    report.metadata = {{"model", options_.model_id},
                       {"pooler", options_.pooler_id},
                       {"batch_size", options_.encode.batch_size},
                       {"kfold", options_.transfer.kfold},
                       {"transfer_mode", std::string(to_string(options_.transfer.mode))},
                       {"seed", options_.transfer.seed},
                       {"sts_cosine", std::string(to_string(options_.sts.cosine))}};
    report.transfer_metric = reported_transfer_metric(options_.transfer.mode);
    for (const auto& name : expand_task_names(names)) {
      if (is_sts_task(name)) {
        report.sts.push_back(sts(name));
      } else {
        report.transfer.push_back(transfer(name));
      }
    }
    return report;
  }

  /// The options.
  [[nodiscard]] const SentEvalOptions& options() const { return options_; }

private:
  Embedder embedder_;
  SentEvalOptions options_;
};

}  // namespace vikcse
