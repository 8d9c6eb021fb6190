// SPDX-License-Identifier: Apache-2.0
/// @file encode.cpp
/// `vikcse_encode`: embeds a file of sentences (one per line) with a saved model.
///
///   vikcse_encode --model runs/simcse/best < sentences.txt > emb.npy
///   vikcse_encode --model DIR sentences.txt --output emb.safetensors --normalize
///   vikcse_encode --model bert-dir --pooler avg --format jsonl sentences.txt
///
/// Row i of the output is line i of the input (empty lines included: they are the empty sentence).

#include "support/encode_options.hpp"
#include "support/encoder_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/inference/embedding_files.hpp>
#include <vikcse/inference/sentence_encoder.hpp>
#include <vikcse/threads.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using vikcse::cli::encode::Args;

int run(const Args& a) {
  vikcse::configure_threads(a.model.threads);
  const auto start = std::chrono::steady_clock::now();
  const auto format = a.format ? vikcse::parse_embedding_format(*a.format)
                               : (a.output ? vikcse::embedding_format_of(*a.output, vikcse::EmbeddingFormat::npy)
                                           : vikcse::EmbeddingFormat::npy);
  if (!a.output && format != vikcse::EmbeddingFormat::jsonl && ::isatty(::fileno(stdout)) != 0) {
    std::cerr << "vikcse_encode: refusing to write binary embeddings to a terminal: give --output FILE, redirect "
                 "stdout, or use --format jsonl\n";
    return 2;
  }
  const auto sentences = vikcse::cli::read_lines(a.input, /*refuse_empty=*/false);
  const auto encoder = vikcse::SentenceEncoder::load(a.model.model, vikcse::cli::encoder_options(a.model));
  std::cerr << encoder.description() << "\n";
  vikcse::EncodeOptions options;
  options.batch_size = a.model.batch_size;
  vikcse::cli::EncodeProgress progress("encode");
  if (a.model.progress) options.on_progress = std::ref(progress);
  const auto embeddings = encoder.encode(sentences, options);
  const std::map<std::string, std::string> metadata = {{"model", encoder.identity()},
                                                       {"description", encoder.description()}};
  if (a.output) {
    vikcse::save_embeddings(*a.output, embeddings, sentences, format, metadata);
  } else {
    vikcse::write_embeddings(std::cout, embeddings, sentences, format, metadata);
    std::cout.flush();
    if (!std::cout) vikcse::throw_error<vikcse::data_error>("writing the embeddings to stdout failed");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << fmt::format("{} sentences -> [{}, {}] float32{} in {:.1f} s\n", sentences.size(), embeddings.size(0),
                           embeddings.size(1), a.output ? " to " + a.output->string() : std::string(" on stdout"),
                           seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  Args args;
  vikcse::cli::encode::add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_encode: error: " << e.what() << "\n";
    return 1;
  }
}
