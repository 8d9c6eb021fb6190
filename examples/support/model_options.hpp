// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file model_options.hpp
/// The model options `vikcse_encode` and `vikcse_search` share: which directory, and what to
/// override of the embedding settings it carries (encoder_options.hpp turns them into
/// vikcse::SentenceEncoderOptions), a progress display for encoding that draws a bar on a terminal
/// and prints a line per tenth otherwise, and the line reader of both programs' input files.
/// Torch-free, so that the fuzz target `fuzz_cli` parses command lines with the programs' own parsers.

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/error.hpp>
#include <vikcse/util/progress.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace vikcse::cli {

/// Command-line form of `SentenceEncoderOptions`.
struct ModelArgs {
  std::filesystem::path model;
  std::optional<std::string> pooler, template_text;
  std::optional<std::filesystem::path> tokenizer;
  std::optional<std::int64_t> max_length;
  bool lowercase = false, normalize = false, fp32 = false, bf16 = false, int8 = false;
  std::int64_t batch_size = 64;
  int threads = 0;
  bool progress = true;
};

/// Adds the model options to `app`.
inline void add_model_options(CLI::App& app, ModelArgs& a) {
  app.add_option("--model", a.model,
                 "model directory: a checkpoint saved by this library (vikcse_embedding.json), a sentence-transformers "
                 "directory (modules.json), or a Hugging Face checkpoint with --pooler")
      ->required()
      ->check(CLI::ExistingDirectory)
      ->group("Model");
  app.add_option("--pooler", a.pooler, "pooler, overriding the model's own")
      ->check(CLI::IsMember({"cls", "cls_before_pooler", "avg", "avg_top2", "avg_first_last", "mask", "max",
                             "mean_sqrt_len", "weighted_mean", "last_token"}))
      ->group("Model");
  app.add_option("--template", a.template_text, "prompt template with [X] and one [MASK] (the mask pooler)")
      ->group("Model");
  app.add_option("--tokenizer", a.tokenizer, "tokenizer files from DIR instead of the model directory")
      ->check(CLI::ExistingDirectory)
      ->group("Model");
  app.add_option("--max-length", a.max_length, "tokens per row; longer sentences are cut")
      ->check(positive_integer())
      ->group("Model");
  app.add_flag("--lowercase", a.lowercase, "lower-case sentences before tokenising")->group("Model");
  app.add_flag("--normalize", a.normalize, "L2-normalise the embeddings")->group("Model");
  // Precision: one flag each; none of them is `automatic` (inference/precision.hpp).
  auto* fp32 = app.add_flag("--fp32", a.fp32, "run the encoder in float32: the model's exact function")->group("Run");
  auto* bf16 = app.add_flag("--bf16", a.bf16, "run the encoder in bfloat16 (fast on CPUs with AVX512-BF16)")
                   ->excludes(fp32)
                   ->group("Run");
  app.add_flag("--int8", a.int8,
               "run the encoder's projections in int8 (dynamic quantization, CPU only). Without --fp32/--bf16/--int8 "
               "the precision is automatic: bf16 on a CPU with AVX512-BF16 or AMX, else int8 on a CPU, fp32 on a GPU "
               "(benchmarks/sentence_encoder_throughput measures each one's speed and STS change)")
      ->excludes(fp32)
      ->excludes(bf16)
      ->group("Run");
  app.add_option("--batch-size", a.batch_size, "sentences per encoder call")
      ->check(positive_integer())
      ->capture_default_str()
      ->group("Run");
  add_run_options(app, a.threads, a.progress);
}

/// `EncodeOptions::on_progress` for a program: a bar with ETA on a terminal, else a line at every
/// tenth of the work (and at the end), so logs stay short.
class EncodeProgress {
public:
  explicit EncodeProgress(std::string label, std::string unit = "sent")
      : label_(std::move(label)), unit_(std::move(unit)) {}
  void operator()(std::size_t done, std::size_t total) {
    if (interactive_) {
      if (!bar_)
        bar_ = std::make_unique<ProgressBar>(std::cerr, total, ProgressBarOptions{.label = label_, .unit = unit_});
      bar_->set(done);
      if (done >= total) bar_.reset();
      return;
    }
    if (done == 0) start_ = std::chrono::steady_clock::now();
    const std::size_t tenth = total == 0 ? 10 : done * 10 / total;
    if (done != 0 && tenth == last_tenth_ && done < total) return;
    last_tenth_ = tenth;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::cerr << format_progress({done, total, seconds, label_, unit_, {}, 30}) << '\n';
  }

private:
  std::string label_;
  std::string unit_;
  bool interactive_ = ::isatty(::fileno(stderr)) != 0;
  std::unique_ptr<ProgressBar> bar_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::size_t last_tenth_ = 0;
};

/// Reads `path` (or stdin for "-") as one text per line (a final '\r' is dropped, so CRLF files
/// read as LF files). Empty lines are texts too, unless `refuse_empty`: then an empty line is an
/// error naming the file and line.
/// @throws vikcse::data_error naming the file when it cannot be read or holds no line.
inline std::vector<std::string> read_lines(const std::string& path, bool refuse_empty) {
  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string name = path == "-" ? std::string("<stdin>") : path;
  if (path != "-") {
    file.open(path);
    if (!file) throw_error<data_error>("{}: cannot open for reading", path);
    in = &file;
  }
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(*in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (refuse_empty && line.find_first_not_of(" \t") == std::string::npos) {
      throw_error<data_error>("{}:{}: empty line (every line must hold a text)", name, lines.size() + 1);
    }
    lines.push_back(line);
  }
  if (in->bad()) throw_error<data_error>("{}: reading failed after line {}", name, lines.size());
  if (lines.empty()) throw_error<data_error>("{}: no text (the input is empty)", name);
  return lines;
}

}  // namespace vikcse::cli
