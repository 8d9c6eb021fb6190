// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file encode_options.hpp
/// vikcse_encode's command line. Torch-free, so that the fuzz target `fuzz_cli` parses arbitrary
/// command lines with the program's own parser.

#include "cli_checks.hpp"
#include "model_options.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace vikcse::cli::encode {

struct Args {
  ModelArgs model;
  std::string input = "-";
  std::optional<std::filesystem::path> output;
  std::optional<std::string> format;
};

/// The command line (CLI11: --help, typed options, checks, errors naming the option).
inline void add_options(CLI::App& app, Args& a) {
  app.description("vikcse_encode: embed sentences (one per line) with a saved model");
  app.footer("Output: .npy by default (stdout when no --output), .safetensors or JSON Lines on request");
  add_model_options(app, a.model);
  app.add_option("input", a.input, "sentences, one per line ('-' or nothing: stdin)")->group("Input");
  app.add_option("--output,-o", a.output, "write here (atomically) instead of stdout; the extension picks the format")
      ->check(writable_file())
      ->group("Output");
  app.add_option("--format", a.format, "npy, safetensors or jsonl (default: from --output's extension, else npy)")
      ->check(CLI::IsMember({"npy", "safetensors", "jsonl"}))
      ->group("Output");
}

}  // namespace vikcse::cli::encode
