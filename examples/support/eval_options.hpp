// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file eval_options.hpp
/// vikcse_eval's command line and the checks across its options. Torch-free, so that the fuzz target
/// `fuzz_cli` parses arbitrary command lines with the program's own parser.

#include "cli_checks.hpp"

#include <vikcse/error.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vikcse::cli::eval {

struct Args {
  std::optional<std::filesystem::path> model, random_model, tokenizer, senteval, json, cache;
  std::vector<std::filesystem::path> pairs, retrieval;
  std::int64_t layers = 0;
  std::uint64_t init_seed = 42;
  std::uint64_t seed = 1111;
  std::string sts_cosine = "float32";
  std::string pooler = "cls_before_pooler";
  std::string first = "embeddings";
  std::string template_text = "This sentence : \"[X]\" means [MASK] .";
  bool append_period = true;
  bool lowercase = false;
  std::vector<std::string> tasks = {"sts"};
  std::string mode = "test";
  std::int64_t batch_size = 128;
  int threads = 0;
  bool progress = true;
  bool bf16 = false;
};

/// The command line of vikcse_eval (CLI11: --help, typed options, checks, errors naming the option).
inline void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_eval: SentEval-equivalent evaluation of a sentence encoder, and evaluation on your own scored pairs "
      "(--pairs) and BEIR / MTEB retrieval data (--retrieval)");
  app.footer(
      "Usage: vikcse_eval (--model DIR | --random-model DIR) [--senteval DIR] [--pairs FILE.tsv] [--retrieval DIR] "
      "[options]\n(at least one of --senteval, --pairs and --retrieval)");
  auto* model =
      app.add_option("--model", a.model, "Hugging Face checkpoint directory (config.json, weights, tokenizer files)")
          ->check(CLI::ExistingDirectory)
          ->group("Model");
  auto* random = app.add_option("--random-model", a.random_model,
                                "demo: random weights from DIR/config.json (+ DIR's tokenizer files)")
                     ->check(CLI::ExistingDirectory)
                     ->group("Model");
  model->excludes(random);
  app.add_option("--layers", a.layers, "with --random-model: override num_hidden_layers (small = fast)")
      ->check(positive_integer())
      ->group("Model");
  app.add_option("--init-seed", a.init_seed, "with --random-model: initialisation seed")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group("Model");
  app.add_option("--tokenizer", a.tokenizer, "tokenizer files from DIR instead of the model directory")
      ->check(CLI::ExistingDirectory)
      ->group("Model");
  app.add_option("--pooler", a.pooler,
                 "cls = [CLS] + MLP head: the trained MLP of a checkpoint written by this library "
                 "(vikcse_heads.safetensors), else BERT's pretrained pooler; the output says which")
      ->check(CLI::IsMember({"cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2", "mask", "max",
                             "mean_sqrt_len", "weighted_mean", "last_token"}))
      ->capture_default_str()
      ->group("Pooler");
  app.add_option("--first", a.first, "avg_first_last's first layer")
      ->check(CLI::IsMember({"embeddings", "layer1"}))
      ->capture_default_str()
      ->group("Pooler");
  app.add_option("--template", a.template_text, "mask pooler template with [X] and exactly one [MASK]")
      ->capture_default_str()
      ->group("Pooler");
  app.add_flag_callback(
         "--no-append-period", [&a] { a.append_period = false; },
         "mask pooler: do not append '.' to sentences (PromptBERT eval appends it)")
      ->group("Pooler");
  app.add_flag("--lowercase", a.lowercase, "lower-case sentences before templating (VIKCSE evaluation)")
      ->group("Pooler");
  auto* senteval = app.add_option("--senteval", a.senteval, "SentEval data directory (holds downstream/)")
                       ->check(CLI::ExistingDirectory)
                       ->group("Tasks");
  app.add_option("--tasks", a.tasks,
                 "with --senteval, comma list: sts, transfer, all, STS12..STS16, STSBenchmark, SICKRelatedness, "
                 "STSBenchmark-dev, SICKRelatedness-dev, MR, CR, SUBJ, MPQA, SST2, SST5, TREC, MRPC")
      ->delimiter(',')
      ->capture_default_str()
      ->needs(senteval)
      ->group("Tasks");
  app.add_option("--pairs", a.pairs,
                 "your scored pairs: a TSV of sentence1<TAB>sentence2<TAB>score (any numeric scale; a first row "
                 "whose score is not a number is a header); reports Spearman and Pearson x 100 of the cosine "
                 "(--sts-cosine arithmetic) against the score, like the STS table. Repeatable")
      ->check(CLI::ExistingFile)
      ->group("Your data");
  app.add_option("--retrieval", a.retrieval,
                 "a BEIR / MTEB retrieval directory: queries.jsonl ({\"_id\", \"text\"}), corpus.jsonl ({\"_id\", "
                 "\"title\", \"text\"}; a document is title + ' ' + text when the title is non-empty, else text) "
                 "and qrels/test.tsv (query-id<TAB>corpus-id<TAB>score, relevant when score > 0). Queries with no "
                 "relevant document are not evaluated; the corpus is ranked by exact cosine (ties: the earlier "
                 "document); texts longer than the model's positions are truncated. Reports MRR@10, NDCG@10, "
                 "MAP@100, Recall@1/5/10/100, Accuracy@1/5/10 and Precision@1/5/10 x 100, as sentence-transformers' "
                 "InformationRetrievalEvaluator defines them. Repeatable")
      ->check(CLI::ExistingDirectory)
      ->group("Your data");
  app.add_option("--mode", a.mode,
                 "transfer classifier protocol: 10-fold Adam (test; reports the test accuracy, SentEval acc) or "
                 "5-fold RMSprop (fast; reports the cross-validation accuracy, SentEval devacc)")
      ->check(CLI::IsMember({"test", "fast"}))
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--seed", a.seed, "seed of the transfer tasks' folds and classifiers (SentEval's 1111)")
      ->check(non_negative_integer())
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--sts-cosine", a.sts_cosine,
                 "arithmetic of the STS cosine (float32 as SentEval; float64 breaks float32 ties apart and can "
                 "move a Spearman)")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--batch-size", a.batch_size, "sentences per encoder call")
      ->check(positive_integer())
      ->capture_default_str()
      ->group("Run");
  app.add_option("--cache", a.cache,
                 "SentEval tasks: cache embeddings in DIR, keyed by the contents of the weights and tokenizer files, "
                 "the pooler (and "
                 "template), the precision and the dataset")
      ->group("Run");
  app.add_option("--json", a.json, "write every number as JSON (atomically)")->check(writable_file())->group("Run");
  app.add_flag("--bf16", a.bf16,
               "encode in bfloat16 (fast on CPUs with AVX512-BF16; benchmarks/sentence_encoder_throughput measures "
               "what it costs in Spearman)")
      ->group("Run");
  add_run_options(app, a.threads, a.progress);
}

/// The checks across options. @throws vikcse::invalid_argument when the model or the data to
/// evaluate on is missing.
inline void finish(const Args& a) {
  if (!a.model && !a.random_model) throw invalid_argument("give one of --model DIR or --random-model DIR");
  if (!a.senteval && a.pairs.empty() && a.retrieval.empty()) {
    throw invalid_argument(
        "nothing to evaluate: give at least one of --senteval DIR, --pairs FILE.tsv or --retrieval DIR");
  }
}

}  // namespace vikcse::cli::eval
