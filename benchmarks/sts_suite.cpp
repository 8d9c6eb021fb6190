// SPDX-License-Identifier: Apache-2.0
/// @file sts_suite.cpp
/// Wall time of encoding the full STS suite (STS12-16, STS-B test, SICK-R test: 37.7k sentences)
/// with a BERT-base-shaped random model: vikcse's batching (distinct sentences sorted by length,
/// batches of 128) against SentEval-style unsorted batches of 128 (each subset's first sentences,
/// then its second sentences, in file order). Prints both, the ratio, padded-token counts, and the
/// largest difference between the two embeddings of the same sentence.

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/batcher.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>
#include <vikcse/util/progress.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* usage = R"(vikcse_bench_sts_suite: STS-suite encoding time, sorted vs unsorted batches

Usage: vikcse_bench_sts_suite --senteval DIR --vocab DIR [options]
  --senteval DIR     SentEval data directory (holds downstream/)
  --vocab DIR        tokenizer + config.json directory (e.g. bert-base-uncased); the model is random
  --limit N          only N sentences, every (total/N)-th of the suite in order, so the
                     length distribution stays the suite's (0 = all, default 0)
  --layers N         override num_hidden_layers (default: the config's, 12 for BERT-base)
  --batch-size N     default 128
  --threads N        intra-op threads (default: all cores)
  --help             this text
)";

// The suite's sentences in SentEval's unsorted batch order: per subset, firsts then seconds.
std::vector<std::string> suite_sentences(const std::filesystem::path& senteval) {
  std::vector<std::string> out;
  auto add = [&](const vikcse::StsPairs& p) {
    out.insert(out.end(), p.first.begin(), p.first.end());
    out.insert(out.end(), p.second.begin(), p.second.end());
  };
  for (const auto& [year, subsets] : vikcse::detail::eval::sts_year_subsets()) {
    for (const auto& s : subsets) add(vikcse::read_sts_subset(senteval / "downstream" / "STS" / (year + "-en-test"), s));
  }
  add(vikcse::read_sts_benchmark(senteval, "test"));
  add(vikcse::read_sick_relatedness(senteval, "test"));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::filesystem::path senteval, vocab;
    std::int64_t limit = 0, layers = 0, batch_size = 128;
    int threads = 0;
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) vikcse::throw_error<vikcse::invalid_argument>("{}: missing value", flag);
        return argv[++i];
      };
      if (flag == "--help") {
        std::cout << usage;
        return 0;
      } else if (flag == "--senteval") {
        senteval = value();
      } else if (flag == "--vocab") {
        vocab = value();
      } else if (flag == "--limit") {
        limit = std::stoll(value());
      } else if (flag == "--layers") {
        layers = std::stoll(value());
      } else if (flag == "--batch-size") {
        batch_size = std::stoll(value());
      } else if (flag == "--threads") {
        threads = std::stoi(value());
      } else {
        vikcse::throw_error<vikcse::invalid_argument>("unknown option '{}' (see --help)", flag);
      }
    }
    if (senteval.empty() || vocab.empty()) vikcse::throw_error<vikcse::invalid_argument>("--senteval and --vocab are required");
    threads = vikcse::configure_threads(threads);

    auto sentences = suite_sentences(senteval);
    const auto full = sentences.size();
    if (limit > 0 && static_cast<std::size_t>(limit) < sentences.size()) {
      std::vector<std::string> sample;
      const double stride = static_cast<double>(full) / static_cast<double>(limit);
      for (std::int64_t k = 0; k < limit; ++k) sample.push_back(sentences[static_cast<std::size_t>(static_cast<double>(k) * stride)]);
      sentences = std::move(sample);
    }

    auto tokenizer = std::make_shared<const vikcse::WordPieceTokenizer>(vikcse::WordPieceTokenizer::from_directory(vocab));
    const auto batcher = vikcse::make_tokenize_fn(tokenizer);
    auto config = vikcse::BertConfig::from_json_file(vocab / "config.json");
    if (layers > 0) config.num_hidden_layers = layers;
    torch::manual_seed(0);
    vikcse::AutoModel model(config);
    std::int64_t padded_tokens = 0;
    auto tokenize = [&](const std::vector<std::string>& s) {
      auto batch = batcher(s);
      padded_tokens += batch.input_ids.numel();
      return batch;
    };
    vikcse::ModelEmbedderOptions embed_options;
    embed_options.pooler.kind = vikcse::PoolerKind::cls_before_pooler;
    auto embedder = vikcse::make_model_embedder(model, tokenize, embed_options);

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

    std::cout << fmt::format("model: random BERT, {} layers, hidden {}, {} heads; {} thread(s)\n", config.num_hidden_layers,
                             config.hidden_size, config.num_attention_heads, threads);
    std::cout << fmt::format("sentences: {} of the suite's {} (STS12-16 + STS-B test + SICK-R test, both sides{})\n",
                             sentences.size(), full, sentences.size() < full ? "; evenly strided sample" : "");
    std::cout << fmt::format("SentEval unsorted batches of {}: {:8.2f} s  ({} padded tokens)\n", batch_size, t_unsorted, p_unsorted);
    std::cout << fmt::format("vikcse sorted + deduplicated:   {:8.2f} s  ({} padded tokens)\n", t_sorted, p_sorted);
    std::cout << fmt::format("speed-up (unsorted / sorted):   {:8.2f} x\n", t_unsorted / t_sorted);
    std::cout << fmt::format("max |difference| of embeddings: {:.3g}\n", diff);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "vikcse_bench_sts_suite: error: " << e.what() << "\n";
    return 1;
  }
}
