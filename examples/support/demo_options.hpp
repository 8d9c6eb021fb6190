// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file demo_options.hpp
/// vikcse_demo's command line. Torch-free, so that the fuzz target `fuzz_cli` parses arbitrary
/// command lines with the program's own parser.

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vikcse::cli::demo {

struct Args {
  std::filesystem::path out = "vikcse-demo-out";
  std::int64_t seeds = 3, first_seed = 1, steps = 300, batch_size = 32, eval_steps = 100, layers = 2, hidden = 64;
  std::int64_t warmup_steps = 60, stage1_steps = 150;
  double lr = 3e-3, init_std = 0.1, mcse_lambda = 1.0;
  std::vector<std::string> methods = {"simcse", "promptbert", "mcse", "vikcse", "vikcse-ext"};
  bool require_criteria = false;
  std::string extension = "contrast", retrieval_key = "batch_keys";
};

inline void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_demo: train every method of the library on a small world made so that they should differ (filler "
      "words an untrained encoder is misled by, synonyms whose kinship only images show), over several seeds; print "
      "the comparison table (mean ± sd over seeds), the criteria the world is meant to show and whether this run "
      "met them, and the path of a picture of the dev curves. All data is made by the program (see the header of its "
      "output; README.md, \"The demo\").");
  app.add_option("--out", a.out, "output directory (runs, results.json, dev-curves.png, demo data)")
      ->capture_default_str();
  app.add_option("--seeds", a.seeds, "training seeds per method (each cell is mean ± sd over them)")
      ->check(positive_integer())
      ->capture_default_str();
  app.add_option("--first-seed", a.first_seed, "the first seed (the seeds are first, first+1, ...)")
      ->check(non_negative_integer())
      ->capture_default_str();
  app.add_option("--steps", a.steps, "training steps of every run")->check(positive_integer())->capture_default_str();
  app.add_option("--methods", a.methods,
                 "methods to train, comma-separated: simcse, promptbert, mcse, vikcse (also trains its text-only "
                 "ablation), vikcse-ext")
      ->delimiter(',')
      ->check(CLI::IsMember({"simcse", "promptbert", "mcse", "vikcse", "vikcse-ext"}))
      ->capture_default_str();
  app.add_option("--batch-size", a.batch_size, "sentences per step")->check(positive_integer())->capture_default_str();
  app.add_option("--eval-steps", a.eval_steps, "evaluate on the dev pairs every N steps")
      ->check(positive_integer())
      ->capture_default_str();
  app.add_option("--warmup-steps", a.warmup_steps, "linear warm-up of the learning rate over the first N steps")
      ->check(non_negative_integer())
      ->capture_default_str();
  app.add_option("--lr", a.lr, "learning rate of every method")->check(positive_real())->capture_default_str();
  app.add_option("--mcse-lambda", a.mcse_lambda, "MCSE's weight of the text–image term")
      ->check(positive_real())
      ->capture_default_str();
  app.add_option("--layers", a.layers, "encoder layers")->check(positive_integer())->capture_default_str();
  app.add_option("--hidden", a.hidden, "encoder width")->check(positive_integer())->capture_default_str();
  app.add_option("--init-std", a.init_std, "std of the random encoder's initial weights")
      ->check(positive_real())
      ->capture_default_str();
  app.add_option("--extension", a.extension, "kb_grad_mode of the vikcse-ext row (extensions of this library)")
      ->check(CLI::IsMember({"contrast", "straight_through", "soft"}))
      ->capture_default_str();
  app.add_option("--retrieval-key", a.retrieval_key,
                 "what retrieves the vikcse-ext row's knowledge: batch_keys (stage 1's text embedding of the "
                 "sentence, an extension) or query (the projected query, as the reference)")
      ->check(CLI::IsMember({"batch_keys", "query"}))
      ->capture_default_str();
  app.add_option("--stage1-steps", a.stage1_steps,
                 "training steps of VIKCSE's stage 1 (the image-text model that makes the knowledge base), per seed")
      ->check(positive_integer())
      ->capture_default_str();
  app.add_flag("--require-criteria", a.require_criteria, "exit with status 3 when a criterion is not met");
}

}  // namespace vikcse::cli::demo
