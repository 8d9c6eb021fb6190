// SPDX-License-Identifier: Apache-2.0
/// @file sts_suite.cpp
/// Wall time of encoding the full STS suite (STS12-16, STS-B test, SICK-R test: 37.7k sentences)
/// with a BERT-base-shaped random model: vikcse's batching (distinct sentences sorted by length,
/// batches of 128) against SentEval-style unsorted batches of 128 (each subset's first sentences,
/// then its second sentences, in file order). Prints both, the ratio, padded-token counts, and the
/// largest difference between the two embeddings of the same sentence.

#include "support/benchmark_support.hpp"

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>
#include <vikcse/util/progress.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* description = R"(vikcse_bench_sts_suite: STS-suite encoding time, sorted vs unsorted batches, of a
random BERT model of --vocab's config.json shape)";

// The suite's sentences in SentEval's unsorted batch order: per subset, firsts then seconds.
std::vector<std::string> suite_sentences(const std::filesystem::path& senteval) {
  std::vector<std::string> out;
  auto add = [&](const vikcse::StsPairs& p) {
    out.insert(out.end(), p.first.begin(), p.first.end());
    out.insert(out.end(), p.second.begin(), p.second.end());
  };
  for (const auto& [year, subsets] : vikcse::detail::eval::sts_year_subsets()) {
    for (const auto& s : subsets)
      add(vikcse::read_sts_subset(senteval / "downstream" / "STS" / (year + "-en-test"), s));
  }
  add(vikcse::read_sts_benchmark(senteval, "test"));
  add(vikcse::read_sick_relatedness(senteval, "test"));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string senteval_text, vocab_text;
    std::int64_t limit = 0, layers = 0, batch_size = 128;
    int threads = 0;
    CLI::App app{description, "vikcse_bench_sts_suite"};
    app.option_defaults()->always_capture_default();
    app.add_option("--senteval", senteval_text, "SentEval data directory (holds downstream/)")
        ->required()
        ->check(CLI::ExistingDirectory);
    app.add_option("--vocab", vocab_text,
                   "tokenizer + config.json directory (e.g. bert-base-uncased); the model is random")
        ->required()
        ->check(CLI::ExistingDirectory);
    app.add_option("--limit", limit,
                   "only N sentences, every (total/N)-th of the suite, keeping its length distribution (0: all)")
        ->check(vikcse::cli::non_negative_integer());
    app.add_option("--layers", layers, "override num_hidden_layers (0: the config's, 12 for BERT-base)")
        ->check(vikcse::cli::non_negative_integer());
    app.add_option("--batch-size", batch_size, "sentences per batch")->check(vikcse::cli::positive_integer());
    app.add_option("--threads", threads, "intra-op threads (0: all cores)")->check(vikcse::cli::non_negative_integer());
    CLI11_PARSE(app, argc, argv);
    const std::filesystem::path senteval = senteval_text, vocab = vocab_text;
    threads = vikcse::configure_threads(threads);

    auto sentences = suite_sentences(senteval);
    const auto full = sentences.size();
    if (limit > 0 && static_cast<std::size_t>(limit) < sentences.size()) {
      std::vector<std::string> sample;
      const double stride = static_cast<double>(full) / static_cast<double>(limit);
      for (std::int64_t k = 0; k < limit; ++k)
        sample.push_back(sentences[static_cast<std::size_t>(static_cast<double>(k) * stride)]);
      sentences = std::move(sample);
    }

    auto tokenizer =
        std::make_shared<const vikcse::WordPieceTokenizer>(vikcse::WordPieceTokenizer::from_directory(vocab));
    auto config = vikcse::BertConfig::from_json_file(vocab / "config.json");
    if (layers > 0) config.num_hidden_layers = layers;
    torch::manual_seed(0);
    vikcse::AutoModel model(config);
    vikcse::EmbedderOptions embed_options;
    embed_options.pooler.kind = vikcse::PoolerKind::cls_before_pooler;
    // Padded tokens of each batch: rows x the longest row (what the embedder pads to), taken from
    // the embedder's own tokenize calls, so the timed run tokenises each sentence once.
    std::size_t longest = 0;
    const auto cap = static_cast<std::size_t>(embed_options.max_length);
    const vikcse::TokenizeFunction tokenize = [&longest, tokenizer, cap](std::string_view text) {
      auto ids = tokenizer->encode(text, /*add_special_tokens=*/false);
      longest = std::max(longest, std::min(ids.size() + 2, cap));  // + [CLS] and [SEP], cut as the embedder cuts
      return ids;
    };
    const auto embed =
        vikcse::make_embedder(model, tokenize, vikcse::require_special_tokens(*tokenizer), embed_options);
    std::int64_t padded_tokens = 0;
    const vikcse::Embedder embedder = [&](const std::vector<std::string>& s) {
      longest = 0;
      auto out = embed(s);
      padded_tokens += static_cast<std::int64_t>(s.size() * longest);
      return out;
    };

    auto time_run = [&](const char* label, const vikcse::EncodeOptions& base) {
      vikcse::ProgressBar bar(std::cerr, sentences.size(), {.label = label, .unit = "sent"});
      auto options = base;
      options.on_progress = [&](std::size_t done, std::size_t total) {
        bar.set_total(total);  // distinct sentences when deduplicating
        bar.set(done);
      };
      padded_tokens = 0;
      const auto start = std::chrono::steady_clock::now();
      auto e = vikcse::encode_sentences(embedder, sentences, options);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.finish();
      return std::make_tuple(e, s, padded_tokens);
    };
    vikcse::EncodeOptions unsorted;
    unsorted.batch_size = batch_size;
    unsorted.sort_by_length = false;
    unsorted.deduplicate = false;
    vikcse::EncodeOptions sorted;
    sorted.batch_size = batch_size;
    sorted.length = [&](const std::string& s) { return tokenizer->encode(s).size(); };
    const auto [e_unsorted, t_unsorted, p_unsorted] = time_run("unsorted", unsorted);
    const auto [e_sorted, t_sorted, p_sorted] = time_run("sorted", sorted);
    const double diff = (e_unsorted - e_sorted).abs().max().item<double>();

    std::cout << fmt::format("model: random BERT, {} layers, hidden {}, {} heads; {} thread(s)\n",
                             config.num_hidden_layers, config.hidden_size, config.num_attention_heads, threads);
    std::cout << fmt::format("sentences: {} of the suite's {} (STS12-16 + STS-B test + SICK-R test, both sides{})\n",
                             sentences.size(), full, sentences.size() < full ? "; evenly strided sample" : "");
    std::cout << fmt::format("SentEval unsorted batches of {}: {:8.2f} s  ({} padded tokens)\n", batch_size, t_unsorted,
                             p_unsorted);
    std::cout << fmt::format("vikcse sorted + deduplicated:   {:8.2f} s  ({} padded tokens)\n", t_sorted, p_sorted);
    std::cout << fmt::format("speed-up (unsorted / sorted):   {:8.2f} x\n", t_unsorted / t_sorted);
    std::cout << fmt::format("max |difference| of embeddings: {:.3g}\n", diff);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vikcse_bench_sts_suite: error: " << e.what() << "\n";
    return 1;
  }
}
