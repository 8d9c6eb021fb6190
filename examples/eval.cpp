// SPDX-License-Identifier: Apache-2.0
/// @file eval.cpp
/// `vikcse_eval`: SentEval-equivalent evaluation of a sentence encoder (STS12-16, STS-B, SICK-R and
/// the transfer tasks), printed in the papers' table layout and written as JSON.
///
///   vikcse_eval --model CHECKPOINT_DIR --pooler cls_before_pooler --senteval SentEval/data --tasks sts
///   vikcse_eval --model DIR --pooler mask --template 'This sentence : "[X]" means [MASK] .' --senteval DIR
///   vikcse_eval --random-model DIR --layers 2 --senteval DIR     (demo: random weights, DIR's config + vocab)

#include "support/cli.hpp"

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/batcher.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/senteval.hpp>
#include <vikcse/threads.hpp>
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

constexpr const char* usage = R"(vikcse_eval: SentEval-equivalent evaluation of a sentence encoder

Usage: vikcse_eval (--model DIR | --random-model DIR) --senteval DIR [options]

Model:
  --model DIR            Hugging Face checkpoint directory (config.json, weights, tokenizer files)
  --random-model DIR     demo: random weights from DIR/config.json (+ DIR's tokenizer files)
  --layers N             with --random-model: override num_hidden_layers (small = fast)
  --seed N               with --random-model: initialisation seed (default 42)
  --tokenizer DIR        tokenizer files from DIR instead of the model directory
Pooler:
  --pooler NAME          cls | cls_before_pooler | avg | avg_first_last | avg_top2 | mask
                         (default cls_before_pooler)
  --first embeddings|layer1   avg_first_last's first layer (default embeddings)
  --template TEXT        mask pooler template with [X] and exactly one [MASK]
                         (default: This sentence : "[X]" means [MASK] .)
  --no-append-period     mask pooler: do not append '.' to sentences (PromptBERT eval appends it)
  --lowercase            lower-case sentences before templating (VIKCSE evaluation)
Tasks:
  --senteval DIR         SentEval data directory (holds downstream/)
  --tasks LIST           comma list: sts, transfer, all, STS12..STS16, STSBenchmark, SICKRelatedness,
                         STSBenchmark-dev, SICKRelatedness-dev, MR, CR, SUBJ, MPQA, SST2, SST5, TREC, MRPC
                         (default sts)
  --mode test|fast       transfer classifier protocol: 10-fold Adam (test) or 5-fold RMSprop (fast)
Run:
  --batch-size N         sentences per encoder call (default 128)
  --cache DIR            cache embeddings per model + pooler + dataset in DIR
  --json FILE            write every number as JSON (atomically)
  --bf16                 encode in bfloat16 (fast on CPUs with AVX512-BF16; benchmarks/bf16_sts measures
                         what it costs in Spearman)
  --threads N            intra-op threads (default: all cores or OMP_NUM_THREADS)
  --no-progress          no progress bar on stderr
  --help                 this text
)";

struct Args {
  std::optional<std::filesystem::path> model, random_model, tokenizer, senteval, json, cache;
  std::int64_t layers = 0;
  std::uint64_t seed = 42;
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


Args parse(int argc, char** argv) {
  Args a;
  vikcse::cli::parse_options(argc, argv, usage, [&](const std::string& flag, const vikcse::cli::NextValue& value) {
    if (flag == "--model") {
      a.model = value();
    } else if (flag == "--random-model") {
      a.random_model = value();
    } else if (flag == "--tokenizer") {
      a.tokenizer = value();
    } else if (flag == "--layers") {
      a.layers = vikcse::cli::to_int(flag, value());
    } else if (flag == "--seed") {
      a.seed = static_cast<std::uint64_t>(vikcse::cli::to_int(flag, value()));
    } else if (flag == "--pooler") {
      a.pooler = value();
    } else if (flag == "--first") {
      a.first = value();
    } else if (flag == "--template") {
      a.template_text = value();
    } else if (flag == "--no-append-period") {
      a.append_period = false;
    } else if (flag == "--lowercase") {
      a.lowercase = true;
    } else if (flag == "--bf16") {
      a.bf16 = true;
    } else if (flag == "--senteval") {
      a.senteval = value();
    } else if (flag == "--tasks") {
      a.tasks = vikcse::cli::split_list(value());
    } else if (flag == "--mode") {
      a.mode = value();
    } else if (flag == "--batch-size") {
      a.batch_size = vikcse::cli::to_int(flag, value());
    } else if (flag == "--cache") {
      a.cache = value();
    } else if (flag == "--json") {
      a.json = value();
    } else if (flag == "--threads") {
      a.threads = static_cast<int>(vikcse::cli::to_int(flag, value()));
    } else if (flag == "--no-progress") {
      a.progress = false;
    } else {
      return false;
    }
    return true;
  });
  if (a.model.has_value() == a.random_model.has_value()) {
    vikcse::throw_error<vikcse::invalid_argument>("give exactly one of --model DIR or --random-model DIR (see --help)");
  }
  if (!a.senteval) vikcse::throw_error<vikcse::invalid_argument>("--senteval DIR is required (see --help)");
  if (a.mode != "test" && a.mode != "fast") vikcse::throw_error<vikcse::invalid_argument>("--mode: expected test or fast, got '{}'", a.mode);
  if (a.first != "embeddings" && a.first != "layer1") {
    vikcse::throw_error<vikcse::invalid_argument>("--first: expected embeddings or layer1, got '{}'", a.first);
  }
  if (a.batch_size <= 0) vikcse::throw_error<vikcse::invalid_argument>("--batch-size: expected > 0, got {}", a.batch_size);
  return a;
}

// Draws one progress bar per dataset being encoded.
class ProgressPrinter {
public:
  void operator()(std::string_view dataset, std::size_t done, std::size_t total) {
    if (!bar_ || dataset != dataset_) {
      bar_.reset();
      dataset_ = std::string(dataset);
      bar_ = std::make_unique<vikcse::ProgressBar>(std::cerr, total, vikcse::ProgressBarOptions{.label = dataset_, .unit = "sent"});
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
  vikcse::TokenizeFn tokenize;
  std::function<std::size_t(const std::string&)> length;
  vikcse::SpecialTokens special;
};

template <typename TokenizerType>
TextSide text_side(TokenizerType tokenizer) {
  auto shared = std::make_shared<const TokenizerType>(std::move(tokenizer));
  return {vikcse::make_tokenize_fn(shared), [shared](const std::string& s) { return shared->encode(s).size(); },
          shared->special_tokens()};
}

// WordPiece for BERT, byte-level BPE for RoBERTa (config.json's model_type).
TextSide load_text_side(const std::filesystem::path& dir, const std::string& model_type) {
  if (model_type == "roberta") return text_side(vikcse::ByteLevelBpeTokenizer::from_directory(dir));
  return text_side(vikcse::WordPieceTokenizer::from_directory(dir));
}

int run(const Args& args) {
  const int threads = vikcse::configure_threads(args.threads);
  const auto dir = args.model ? *args.model : *args.random_model;
  vikcse::AutoModel model(nullptr);
  std::string model_id;
  if (args.model) {
    model = vikcse::AutoModel::from_pretrained(dir);
    model_id = std::filesystem::absolute(dir).string();
  } else {
    auto config = vikcse::BertConfig::from_json_file(dir / "config.json");
    if (args.layers > 0) config.num_hidden_layers = args.layers;
    torch::manual_seed(args.seed);
    model = vikcse::AutoModel(config);
    model_id = fmt::format("random:{}:layers={}:seed={}", std::filesystem::absolute(dir).string(),
                           config.num_hidden_layers, args.seed);
  }

  if (args.bf16) {
    model->to(torch::kBFloat16);
    model_id += ":bf16";
  }
  const auto text = load_text_side(args.tokenizer ? *args.tokenizer : dir, model.config().model_type);
  const auto& special = text.special;
  vikcse::ModelEmbedderOptions embed_options;
  embed_options.pooler.kind = vikcse::parse_pooler_kind(args.pooler);
  embed_options.pooler.first = args.first == "layer1" ? vikcse::FirstLayer::layer1 : vikcse::FirstLayer::embeddings;
  embed_options.pooler.mask_token_id = special.mask;
  embed_options.max_length = model.config().max_position_embeddings;
  std::string pooler_id = args.pooler;
  if (embed_options.pooler.kind == vikcse::PoolerKind::mask) {
    embed_options.prompt.emplace(args.template_text, special.mask_token,
                                 vikcse::PromptTemplateOptions{.append_period = args.append_period, .lowercase = args.lowercase});
    pooler_id += fmt::format(":{}:period={}:lower={}", embed_options.prompt->text(), args.append_period, args.lowercase);
  } else if (embed_options.pooler.kind == vikcse::PoolerKind::avg_first_last) {
    pooler_id += ":" + args.first;
  }
  auto embedder = vikcse::make_model_embedder(model, text.tokenize, embed_options);

  vikcse::SentEvalOptions options;
  options.senteval_dir = *args.senteval;
  options.encode.batch_size = args.batch_size;
  options.encode.length = text.length;  // sort by token count (a template adds the same count to every sentence)
  options.transfer = vikcse::TransferOptions::for_mode(args.mode == "test" ? vikcse::TransferMode::test : vikcse::TransferMode::fast);
  options.cache_dir = args.cache;
  options.model_id = model_id;
  options.pooler_id = pooler_id;
  ProgressPrinter printer;
  if (args.progress) options.on_progress = std::ref(printer);

  const auto start = std::chrono::steady_clock::now();
  vikcse::SentEval engine(embedder, options);
  auto report = engine.run(args.tasks);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.metadata["mode"] = args.mode;
  report.metadata["threads"] = threads;
  report.metadata["seconds"] = seconds;
  report.metadata["senteval"] = std::filesystem::absolute(*args.senteval).string();

  std::cout << fmt::format("model: {}\npooler: {}\n", model_id, pooler_id);
  if (!report.sts.empty()) {
    std::cout << "\nSTS (Spearman x 100, \"all\"; STS-B and SICK-R test)\n" << vikcse::format_sts_table(report.sts);
  }
  if (!report.transfer.empty()) {
    std::cout << fmt::format("\nTransfer (test accuracy, {} mode)\n", args.mode) << vikcse::format_transfer_table(report.transfer);
    for (const auto& t : report.transfer) {
      if (t.f1) std::cout << fmt::format("{}: F1 {:.2f}\n", t.name, *t.f1);
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
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "\nvikcse_eval: error: " << e.what() << "\n";
    return 1;
  }
}
