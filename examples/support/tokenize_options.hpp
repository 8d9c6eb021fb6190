// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tokenize_options.hpp
/// vikcse_tokenize's command line. Torch-free, so that the fuzz target `fuzz_cli` parses arbitrary
/// command lines with the program's own parser.

#include "cli_checks.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace vikcse::cli::tokenize {

struct Args {
  std::string tokenizer;
  bool special_tokens = true;
  bool decode = false;
};

/// The command line (CLI11: --help, typed options, checks, errors naming the option).
inline void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_tokenize: reads sentences from standard input, one per line (raw bytes; invalid UTF-8 becomes U+FFFD "
      "as in Hugging Face; one trailing '\\r' is dropped), and prints each sentence's token ids as one line of "
      "space-separated integers, special tokens included, no padding.");
  app.add_option("--tokenizer", a.tokenizer,
                 "a tokenizer directory: tokenizer.json, or vocab.txt (WordPiece, BERT), or vocab.json + merges.txt "
                 "(byte-level BPE, RoBERTa/GPT-2); with tokenizer_config.json when present")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_flag_callback(
      "--no-special-tokens", [&a] { a.special_tokens = false; }, "print the ids without [CLS]/[SEP] (<s>/</s>)");
  app.add_flag("--decode", a.decode, "read lines of ids instead and print their text (special tokens skipped)");
}

}  // namespace vikcse::cli::tokenize
