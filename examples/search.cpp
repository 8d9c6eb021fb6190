// SPDX-License-Identifier: Apache-2.0
/// @file search.cpp
/// `vikcse_search`: semantic search over a corpus file (one document per line) with a saved model.
///
///   vikcse_search --model runs/simcse/best --corpus docs.txt --query "a man plays a guitar" --top-k 5
///   vikcse_search --model DIR --corpus docs.txt --save-index docs.index --queries questions.txt
///   vikcse_search --model DIR --corpus docs.txt --index docs.index --query "..." --json hits.json
///
/// The search is exact (every corpus row is scored, in blocks, so memory stays bounded); ties go
/// to the earlier corpus line. A saved index records the model and the corpus it was made from,
/// and is refused for any other.

#include "support/encoder_options.hpp"
#include "support/search_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/inference/embedding_files.hpp>
#include <vikcse/inference/sentence_encoder.hpp>
#include <vikcse/search/semantic_search.hpp>
#include <vikcse/threads.hpp>
#if defined(VIKCSE_WITH_FAISS)  // built against vikcse::faiss
#include <vikcse/search/faiss_search.hpp>
#endif

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using vikcse::cli::search::Args;

int run(const Args& a) {
  vikcse::configure_threads(a.model.threads);
  const auto corpus = vikcse::cli::read_lines(a.corpus.string(), /*refuse_empty=*/true);
  const auto queries = a.queries ? vikcse::cli::read_lines(a.queries->string(), /*refuse_empty=*/true) : a.query;
  const auto encoder = vikcse::SentenceEncoder::load(a.model.model, vikcse::cli::encoder_options(a.model));
  std::cerr << encoder.description() << "\n";
  const vikcse::EmbeddingIndexInfo info{encoder.identity(), encoder.description(), vikcse::corpus_hash(corpus),
                                        static_cast<std::int64_t>(corpus.size())};
  vikcse::EncodeOptions options;
  options.batch_size = a.model.batch_size;
  vikcse::cli::EncodeProgress progress("corpus");
  if (a.model.progress) options.on_progress = std::ref(progress);
  torch::Tensor corpus_emb;
  if (a.index) {
    corpus_emb = vikcse::load_embedding_index(*a.index, info);
    std::cerr << fmt::format("index {}: {} rows\n", a.index->string(), corpus_emb.size(0));
  } else {
    const auto start = std::chrono::steady_clock::now();
    corpus_emb = encoder.encode(corpus, options);
    std::cerr << fmt::format("encoded {} corpus lines in {:.1f} s\n", corpus.size(),
                             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (a.save_index) {
      vikcse::save_embedding_index(*a.save_index, corpus_emb, info);
      std::cerr << "wrote index " << a.save_index->string() << "\n";
    }
  }
  if (queries.empty()) return 0;  // --save-index alone
  vikcse::EncodeOptions query_options;
  query_options.batch_size = a.model.batch_size;
  const auto query_emb = encoder.encode(queries, query_options);
  vikcse::SemanticSearchOptions search;
  search.top_k = a.top_k;
  search.score = a.score == "dot" ? vikcse::ScoreFunction::dot : vikcse::ScoreFunction::cosine;
#if defined(VIKCSE_WITH_FAISS)
  const auto hits = a.faiss ? vikcse::faiss_semantic_search(query_emb, corpus_emb, search)
                            : vikcse::semantic_search(query_emb, corpus_emb, search);
#else
  const auto hits = vikcse::semantic_search(query_emb, corpus_emb, search);
#endif
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t q = 0; q < queries.size(); ++q) {
    std::cout << fmt::format("\nquery {}: {}\n| rank | {:>7} | line | text\n|-----:|--------:|-----:|-----\n", q + 1,
                             queries[q], a.score);
    nlohmann::json list = nlohmann::json::array();
    for (std::int64_t r = 0; r < hits.indices.size(1); ++r) {
      const auto row = hits.indices[static_cast<std::int64_t>(q)][r].item<std::int64_t>();
      const auto score = hits.scores[static_cast<std::int64_t>(q)][r].item<double>();
      std::cout << fmt::format("| {:>4} | {:>7.4f} | {:>4} | {}\n", r + 1, score, row + 1,
                               corpus[static_cast<std::size_t>(row)]);
      list.push_back(
          {{"rank", r + 1}, {"line", row + 1}, {"score", score}, {"text", corpus[static_cast<std::size_t>(row)]}});
    }
    results.push_back({{"query", queries[q]}, {"hits", list}});
  }
  if (a.json) {
    const nlohmann::json doc = {
        {"model", encoder.description()}, {"score", a.score}, {"top_k", a.top_k}, {"results", results}};
    vikcse::detail::write_text_atomically<vikcse::data_error>(
        *a.json, doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::cout << "\nwrote " << a.json->string() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  Args args;
#if defined(VIKCSE_WITH_FAISS)
  vikcse::cli::search::add_options(app, args, /*with_faiss=*/true);
#else
  vikcse::cli::search::add_options(app, args, /*with_faiss=*/false);
#endif
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  if (const auto code = vikcse::cli::check_usage("vikcse_search", [&] { vikcse::cli::search::finish(args); }))
    return *code;
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_search: error: " << e.what() << "\n";
    return 1;
  }
}
