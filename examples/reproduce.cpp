// SPDX-License-Identifier: Apache-2.0
/// @file reproduce.cpp
/// `vikcse_reproduce`: one program for the paper tables. Trains SimCSE, PromptBERT, MCSE or VIKCSE
/// from a Hugging Face checkpoint directory with the reference hyper-parameters as defaults
/// (METHODS.md §2.2, §3.5, §4.6, §5.5), selects the checkpoint on STS-B dev, evaluates the seven
/// STS tasks with the eval engine and prints our row beside the published one (METHODS.md §6).
///
///   vikcse_reproduce --method vikcse --model bert-base-uncased/ --corpus wiki1m_for_simcse.txt
///                    --kb flickr30k_clip_image_features.npy --senteval SentEval/data

#include "support/cli.hpp"

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/methods.hpp>
#include <vikcse/methods/embedder.hpp>
#include <vikcse/methods/paper_results.hpp>
#include <vikcse/model/templates.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/train/trainer.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* usage = R"(vikcse_reproduce: train one method of the paper tables and print our row beside the paper's

Usage:
  vikcse_reproduce --method simcse|promptbert|mcse|vikcse --model DIR --corpus FILE --senteval DIR [options]

Data:
  --model DIR          Hugging Face BERT/RoBERTa checkpoint (config.json, weights; tokenizer files unless --tokenizer)
  --tokenizer DIR      tokenizer directory (default: --model)
  --corpus FILE        training sentences, one per line (wiki1m_for_simcse.txt)
  --senteval DIR       SentEval data directory (holds downstream/)
  --kb FILE            vikcse: knowledge-base features [M, D] (.npy/.safetensors)
  --captions FILE      mcse: one caption per line
  --image-features F   mcse: image features [captions, 2048] (.npy/.safetensors)
Options (defaults: the reference setting of the method and backbone):
  --backbone NAME      bert-base|bert-large|roberta-base|roberta-large (default: from config.json's
                       model_type and hidden_size)
  --setting NAME       paper row to compare with: wiki (simcse, promptbert), wiki+flickr|wiki+coco (mcse, vikcse)
  --steps N            stop after N steps (default: the reference epochs)
  --batch-size N       --lr X   --epochs N   --eval-steps N   --seed N   --max-length N
  --tasks LIST         comma-separated STS tasks to report (default: the seven of the paper)
  --out DIR            checkpoints and metrics.jsonl (default: vikcse-reproduce-out)
  --help               this text
)";

struct Args {
  std::string method, backbone, setting;
  fs::path model, tokenizer, corpus, senteval, kb, captions, image_features, out = "vikcse-reproduce-out";
  std::int64_t steps = -1, batch_size = -1, epochs = -1, eval_steps = -1, seed = -1, max_length = 32;
  double lr = -1;
  std::vector<std::string> tasks;
};

Args parse(int argc, char** argv) {
  Args a;
  vikcse::cli::parse_options(argc, argv, usage, [&](const std::string& k, const vikcse::cli::NextValue& value) {
    if (k == "--method") a.method = value();
    else if (k == "--backbone") a.backbone = value();
    else if (k == "--setting") a.setting = value();
    else if (k == "--model") a.model = value();
    else if (k == "--tokenizer") a.tokenizer = value();
    else if (k == "--corpus") a.corpus = value();
    else if (k == "--senteval") a.senteval = value();
    else if (k == "--kb") a.kb = value();
    else if (k == "--captions") a.captions = value();
    else if (k == "--image-features") a.image_features = value();
    else if (k == "--out") a.out = value();
    else if (k == "--steps") a.steps = vikcse::cli::to_int(k, value());
    else if (k == "--batch-size") a.batch_size = vikcse::cli::to_int(k, value());
    else if (k == "--epochs") a.epochs = vikcse::cli::to_int(k, value());
    else if (k == "--eval-steps") a.eval_steps = vikcse::cli::to_int(k, value());
    else if (k == "--seed") a.seed = vikcse::cli::to_int(k, value());
    else if (k == "--max-length") a.max_length = vikcse::cli::to_int(k, value());
    else if (k == "--lr") a.lr = vikcse::cli::to_double(k, value());
    else if (k == "--tasks") a.tasks = vikcse::cli::split_list(value());
    else return false;
    return true;
  });
  if (a.method != "simcse" && a.method != "promptbert" && a.method != "mcse" && a.method != "vikcse") {
    throw vikcse::invalid_argument("--method must be simcse, promptbert, mcse or vikcse (got '" + a.method + "')");
  }
  if (a.model.empty() || a.corpus.empty() || a.senteval.empty()) {
    throw vikcse::invalid_argument("--model, --corpus and --senteval are required (see --help)");
  }
  if (a.method == "vikcse" && a.kb.empty()) throw vikcse::invalid_argument("--method vikcse needs --kb FILE");
  if (a.method == "mcse" && (a.captions.empty() || a.image_features.empty())) {
    throw vikcse::invalid_argument("--method mcse needs --captions FILE and --image-features FILE");
  }
  if (a.tokenizer.empty()) a.tokenizer = a.model;
  if (a.tasks.empty()) a.tasks = {"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"};
  return a;
}

/// The reference hyper-parameters of (method, backbone).
struct Hyper {
  std::int64_t batch_size;
  double lr;
  std::int64_t epochs;
  double weight_decay;
  std::int64_t eval_steps;
  std::uint64_t seed;
};

Hyper reference(const std::string& method, const std::string& backbone) {
  if (method == "simcse") {  // METHODS.md §2.2
    if (backbone == "bert-base") return {64, 3e-5, 1, 0.0, 125, 42};
    if (backbone == "bert-large") return {64, 1e-5, 1, 0.0, 125, 42};
    if (backbone == "roberta-base") return {512, 1e-5, 1, 0.0, 125, 42};
    return {512, 3e-5, 1, 0.0, 125, 42};
  }
  if (method == "promptbert") return {256, 1e-5, 1, 0.0, 125, 42};  // METHODS.md §4.6 (unsup)
  if (method == "mcse") return {64, 3e-5, 3, 0.0, 125, 0};          // METHODS.md §3.5 (wiki+flickr/coco)
  return {128, 3e-6, 2, 1e-6, 50, 42};                              // METHODS.md §5.5 (VIKCSE)
}

std::string backbone_of(const vikcse::BertConfig& c) {
  const std::string family = c.model_type == "roberta" ? "roberta" : "bert";
  return family + (c.hidden_size >= 1024 ? "-large" : "-base");
}

struct Run {
  std::vector<vikcse::StsTaskResult> test;
  double dev_before = 0, dev_best = 0;
  std::int64_t best_step = -1;
};

/// How a method embeds for model selection (STS-B dev) and for the reported test tables; they
/// differ only for PromptBERT (METHODS.md §4.5 / P1).
struct Embedders {
  vikcse::Embedder select;
  vikcse::Embedder report;
};

/// Trains `model` on `source`, keeps the best STS-B dev checkpoint, evaluates `tasks`.
template <typename Holder>
Run train_and_evaluate(Holder& model, const vikcse::BatchSource& source, const Embedders& embedders,
                       const Args& a, const Hyper& h, std::int64_t steps) {
  const auto dev = vikcse::read_sts_task(a.senteval, "STSBenchmark-dev");
  auto dev_score = [&] {
    return vikcse::evaluate_sts(dev, embedders.select, {}, {.alignment_uniformity = false}).spearman.all;
  };
  vikcse::Trainer trainer(vikcse::TrainerOptions()
                              .learning_rate(h.lr)
                              .weight_decay(h.weight_decay)
                              .max_steps(steps)
                              .eval_steps(h.eval_steps)
                              .seed(h.seed)
                              .output_dir(a.out));
  trainer.on_record([](const nlohmann::json& r) {
    if (r.contains("eval")) {
      std::cout << fmt::format("step {}: STS-B dev Spearman {:.4f}\n", r["step"].get<std::int64_t>(), r["eval"].get<double>());
    }
  });
  const auto result = trainer.fit(model, source, dev_score, /*evaluate_initial=*/true);
  vikcse::load_model_checkpoint(*model, a.out / "best");
  Run run{{}, result.initial_score, result.best_score, result.best_step};
  for (const auto& t : a.tasks) {
    run.test.push_back(
        vikcse::evaluate_sts(vikcse::read_sts_task(a.senteval, t), embedders.report, {}, {.alignment_uniformity = false}));
  }
  return run;
}

void print_rows(const Args& a, const std::string& backbone, const std::string& setting, const Run& run) {
  std::string header = fmt::format("| {:<40} |", "model");
  std::string ours = fmt::format("| {:<40} |", fmt::format("{} {} {} (ours)", a.method, backbone, setting));
  double sum = 0;
  for (const auto& r : run.test) {
    const auto cell = std::stod(fmt::format("{:.2f}", 100.0 * r.spearman.all));
    sum += cell;
    header += fmt::format(" {:>7} |", vikcse::sts_column_name(r.name));
    ours += fmt::format(" {:>7.2f} |", cell);
  }
  header += fmt::format(" {:>7} |\n", "Avg.");
  ours += fmt::format(" {:>7.2f} |\n", sum / static_cast<double>(run.test.size()));
  std::cout << '\n' << header << ours;
  const auto paper = vikcse::find_paper_row(a.method, backbone, setting);
  if (!paper) {
    std::cout << fmt::format("(no published row for {} {} {})\n", a.method, backbone, setting);
    return;
  }
  const std::vector<std::string> order{"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"};
  std::string row = fmt::format("| {:<40} |", fmt::format("{} {} {} (paper)", a.method, backbone, setting));
  for (const auto& r : run.test) {
    const auto at = std::find(order.begin(), order.end(), r.name) - order.begin();
    row += at < 7 ? fmt::format(" {:>7.2f} |", paper->scores[static_cast<std::size_t>(at)]) : fmt::format(" {:>7} |", "-");
  }
  row += fmt::format(" {:>7.2f} |\n", paper->scores[7]);
  std::cout << row << "paper row: " << paper->source << (run.test.size() < 7 ? " (paper Avg. is over all seven tasks)" : "")
            << '\n';
}

}  // namespace

int main(int argc, char** argv) try {
  const auto a = parse(argc, argv);
  vikcse::configure_threads();
  auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(a.tokenizer));
  const auto specials = vikcse::special_ids(*tokenizer);
  auto tokenize = vikcse::tokenize_function(tokenizer);
  auto encoder = vikcse::AutoModel::from_pretrained(a.model);
  const auto& config = encoder.config();
  if (tokenizer->vocab_size() > config.vocab_size) {
    throw vikcse::config_error(fmt::format("the tokenizer has {} tokens but the model's vocab_size is {}",
                                           tokenizer->vocab_size(), config.vocab_size));
  }
  const auto backbone = a.backbone.empty() ? backbone_of(config) : a.backbone;
  const auto setting = !a.setting.empty() ? a.setting : (a.method == "simcse" || a.method == "promptbert") ? "wiki" : "wiki+flickr";
  auto h = reference(a.method, backbone);
  if (a.batch_size > 0) h.batch_size = a.batch_size;
  if (a.lr > 0) h.lr = a.lr;
  if (a.epochs > 0) h.epochs = a.epochs;
  if (a.eval_steps > 0) h.eval_steps = a.eval_steps;
  if (a.seed >= 0) h.seed = static_cast<std::uint64_t>(a.seed);
  const bool roberta = config.model_type == "roberta";
  const auto hidden = config.hidden_size;

  auto corpus = std::make_shared<const std::vector<std::string>>(vikcse::read_corpus(a.corpus, /*skip_empty=*/true));
  const auto per_epoch = (static_cast<std::int64_t>(corpus->size()) + h.batch_size - 1) / h.batch_size;
  std::cout << fmt::format("{} on {} ({}): {} sentences, batch {}, lr {}, epochs {}, weight decay {}, eval every {} steps, "
                           "seed {}\n",
                           a.method, a.model.string(), backbone, corpus->size(), h.batch_size, h.lr, h.epochs,
                           h.weight_decay, h.eval_steps, h.seed);
  auto sentence_source = [&](const vikcse::Collator& c) {
    auto collator = std::make_shared<vikcse::Collator>(c);
    return vikcse::shuffled_batches<std::string>(corpus, h.batch_size, h.seed, [collator](const std::vector<std::string>& b) {
      return collator->unsupervised(b);
    });
  };
  torch::manual_seed(h.seed);
  Run run;
  if (a.method == "simcse" || a.method == "mcse") {
    const vikcse::Collator collator(tokenize, {specials, {std::nullopt, a.max_length}, {std::nullopt, a.max_length}});
    const auto steps = a.steps > 0 ? a.steps : h.epochs * per_epoch;
    if (a.method == "simcse") {
      vikcse::AutoSimCSE model(encoder, vikcse::ClsPooler(hidden), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
      const auto embedder = vikcse::make_embedder(model, tokenize, specials);
      run = train_and_evaluate(model, sentence_source(collator), {embedder, embedder}, a, h, steps);
    } else {
      const auto captions = std::make_shared<const std::vector<std::string>>(vikcse::read_corpus(a.captions));
      const auto images = vikcse::load_features(
          a.image_features, {.key = {}, .expected_rows = static_cast<std::int64_t>(captions->size()), .expected_dim = std::nullopt});
      std::vector<std::int64_t> rows(captions->size());
      for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
      auto collator_ptr = std::make_shared<vikcse::Collator>(collator);
      const auto paired = vikcse::shuffled_batches<std::int64_t>(
          std::make_shared<const std::vector<std::int64_t>>(rows), h.batch_size, h.seed,
          [collator_ptr, captions, images](const std::vector<std::int64_t>& idx) {
            std::vector<std::string> text;
            for (auto i : idx) text.push_back((*captions)[static_cast<std::size_t>(i)]);
            auto b = collator_ptr->unsupervised(text);
            b.image_features = images.index_select(0, torch::tensor(idx, torch::kLong));
            return b;
          });
      const auto source = vikcse::mixed_batches(sentence_source(collator), paired);
      vikcse::AutoMCSE model(encoder, vikcse::ClsPooler(hidden), vikcse::PairedImageFeatures(images.size(1)),
                             vikcse::MultimodalInfoNCELoss(vikcse::MultimodalInfoNCELossOptions(hidden, images.size(1))));
      const auto embedder = vikcse::make_embedder(model, tokenize, specials);
      run = train_and_evaluate(model, source, {embedder, embedder}, a, h,
                               a.steps > 0 ? a.steps : h.epochs * source.steps_per_epoch);
    }
  } else {
    const auto mask_token = tokenizer->special_tokens().mask_token;
    auto layout_of = [&](const char* name) {
      return vikcse::make_prompt_layout(vikcse::make_template(vikcse::find_template(name), mask_token), tokenize, specials);
    };
    const auto steps = a.steps > 0 ? a.steps : h.epochs * per_epoch;
    if (a.method == "promptbert") {  // T1/T2 views, δ-denoising with gradient (METHODS.md §4)
      const auto t1 = layout_of(roberta ? "promptbert-roberta-t1" : "promptbert-bert-t1");
      const auto t2 = layout_of(roberta ? "promptbert-roberta-t2" : "promptbert-bert-t2");
      const vikcse::Collator collator(tokenize, {specials, {t1, a.max_length}, {t2, a.max_length}});
      vikcse::AutoPromptBERT model(
          encoder,
          vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)
                                       .denoise_layouts({t1, t2})
                                       .position_offset(roberta ? config.pad_token_id + 1 : 0)),
          vikcse::NoKnowledge(), vikcse::InfoNCELoss());
      // Selection on STS-B dev with δ subtracted; the reported tables with the raw [MASK] vector of
      // T1 and a period appended (PromptBERT's evaluation.py; METHODS.md §4.5, P1).
      const Embedders embedders{
          vikcse::make_embedder(model, tokenize, specials, {.layout = t1, .max_length = 512, .denoise = true, .append_period = false}),
          vikcse::make_embedder(model, tokenize, specials,
                                {.layout = t1, .max_length = 512, .denoise = false, .append_period = true})};
      run = train_and_evaluate(model, sentence_source(collator), embedders, a, h, steps);
    } else {  // VIKCSE: one template for both views (idx 23 BERT / 25 RoBERTa), two passes
      const auto t = layout_of(roberta ? "vikcse-25" : "vikcse-23");
      const vikcse::Collator collator(tokenize, {specials, {t, a.max_length}, {t, a.max_length}});
      const auto kb = vikcse::load_features(a.kb);
      vikcse::AutoVIKCSE model(encoder, vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)),
                               vikcse::VisualKnowledgeBase<>(kb),
                               vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(hidden, kb.size(1))),
                               vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
      const auto embedder = vikcse::make_embedder(model, tokenize, specials, {.layout = t, .max_length = 512, .denoise = std::nullopt, .append_period = false});
      run = train_and_evaluate(model, sentence_source(collator), {embedder, embedder}, a, h, steps);
    }
  }
  std::cout << fmt::format("\nSTS-B dev Spearman: untrained {:.4f}, best {:.4f} at step {}\n", run.dev_before, run.dev_best,
                           run.best_step);
  if (a.method == "promptbert") {
    std::cout << "(PromptBERT protocol: dev selection on the δ-denoised [MASK] vector of T1; the table uses the raw [MASK]\n"
                 " vector of T1 with '.' appended to each sentence, as PromptBERT's evaluation.py does)\n";
  }
  print_rows(a, backbone, setting, run);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_reproduce: error: " << e.what() << '\n';
  return 1;
}
