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

#include "support/cli_checks.hpp"

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

struct Args {
  std::optional<std::filesystem::path> model, random_model, tokenizer, senteval, json, cache;
  std::vector<std::filesystem::path> pairs, retrieval;
  std::int64_t layers = 0;
  std::uint64_t init_seed = 42;
  std::uint64_t seed = 1111;
  std::string sts_cosine = "float32";
  std::string pooler = "cls_before_pooler";
  std::string first = "embeddings";
  std::string template_text = "This sentence : \"[X]\" means [MASK] .";
  bool append_period = true;
  bool lowercase = false;
  std::vector<std::string> tasks = {"sts"};
  std::string mode = "test";
  std::int64_t batch_size = 128;
  int threads = 0;
  bool progress = true;
  bool bf16 = false;
};

/// The command line of vikcse_eval (CLI11: --help, typed options, checks, errors naming the option).
void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_eval: SentEval-equivalent evaluation of a sentence encoder, and evaluation on your own scored pairs "
      "(--pairs) and BEIR / MTEB retrieval data (--retrieval)");
  app.footer(
      "Usage: vikcse_eval (--model DIR | --random-model DIR) [--senteval DIR] [--pairs FILE.tsv] [--retrieval DIR] "
      "[options]\n(at least one of --senteval, --pairs and --retrieval)");
  auto* model =
      app.add_option("--model", a.model, "Hugging Face checkpoint directory (config.json, weights, tokenizer files)")
          ->check(CLI::ExistingDirectory)
          ->group("Model");
  auto* random = app.add_option("--random-model", a.random_model,
                                "demo: random weights from DIR/config.json (+ DIR's tokenizer files)")
                     ->check(CLI::ExistingDirectory)
                     ->group("Model");
  model->excludes(random);
  app.add_option("--layers", a.layers, "with --random-model: override num_hidden_layers (small = fast)")
      ->check(vikcse::cli::positive_integer())
      ->group("Model");
  app.add_option("--init-seed", a.init_seed, "with --random-model: initialisation seed")
      ->check(vikcse::cli::non_negative_integer())
      ->capture_default_str()
      ->group("Model");
  app.add_option("--tokenizer", a.tokenizer, "tokenizer files from DIR instead of the model directory")
      ->check(CLI::ExistingDirectory)
      ->group("Model");
  app.add_option("--pooler", a.pooler,
                 "cls = [CLS] + MLP head: the trained MLP of a checkpoint written by this library "
                 "(vikcse_heads.safetensors), else BERT's pretrained pooler; the output says which")
      ->check(CLI::IsMember({"cls", "cls_before_pooler", "avg", "avg_first_last", "avg_top2", "mask", "max",
                             "mean_sqrt_len", "weighted_mean", "last_token"}))
      ->capture_default_str()
      ->group("Pooler");
  app.add_option("--first", a.first, "avg_first_last's first layer")
      ->check(CLI::IsMember({"embeddings", "layer1"}))
      ->capture_default_str()
      ->group("Pooler");
  app.add_option("--template", a.template_text, "mask pooler template with [X] and exactly one [MASK]")
      ->capture_default_str()
      ->group("Pooler");
  app.add_flag_callback(
         "--no-append-period", [&a] { a.append_period = false; },
         "mask pooler: do not append '.' to sentences (PromptBERT eval appends it)")
      ->group("Pooler");
  app.add_flag("--lowercase", a.lowercase, "lower-case sentences before templating (VIKCSE evaluation)")
      ->group("Pooler");
  auto* senteval = app.add_option("--senteval", a.senteval, "SentEval data directory (holds downstream/)")
                       ->check(CLI::ExistingDirectory)
                       ->group("Tasks");
  app.add_option("--tasks", a.tasks,
                 "with --senteval, comma list: sts, transfer, all, STS12..STS16, STSBenchmark, SICKRelatedness, "
                 "STSBenchmark-dev, SICKRelatedness-dev, MR, CR, SUBJ, MPQA, SST2, SST5, TREC, MRPC")
      ->delimiter(',')
      ->capture_default_str()
      ->needs(senteval)
      ->group("Tasks");
  app.add_option("--pairs", a.pairs,
                 "your scored pairs: a TSV of sentence1<TAB>sentence2<TAB>score (any numeric scale; a first row "
                 "whose score is not a number is a header); reports Spearman and Pearson x 100 of the cosine "
                 "(--sts-cosine arithmetic) against the score, like the STS table. Repeatable")
      ->check(CLI::ExistingFile)
      ->group("Your data");
  app.add_option("--retrieval", a.retrieval,
                 "a BEIR / MTEB retrieval directory: queries.jsonl ({\"_id\", \"text\"}), corpus.jsonl ({\"_id\", "
                 "\"title\", \"text\"}; a document is title + ' ' + text when the title is non-empty, else text) "
                 "and qrels/test.tsv (query-id<TAB>corpus-id<TAB>score, relevant when score > 0). Queries with no "
                 "relevant document are not evaluated; the corpus is ranked by exact cosine (ties: the earlier "
                 "document); texts longer than the model's positions are truncated. Reports MRR@10, NDCG@10, "
                 "MAP@100, Recall@1/5/10/100, Accuracy@1/5/10 and Precision@1/5/10 x 100, as sentence-transformers' "
                 "InformationRetrievalEvaluator defines them. Repeatable")
      ->check(CLI::ExistingDirectory)
      ->group("Your data");
  app.add_option("--mode", a.mode,
                 "transfer classifier protocol: 10-fold Adam (test; reports the test accuracy, SentEval acc) or "
                 "5-fold RMSprop (fast; reports the cross-validation accuracy, SentEval devacc)")
      ->check(CLI::IsMember({"test", "fast"}))
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--seed", a.seed, "seed of the transfer tasks' folds and classifiers (SentEval's 1111)")
      ->check(vikcse::cli::non_negative_integer())
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--sts-cosine", a.sts_cosine,
                 "arithmetic of the STS cosine (float32 as SentEval; float64 breaks float32 ties apart and can "
                 "move a Spearman)")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str()
      ->group("Tasks");
  app.add_option("--batch-size", a.batch_size, "sentences per encoder call")
      ->check(vikcse::cli::positive_integer())
      ->capture_default_str()
      ->group("Run");
  app.add_option("--cache", a.cache,
                 "SentEval tasks: cache embeddings in DIR, keyed by the contents of the weights and tokenizer files, "
                 "the pooler (and "
                 "template), the precision and the dataset")
      ->group("Run");
  app.add_option("--json", a.json, "write every number as JSON (atomically)")
      ->check(vikcse::cli::writable_file())
      ->group("Run");
  app.add_flag("--bf16", a.bf16,
               "encode in bfloat16 (fast on CPUs with AVX512-BF16; benchmarks/sentence_encoder_throughput measures "
               "what it costs in Spearman)")
      ->group("Run");
  app.add_option("--threads", a.threads, "intra-op threads (0: all cores or OMP_NUM_THREADS)")
      ->check(vikcse::cli::non_negative_integer())
      ->capture_default_str()
      ->group("Run");
  app.add_flag_callback(
         "--no-progress", [&a] { a.progress = false; }, "no progress bar on stderr")
      ->group("Run");
}

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
  add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  if (!args.model && !args.random_model) {
    std::cerr << "vikcse_eval: give one of --model DIR or --random-model DIR (see --help)\n";
    return 2;
  }
  if (!args.senteval && args.pairs.empty() && args.retrieval.empty()) {
    std::cerr << "vikcse_eval: nothing to evaluate: give at least one of --senteval DIR, --pairs FILE.tsv or "
                 "--retrieval DIR (see --help)\n";
    return 2;
  }
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_eval: error: " << e.what() << "\n";
    return 1;
  }
}
