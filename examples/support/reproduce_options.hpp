// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file reproduce_options.hpp
/// vikcse_reproduce's command line: its options (CLI11) and the checks across them. Torch-free, so
/// that the fuzz target `fuzz_cli` parses arbitrary command lines with the program's own parser.

#include "cli_checks.hpp"

#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vikcse::cli::reproduce {

namespace fs = std::filesystem;

struct Args {
  std::string method, backbone, setting, truncation = "sentence", select_on = "stsb-dev", device = "cpu";
  fs::path model, tokenizer, corpus, senteval, kb, captions, image_features, out = "vikcse-reproduce-out";
  std::int64_t steps = -1, batch_size = -1, epochs = -1, eval_steps = -1, seed = -1, max_length = -1;
  std::int64_t save_steps = -1, logging_steps = 1;
  double lr = -1;
  bool pad_to_max_length = false, lowercase_eval = false, csv_corpus = false, reference_delta_positions = false;
  bool dry_run = false, resume = false, bf16 = false;
  std::vector<std::string> tasks;
};

/// The command line (CLI11: --help, typed options, checks, errors naming the option). The
/// defaults are the reference setting of the method and backbone; `--dry-run` prints them.
inline void add_options(CLI::App& app, Args& a, bool& reference_code) {
  app.description("vikcse_reproduce: train one method of the paper tables and print our row beside the paper's");
  app.footer(
      "Usage: vikcse_reproduce --method simcse|promptbert|mcse|vikcse --model DIR --corpus FILE --senteval DIR "
      "[options]");
  app.add_option("--method", a.method, "the method")
      ->required()
      ->check(CLI::IsMember({"simcse", "promptbert", "mcse", "vikcse"}));
  app.add_option("--model", a.model, "Hugging Face BERT/RoBERTa checkpoint (config.json, weights; tokenizer files)")
      ->required()
      ->check(CLI::ExistingDirectory)
      ->group("Data");
  app.add_option("--tokenizer", a.tokenizer, "tokenizer directory (default: --model)")
      ->check(CLI::ExistingDirectory)
      ->group("Data");
  app.add_option("--corpus", a.corpus, "training sentences, one per line (wiki1m_for_simcse.txt)")
      ->required()
      ->check(CLI::ExistingFile)
      ->group("Data");
  app.add_option("--senteval", a.senteval, "SentEval data directory (holds downstream/); not needed with --dry-run")
      ->check(CLI::ExistingDirectory)
      ->group("Data");
  app.add_option("--kb", a.kb, "vikcse: knowledge-base features [M, D] (.npy/.safetensors)")
      ->check(CLI::ExistingFile)
      ->group("Data");
  app.add_option("--captions", a.captions, "mcse: one caption per line")->check(CLI::ExistingFile)->group("Data");
  app.add_option("--image-features", a.image_features, "mcse: image features [captions, 2048] (.npy/.safetensors)")
      ->check(CLI::ExistingFile)
      ->group("Data");
  const auto* settings = "Settings (default: the reference setting; --dry-run prints it)";
  app.add_option("--backbone", a.backbone, "default: from config.json's model_type and hidden_size")
      ->check(CLI::IsMember({"bert-base", "bert-large", "roberta-base", "roberta-large"}))
      ->group(settings);
  app.add_option("--setting", a.setting,
                 "paper row to compare with: wiki (simcse, promptbert), wiki+flickr|wiki+coco (mcse, vikcse)")
      ->group(settings);
  app.add_option("--steps", a.steps, "stop after N steps (default: the reference epochs)")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_option("--batch-size", a.batch_size,
                 "sentences per step: the global batch, which the ranks of a data-parallel run split")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_option("--lr", a.lr, "peak learning rate")->check(vikcse::cli::positive_real())->group(settings);
  app.add_option("--epochs", a.epochs, "passes over the corpus")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_option("--eval-steps", a.eval_steps, "evaluate every N steps")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_option("--seed", a.seed, "seed of the run")->check(vikcse::cli::non_negative_integer())->group(settings);
  app.add_option("--max-length", a.max_length, "token cap, counted as the method counts it (see --dry-run)")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_option("--tasks", a.tasks, "comma-separated STS tasks to report (default: the seven of the paper)")
      ->delimiter(',')
      ->group(settings);
  app.add_option("--out", a.out, "checkpoints and metrics.jsonl")->capture_default_str()->group(settings);
  app.add_option("--save-steps", a.save_steps,
                 "write OUT/last (model, optimizer, random state) every N steps, to resume from (default: "
                 "the evaluation interval)")
      ->check(vikcse::cli::positive_integer())
      ->group(settings);
  app.add_flag("--bf16", a.bf16,
               "bf16 mixed precision: the forward pass under autocast (for GPUs; on a CPU correct, not always faster); "
               "weights, optimizer state, losses and evaluation stay float32")
      ->group(settings);
  app.add_option("--logging-steps", a.logging_steps,
                 "read the loss and write a metrics line every N steps (and at evaluations); each read waits for "
                 "the GPU, so N > 1 lets CUDA steps queue without a host synchronisation")
      ->check(vikcse::cli::positive_integer())
      ->capture_default_str()
      ->group(settings);
  app.add_option("--device", a.device,
                 "where to train and evaluate: cpu, cuda (under torchrun: cuda:LOCAL_RANK, with NCCL) or cuda:N")
      ->check(vikcse::cli::device_name())
      ->capture_default_str()
      ->group(settings);
  app.add_flag("--resume", a.resume,
               "continue the run in OUT from OUT/last (after a kill or Ctrl-C); give the same options as the "
               "first run, and the result equals a run that was never stopped")
      ->group(settings);
  const auto* reference = "The reference code's own choices (each off: the library's protocol is the default)";
  app.add_option("--truncation", a.truncation,
                 "vikcse: sentence (cut the sentence, keep the template and its mask) or whole-sequence (cut the "
                 "templated string at --max-length, as the reference; rows that lose their mask leave the [MASK] "
                 "terms)")
      ->check(CLI::IsMember({"sentence", "whole-sequence"}))
      ->capture_default_str()
      ->group(reference);
  app.add_flag("--pad-to-max-length", a.pad_to_max_length,
               "pad every row to the longest possible row (the VIKCSE reference pads to 77)")
      ->group(reference);
  app.add_option("--select-on", a.select_on,
                 "stsb-dev or sts-test-avg (the seven STS test sets, VIKCSE's reference; optimistic scores, for "
                 "reproduction only)")
      ->check(CLI::IsMember({"stsb-dev", "sts-test-avg"}))
      ->capture_default_str()
      ->group(reference);
  app.add_flag("--lowercase-eval", a.lowercase_eval,
               "lower-case evaluation sentences (VIKCSE's reference, RoBERTa too)")
      ->group(reference);
  app.add_flag("--csv-corpus", a.csv_corpus,
               "read the corpus through a tab/quote CSV parser (VIKCSE's reference: quoted lines merge, 1,000,000 "
               "wiki1m lines give 995,447 rows) instead of line by line")
      ->group(reference);
  app.add_flag("--reference-delta-positions", a.reference_delta_positions,
               "promptbert on RoBERTa: δ-pass positions from 0 (PromptBERT's bug) instead of 2")
      ->group(reference);
  app.add_flag("--reference-code", reference_code, "all of the above that apply to the method")->group(reference);
  app.add_flag("--dry-run", a.dry_run, "print the effective settings and the first training batch, then exit");
}

/// The checks across options, and what `--reference-code` implies.
/// @throws vikcse::invalid_argument naming the options.
inline Args finish(Args a, bool reference_code) {
  if (a.truncation == "whole-sequence" && a.method != "vikcse") {
    throw vikcse::invalid_argument("--truncation whole-sequence is VIKCSE's reference rule (--method vikcse)");
  }
  if (reference_code) {
    if (a.method == "vikcse") {
      a.truncation = "whole-sequence";
      a.pad_to_max_length = true;
      a.select_on = "sts-test-avg";
      a.lowercase_eval = true;
      a.csv_corpus = true;
    }
    if (a.method == "promptbert") a.reference_delta_positions = true;
  }
  if (a.senteval.empty() && !a.dry_run) throw vikcse::invalid_argument("--senteval DIR is required (see --help)");
  if (!a.dry_run && a.method == "vikcse" && a.kb.empty())
    throw vikcse::invalid_argument("--method vikcse needs --kb FILE");
  if (!a.dry_run && a.method == "mcse" && (a.captions.empty() || a.image_features.empty())) {
    throw vikcse::invalid_argument("--method mcse needs --captions FILE and --image-features FILE");
  }
  if (a.resume && !a.dry_run && !fs::is_regular_file(a.out / "last" / "trainer_state.json")) {
    throw vikcse::invalid_argument(
        fmt::format("--resume: {} holds no checkpoint to continue from (expected {}); run once without --resume",
                    (a.out / "last").string(), (a.out / "last" / "trainer_state.json").string()));
  }
  if (a.tokenizer.empty()) a.tokenizer = a.model;
  if (a.tasks.empty()) a.tasks = {"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"};
  return a;
}

}  // namespace vikcse::cli::reproduce
