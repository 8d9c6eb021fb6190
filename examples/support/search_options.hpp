// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file search_options.hpp
/// vikcse_search's command line and the check across its options. Torch-free, so that the fuzz
/// target `fuzz_cli` parses arbitrary command lines with the program's own parser.

#include "cli_checks.hpp"
#include "model_options.hpp"

#include <vikcse/error.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vikcse::cli::search {

struct Args {
  ModelArgs model;
  std::filesystem::path corpus;
  std::optional<std::filesystem::path> index, save_index, queries, json;
  std::vector<std::string> query;
  std::int64_t top_k = 10;
  std::string score = "cosine";
  bool faiss = false;
};

/// The command line (CLI11: --help, typed options, checks, errors naming the option). `--faiss` is
/// offered only when `with_faiss` (the program was built with FAISS).
inline void add_options(CLI::App& app, Args& a, bool with_faiss) {
  app.description("vikcse_search: exact semantic search over a corpus file with a saved model");
  app.footer("Each corpus line is a document; hits name their line number (from 1).");
  add_model_options(app, a.model);
  app.add_option("--corpus", a.corpus, "documents, one per line")
      ->required()
      ->check(CLI::ExistingFile)
      ->group("Search");
  auto* index = app.add_option("--index", a.index,
                               "corpus embeddings saved by --save-index (checked against the model and the corpus)")
                    ->check(CLI::ExistingFile)
                    ->group("Search");
  app.add_option("--save-index", a.save_index, "encode the corpus and save its embeddings here (atomically)")
      ->check(writable_file())
      ->excludes(index)
      ->group("Search");
  auto* query = app.add_option("--query", a.query, "a query (repeatable)")->group("Search");
  app.add_option("--queries", a.queries, "queries, one per line")
      ->check(CLI::ExistingFile)
      ->excludes(query)
      ->group("Search");
  app.add_option("--top-k", a.top_k, "hits per query")
      ->check(positive_integer())
      ->capture_default_str()
      ->group("Search");
  app.add_option("--score", a.score, "cosine or dot")
      ->check(CLI::IsMember({"cosine", "dot"}))
      ->capture_default_str()
      ->group("Search");
  if (with_faiss) {
    app.add_flag("--faiss", a.faiss, "search with FAISS's exact flat index (same hits; FAISS's kernels)")
        ->group("Search");
  }
  app.add_option("--json", a.json, "write the hits as JSON (atomically)")->check(writable_file())->group("Output");
}

/// The check across options. @throws vikcse::invalid_argument when there is nothing to do.
inline void finish(const Args& a) {
  if (a.query.empty() && !a.queries && !a.save_index) {
    throw invalid_argument("give --query TEXT, --queries FILE or --save-index FILE");
  }
}

}  // namespace vikcse::cli::search
