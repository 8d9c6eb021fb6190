// SPDX-License-Identifier: Apache-2.0
/// @file eval.cpp
/// `vikcse_eval`: SentEval-equivalent evaluation of a sentence encoder (STS12-16, STS-B, SICK-R and
/// the transfer tasks), and evaluation on the user's own data (a TSV of scored sentence pairs, a
/// BEIR / MTEB retrieval directory), printed in the papers' table layout and written as JSON.
///
///   vikcse_eval --model CHECKPOINT_DIR --pooler cls_before_pooler --senteval SentEval/data --tasks sts
///   vikcse_eval --model DIR --pooler mask --template 'This sentence : "[X]" means [MASK] .' --senteval DIR
///   vikcse_eval --model DIR --pooler avg --pairs my_pairs.tsv --retrieval beir/scifact
///   vikcse_eval --random-model DIR --layers 2 --senteval DIR     (demo: random weights, DIR's config + vocab)

#include "support/eval_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/cls_head.hpp>
#include <vikcse/eval/embedding_cache.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/pairs.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/retrieval.hpp>
#include <vikcse/eval/senteval.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>
#include <vikcse/util/progress.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using vikcse::cli::eval::Args;

// Draws one progress bar per dataset being encoded.
class ProgressPrinter {
public:
  void operator()(std::string_view dataset, std::size_t done, std::size_t total) {
    if (!bar_ || dataset != dataset_) {
      bar_.reset();
      dataset_ = std::string(dataset);
      bar_ = std::make_unique<vikcse::ProgressBar>(std::cerr, total,
                                                   vikcse::ProgressBarOptions{.label = dataset_, .unit = "sent"});
    }
    bar_->set(done);
    if (done >= total) bar_.reset();
  }

private:
  std::string dataset_;
  std::unique_ptr<vikcse::ProgressBar> bar_;
};

// The tokenizer side of the model: batching, a token-count sort key and the special tokens.
struct TextSide {
  vikcse::TokenizeFunction tokenize;
  std::function<std::size_t(const std::string&)> length;
  vikcse::SpecialTokens special;
  std::int64_t vocab_size = 0;
};

template <typename TokenizerType>
TextSide text_side(TokenizerType tokenizer) {
  auto shared = std::make_shared<const TokenizerType>(std::move(tokenizer));
  return {vikcse::tokenize_function(shared), [shared](const std::string& s) { return shared->encode(s).size(); },
          vikcse::require_special_tokens(*shared), shared->vocab_size()};
}

// WordPiece for BERT, byte-level BPE for RoBERTa (config.json's model_type).
TextSide load_text_side(const std::filesystem::path& dir, const std::string& model_type) {
  if (model_type == "roberta") return text_side(vikcse::ByteLevelBpeTokenizer::from_directory(dir));
  return text_side(vikcse::WordPieceTokenizer::from_directory(dir));
}

int run(const Args& args) {
  const int threads = vikcse::configure_threads(args.threads);
  const auto dir = args.model ? *args.model : *args.random_model;
  const auto tokenizer_dir = args.tokenizer ? *args.tokenizer : dir;
  vikcse::AutoModel model(nullptr);
  // The model identity (also the cache key): path for reading, content hashes of the weights/config/
  // heads files and of the tokenizer files for the key, so a checkpoint rewritten in place is re-encoded.
  std::string model_id;
  if (args.model) {
    model = vikcse::AutoModel::from_pretrained(dir);
    model_id = fmt::format("{}:weights={:016x}", std::filesystem::absolute(dir).string(),
                           vikcse::checkpoint_content_hash(dir));
  } else {
    auto config = vikcse::BertConfig::from_json_file(dir / "config.json");
    if (args.layers > 0) config.num_hidden_layers = args.layers;
    torch::manual_seed(args.init_seed);
    model = vikcse::AutoModel(config);
    model_id = fmt::format("random:{}:config={:016x}:layers={}:seed={}", std::filesystem::absolute(dir).string(),
                           vikcse::file_content_hash(dir / "config.json"), config.num_hidden_layers, args.init_seed);
  }
  model_id += fmt::format(":tokenizer={:016x}", vikcse::tokenizer_content_hash(tokenizer_dir));
  model_id += args.bf16 ? ":bf16" : ":fp32";
  if (args.bf16) model->to(torch::kBFloat16);
  const auto text = load_text_side(tokenizer_dir, model.config().model_type);
  model.config().require_tokenizer_fits(text.vocab_size, fmt::format("in {}", tokenizer_dir.string()));
  const auto& special = text.special;
  vikcse::EmbedderOptions embed_options;
  embed_options.pooler.kind = vikcse::parse_pooler_kind(args.pooler);
  embed_options.pooler.first = args.first == "layer1" ? vikcse::FirstLayer::layer1 : vikcse::FirstLayer::embeddings;
  // SentEval's batchers never truncate: a sentence longer than the model's positions is an error.
  embed_options.max_length = model.config().max_position_embeddings;
  embed_options.truncate = false;
  std::string pooler_id = args.pooler;
  if (embed_options.pooler.kind == vikcse::PoolerKind::mask) {
    const vikcse::PromptTemplate tpl(args.template_text, special.mask_token);
    embed_options.layout = vikcse::make_prompt_layout(tpl, text.tokenize, special);
    embed_options.append_period = args.append_period;
    embed_options.lowercase = args.lowercase;
    pooler_id += fmt::format(":{}:period={}:lower={}", tpl.text(), args.append_period, args.lowercase);
  } else if (embed_options.pooler.kind == vikcse::PoolerKind::avg_first_last) {
    pooler_id += ":" + args.first;
  }
  std::optional<vikcse::ClsHead> cls_head;
  if (embed_options.pooler.kind == vikcse::PoolerKind::cls) {
    cls_head = args.model ? vikcse::load_cls_head(dir) : vikcse::ClsHead{};
    if (!args.model) cls_head->description = "BERT's pooler of the random model (pooler_output)";
    embed_options.pooler.head = cls_head->apply;
    pooler_id += ":head=" + cls_head->id();
  }
  auto embedder = vikcse::make_embedder(model, text.tokenize, special, embed_options);

  // The user's files are read before anything is encoded, so that a bad line fails at once.
  std::vector<vikcse::PairsData> pairs;
  for (const auto& path : args.pairs) pairs.push_back(vikcse::read_pairs_file(path));
  std::vector<vikcse::RetrievalData> retrieval;
  for (const auto& dir : args.retrieval) retrieval.push_back(vikcse::read_beir_directory(dir));

  vikcse::EncodeOptions encode;
  encode.batch_size = args.batch_size;
  encode.length = text.length;  // sort by token count (a template adds the same count to every sentence)
  const auto cosine =
      args.sts_cosine == "float32" ? vikcse::CosinePrecision::float32 : vikcse::CosinePrecision::float64;
  ProgressPrinter printer;

  const auto start = std::chrono::steady_clock::now();
  vikcse::EvalReport report;
  if (args.senteval) {
    vikcse::SentEvalOptions options;
    options.senteval_dir = *args.senteval;
    options.encode = encode;
    options.transfer = vikcse::TransferOptions::for_mode(args.mode == "test" ? vikcse::TransferMode::test
                                                                             : vikcse::TransferMode::fast);
    options.transfer.seed = args.seed;
    options.sts.cosine = cosine;
    options.cache_dir = args.cache;
    options.model_id = model_id;
    options.pooler_id = pooler_id;
    if (args.progress) options.on_progress = std::ref(printer);
    vikcse::SentEval engine(embedder, options);
    report = engine.run(args.tasks);
    report.metadata["mode"] = args.mode;
    report.metadata["senteval"] = std::filesystem::absolute(*args.senteval).string();
  } else {
    report.metadata = {
        {"model", model_id}, {"pooler", pooler_id}, {"batch_size", args.batch_size}, {"sts_cosine", args.sts_cosine}};
  }
  for (const auto& data : pairs) {
    auto o = encode;
    if (args.progress) o.on_progress = [&](std::size_t done, std::size_t total) { printer(data.name, done, total); };
    report.pairs.push_back(vikcse::evaluate_pairs(data, embedder, o, {.cosine = cosine}));
  }
  if (!retrieval.empty()) {
    // Passages are often longer than the model's positions: they are truncated to fit, as
    // sentence-transformers truncates to its max_seq_length (SentEval's sentences never are).
    auto truncating = embed_options;
    truncating.truncate = true;
    const auto passage_embedder = vikcse::make_embedder(model, text.tokenize, special, truncating);
    for (const auto& data : retrieval) {
      vikcse::RetrievalEvalOptions o;
      if (args.progress) {
        o.on_progress = [&](std::string_view part, std::size_t done, std::size_t total) {
          printer(fmt::format("{} {}", data.name, part), done, total);
        };
      }
      report.retrieval.push_back(vikcse::evaluate_retrieval(data, passage_embedder, encode, o));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.metadata["threads"] = threads;
  report.metadata["seconds"] = seconds;
  if (cls_head) report.metadata["cls_head"] = cls_head->description;

  std::cout << fmt::format("model: {}\npooler: {}\n", model_id, pooler_id);
  if (cls_head) std::cout << fmt::format("cls head: {}\n", cls_head->description);
  if (!report.sts.empty()) {
    std::cout << fmt::format("\nSTS (Spearman x 100, \"all\"; STS-B and SICK-R test; {} cosine)\n", args.sts_cosine)
              << vikcse::format_sts_table(report.sts);
  }
  if (!report.transfer.empty()) {
    const bool devacc = report.transfer_metric == vikcse::TransferMetric::devacc;
    std::cout << fmt::format("\nTransfer ({}; {} mode, seed {})\n",
                             vikcse::transfer_metric_label(report.transfer_metric), args.mode, args.seed)
              << vikcse::format_transfer_table(report.transfer, devacc);
    for (const auto& t : report.transfer) {
      if (t.f1) std::cout << fmt::format("{}: test F1 {:.2f}\n", t.name, *t.f1);
    }
  }
  if (!report.pairs.empty()) {
    std::cout << fmt::format("\nPairs (Spearman and Pearson x 100 of the {} cosine vs the gold score)\n",
                             args.sts_cosine)
              << vikcse::format_pairs_table(report.pairs);
  }
  if (!report.retrieval.empty()) {
    std::cout << "\nRetrieval (x 100; corpus ranked by cosine, relevant = qrels score > 0; queries with a relevant "
                 "document)\n"
              << vikcse::format_retrieval_table(report.retrieval);
    for (const auto& r : report.retrieval) {
      if (r.metrics.queries != r.queries_in_file) {
        std::cout << fmt::format("{}: {} of {} queries evaluated (the others have no relevant document)\n", r.name,
                                 r.metrics.queries, r.queries_in_file);
      }
    }
  }
  std::cout << fmt::format("\n{:.1f} s on {} thread(s)\n", seconds, threads);
  if (args.json) {
    vikcse::write_report_json(*args.json, report);
    std::cout << "wrote " << args.json->string() << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  Args args;
  vikcse::cli::eval::add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  if (const auto code = vikcse::cli::check_usage("vikcse_eval", [&] { vikcse::cli::eval::finish(args); })) return *code;
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_eval: error: " << e.what() << "\n";
    return 1;
  }
}
