// SPDX-License-Identifier: Apache-2.0
/// @file reproduce.cpp
/// `vikcse_reproduce`: one program for the paper tables. Trains SimCSE, PromptBERT, MCSE or VIKCSE
/// from a Hugging Face checkpoint directory with the reference hyper-parameters as defaults
/// (`vikcse::reference_hyperparameters`), selects the checkpoint on STS-B dev, evaluates the seven
/// STS tasks with the eval engine and prints our row beside the published one
/// (`vikcse/methods/paper_results.hpp`). `--dry-run` prints every effective setting.
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
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/methods/paper_results.hpp>
#include <vikcse/model/templates.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/train/trainer.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

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
Options (defaults: the reference setting of the method and backbone; --dry-run prints them):
  --backbone NAME      bert-base|bert-large|roberta-base|roberta-large (default: from config.json's
                       model_type and hidden_size)
  --setting NAME       paper row to compare with: wiki (simcse, promptbert), wiki+flickr|wiki+coco (mcse, vikcse)
  --steps N            stop after N steps (default: the reference epochs)
  --batch-size N       --lr X   --epochs N   --eval-steps N   --seed N
  --max-length N       token cap, counted as the method counts it (see --dry-run)
  --tasks LIST         comma-separated STS tasks to report (default: the seven of the paper)
  --out DIR            checkpoints and metrics.jsonl (default: vikcse-reproduce-out)
The reference code's own choices, each off by default (the library's protocol is the default):
  --truncation MODE    vikcse: sentence (default: cut the sentence, keep the template and its mask) or
                       whole-sequence (cut the templated string at --max-length, as the reference;
                       rows that lose their mask leave the [MASK] terms)
  --pad-to-max-length  pad every row to the longest possible row (the VIKCSE reference pads to 77)
  --select-on SET      stsb-dev (default) or sts-test-avg (the seven STS test sets, VIKCSE's reference;
                       optimistic scores, for reproduction only)
  --lowercase-eval     lower-case evaluation sentences (VIKCSE's reference, also for RoBERTa)
  --csv-corpus         read the corpus through a tab/quote CSV parser (VIKCSE's reference: quoted lines
                       merge, 1,000,000 wiki1m lines give 995,447 rows) instead of line by line
  --reference-delta-positions
                       promptbert on RoBERTa: δ-pass positions from 0 (PromptBERT's bug) instead of 2
  --reference-code     all of the above that apply to the method
  --dry-run            print the effective settings and the first training batch, then exit
  --help               this text
)";

struct Args {
  std::string method, backbone, setting, truncation = "sentence", select_on = "stsb-dev";
  fs::path model, tokenizer, corpus, senteval, kb, captions, image_features, out = "vikcse-reproduce-out";
  std::int64_t steps = -1, batch_size = -1, epochs = -1, eval_steps = -1, seed = -1, max_length = -1;
  double lr = -1;
  bool pad_to_max_length = false, lowercase_eval = false, csv_corpus = false, reference_delta_positions = false;
  bool dry_run = false;
  std::vector<std::string> tasks;
};

Args parse(int argc, char** argv) {
  Args a;
  bool reference_code = false;
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
    else if (k == "--truncation") a.truncation = value();
    else if (k == "--select-on") a.select_on = value();
    else if (k == "--pad-to-max-length") a.pad_to_max_length = true;
    else if (k == "--lowercase-eval") a.lowercase_eval = true;
    else if (k == "--csv-corpus") a.csv_corpus = true;
    else if (k == "--reference-delta-positions") a.reference_delta_positions = true;
    else if (k == "--reference-code") reference_code = true;
    else if (k == "--dry-run") a.dry_run = true;
    else return false;
    return true;
  });
  if (a.method != "simcse" && a.method != "promptbert" && a.method != "mcse" && a.method != "vikcse") {
    throw vikcse::invalid_argument("--method must be simcse, promptbert, mcse or vikcse (got '" + a.method + "')");
  }
  if (a.truncation != "sentence" && a.truncation != "whole-sequence") {
    throw vikcse::invalid_argument("--truncation must be sentence or whole-sequence (got '" + a.truncation + "')");
  }
  if (a.select_on != "stsb-dev" && a.select_on != "sts-test-avg") {
    throw vikcse::invalid_argument("--select-on must be stsb-dev or sts-test-avg (got '" + a.select_on + "')");
  }
  if (a.truncation == "whole-sequence" && a.method != "vikcse") {
    throw vikcse::invalid_argument("--truncation whole-sequence is VIKCSE's reference rule (--method vikcse)");
  }
  if (reference_code) {
    if (a.method == "vikcse") {
      a.truncation = "whole-sequence";
      a.pad_to_max_length = true;
      a.select_on = "sts-test-avg";
      a.lowercase_eval = true;
      a.csv_corpus = true;
    }
    if (a.method == "promptbert") a.reference_delta_positions = true;
  }
  if (a.model.empty() || a.corpus.empty() || (a.senteval.empty() && !a.dry_run)) {
    throw vikcse::invalid_argument("--model, --corpus and --senteval are required (see --help)");
  }
  if (!a.dry_run && a.method == "vikcse" && a.kb.empty()) throw vikcse::invalid_argument("--method vikcse needs --kb FILE");
  if (!a.dry_run && a.method == "mcse" && (a.captions.empty() || a.image_features.empty())) {
    throw vikcse::invalid_argument("--method mcse needs --captions FILE and --image-features FILE");
  }
  if (a.tokenizer.empty()) a.tokenizer = a.model;
  if (a.tasks.empty()) a.tasks = {"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"};
  return a;
}

std::string backbone_of(const vikcse::BertConfig& c) {
  const std::string family = c.model_type == "roberta" ? "roberta" : "bert";
  return family + (c.hidden_size >= 1024 ? "-large" : "-base");
}

/// The reference setting of the run with the command line's overrides.
vikcse::ReferenceSettings effective_settings(const Args& a, const std::string& backbone) {
  auto s = vikcse::reference_hyperparameters(a.method, backbone);
  if (a.batch_size > 0) s.batch_size = a.batch_size;
  if (a.lr > 0) s.learning_rate = a.lr;
  if (a.epochs > 0) s.epochs = a.epochs;
  if (a.eval_steps > 0) s.eval_steps = a.eval_steps;
  if (a.seed >= 0) s.seed = static_cast<std::uint64_t>(a.seed);
  if (a.max_length > 0) s.max_length = a.max_length;
  s.pad_to_max_length = a.pad_to_max_length;
  s.selection = a.select_on == "sts-test-avg" ? vikcse::Selection::sts_test_avg : vikcse::Selection::stsb_dev;
  return s;
}

/// The view formats of view 0 and view 1 (layouts from the settings' templates).
struct Views {
  std::vector<vikcse::PromptLayout> layouts;  // empty: plain input
  vikcse::ViewFormat first, second;
  std::string truncation;  // what the cap cuts, in words
};

Views view_formats(const vikcse::ReferenceSettings& s, const Args& a, const vikcse::AutoTokenizer& tokenizer,
                   const vikcse::TokenizeFunction& tokenize, const vikcse::SpecialIds& specials) {
  Views v;
  for (const auto& name : s.templates) {
    v.layouts.push_back(vikcse::make_prompt_layout(
        vikcse::make_template(vikcse::find_template(name), tokenizer.special_tokens().mask_token), tokenize, specials));
  }
  auto format = [&](std::size_t i) -> vikcse::ViewFormat {
    if (v.layouts.empty()) return {std::nullopt, s.max_length, vikcse::Truncation::sentence_only, s.pad_to_max_length};
    const auto& layout = v.layouts[std::min(i, v.layouts.size() - 1)];
    if (s.length_limit == vikcse::LengthLimit::sentence) {
      return {layout, s.max_length, vikcse::Truncation::sentence_only, s.pad_to_max_length};
    }
    if (a.truncation == "whole-sequence") {
      return {layout, s.max_length, vikcse::Truncation::whole_sequence, s.pad_to_max_length};
    }
    return {layout, std::max<std::int64_t>(1, s.max_length - layout.size()), vikcse::Truncation::sentence_only,
            s.pad_to_max_length};
  };
  v.first = format(0);
  v.second = format(1);
  if (v.layouts.empty()) {
    v.truncation = fmt::format("whole sequence cut to {} tokens", s.max_length);
  } else if (v.first.truncation == vikcse::Truncation::whole_sequence) {
    v.truncation = fmt::format("whole-sequence: the templated sequence cut to {} tokens (the reference code; "
                               "rows that lose their mask leave the [MASK] terms)", s.max_length);
  } else {
    v.truncation = fmt::format("sentence: the sentence cut to {} tokens, the template always kept", v.first.max_length);
  }
  return v;
}

std::string join_ids(const std::vector<std::int64_t>& ids) { return fmt::format("[{}]", fmt::join(ids, ", ")); }

std::string join_tokens(const std::vector<std::int64_t>& ids, const vikcse::AutoTokenizer& tokenizer) {
  std::vector<std::string> tokens;
  for (auto id : ids) tokens.push_back(tokenizer.id_to_token(id));
  return fmt::format("[{}]", fmt::join(tokens, " "));
}

/// `--dry-run`: every effective setting, one `key: value` line each, then the first batch.
void print_dry_run(const Args& a, const vikcse::ReferenceSettings& s, const std::string& setting, const Views& views,
                   const vikcse::AutoTokenizer& tokenizer, std::int64_t steps, std::size_t sentences,
                   const vikcse::TrainingBatch& batch) {
  auto line = [](const std::string& key, const auto& value) { std::cout << fmt::format("{}: {}\n", key, value); };
  std::cout << "vikcse_reproduce --dry-run: the effective settings (nothing is trained)\n";
  line("method", s.method);
  line("backbone", s.backbone);
  line("setting", setting);
  line("reference", s.source);
  for (std::size_t i = 0; i < s.templates.size(); ++i) {
    const auto& entry = vikcse::find_template(s.templates[i]);
    const auto& l = views.layouts[i];
    line(fmt::format("template view {}", i), fmt::format("{} {}", entry.name, entry.text));
    line(fmt::format("template view {} prefix ids", i), join_ids(l.prefix));
    line(fmt::format("template view {} prefix tokens", i), join_tokens(l.prefix, tokenizer));
    line(fmt::format("template view {} suffix ids", i), join_ids(l.suffix));
    line(fmt::format("template view {} suffix tokens", i), join_tokens(l.suffix, tokenizer));
  }
  if (s.templates.empty()) line("template", "none ([CLS] sentence [SEP])");
  line("max length", fmt::format("{} ({})", s.max_length, vikcse::length_limit_name(s.length_limit)));
  line("truncation", views.truncation);
  line("padding", s.pad_to_max_length ? "to the longest possible row" : "to the longest row of the batch");
  line("batch size", s.batch_size);
  line("learning rate", s.learning_rate);
  line("epochs", s.epochs);
  line("steps", steps);
  line("weight decay", s.weight_decay);
  line("eval steps", s.eval_steps);
  line("temperature", s.temperature);
  line("lambda", s.lambda);
  line("alpha", s.alpha);
  line("beta", s.beta);
  line("seed", s.seed);
  line("denoise", s.denoise ? "yes" : "no");
  line("train pooler", s.train_pooler);
  line("eval pooler", s.eval_pooler);
  line("selection", vikcse::selection_name(s.selection));
  line("reference selection", vikcse::selection_name(vikcse::reference_hyperparameters(a.method, s.backbone).selection));
  line("lowercase eval", a.lowercase_eval ? "yes" : "no");
  line("corpus reader", fmt::format("{} ({} sentences)", a.csv_corpus ? "csv-compatible" : "lines", sentences));
  if (a.method == "promptbert") line("delta positions", a.reference_delta_positions ? "from 0 (reference)" : "encoder's");
  const auto rows = std::min<std::int64_t>(2, batch.first.input_ids.size(0));
  std::cout << fmt::format("first batch: {} rows of {} tokens (showing {})\n", batch.first.input_ids.size(0),
                           batch.first.input_ids.size(1), rows);
  auto to_vec = [](const torch::Tensor& t) {
    const auto c = t.to(torch::kLong).contiguous();
    return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
  };
  for (int view = 0; view < 2; ++view) {
    const auto& b = view == 0 ? batch.first : batch.second;
    for (std::int64_t r = 0; r < rows; ++r) {
      line(fmt::format("batch view {} row {} ids", view, r), join_ids(to_vec(b.input_ids[r])));
      line(fmt::format("batch view {} row {} mask", view, r), join_ids(to_vec(b.attention_mask[r])));
    }
  }
}

struct Run {
  std::vector<vikcse::StsTaskResult> test;
  double dev_before = 0, dev_best = 0;
  std::int64_t best_step = -1;
};

/// How a method embeds for model selection and for the reported test tables; they differ only for
/// PromptBERT (selection with δ subtracted, report raw with a period).
struct Embedders {
  vikcse::Embedder select;
  vikcse::Embedder report;
};

/// Trains `model` on `source`, keeps the best checkpoint of the selection set, evaluates `tasks`.
template <typename Holder>
Run train_and_evaluate(Holder& model, const vikcse::BatchSource& source, const Embedders& embedders, const Args& a,
                       const vikcse::ReferenceSettings& s, std::int64_t steps) {
  if (steps < s.eval_steps) {
    throw vikcse::invalid_argument(fmt::format("--steps {} is below the evaluation interval {}: no checkpoint would be "
                                               "evaluated (lower --eval-steps)", steps, s.eval_steps));
  }
  const bool test_selection = s.selection == vikcse::Selection::sts_test_avg;
  std::vector<vikcse::StsTaskData> selection_tasks;
  if (test_selection) {
    for (const auto& t : a.tasks) selection_tasks.push_back(vikcse::read_sts_task(a.senteval, t));
  } else {
    selection_tasks.push_back(vikcse::read_sts_task(a.senteval, "STSBenchmark-dev"));
  }
  auto score = [&] {
    double sum = 0;
    for (const auto& t : selection_tasks) {
      sum += vikcse::evaluate_sts(t, embedders.select, {}, {.alignment_uniformity = false}).spearman.all;
    }
    return sum / static_cast<double>(selection_tasks.size());
  };
  const std::string set = test_selection ? "STS test average" : "STS-B dev Spearman";
  vikcse::Trainer trainer(vikcse::TrainerOptions()
                              .learning_rate(s.learning_rate)
                              .weight_decay(s.weight_decay)
                              .max_steps(steps)
                              .eval_steps(s.eval_steps)
                              .seed(s.seed)
                              .select_on(test_selection ? vikcse::SelectOn::test : vikcse::SelectOn::dev)
                              .output_dir(a.out));
  trainer.on_record([&](const nlohmann::json& r) {
    if (r.contains("eval")) {
      std::cout << fmt::format("step {}: {} {:.4f}\n", r["step"].get<std::int64_t>(), set, r["eval"].get<double>());
    }
    if (r.contains("warning")) std::cout << "warning: " << r["warning"].get<std::string>() << '\n';
  });
  const auto result = trainer.fit(model, source, score, /*evaluate_initial=*/true);
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
  const auto config = vikcse::BertConfig::from_json_file(a.model / "config.json");
  if (tokenizer->vocab_size() > config.vocab_size) {
    throw vikcse::config_error(fmt::format("the tokenizer has {} tokens but the model's vocab_size is {}",
                                           tokenizer->vocab_size(), config.vocab_size));
  }
  const auto backbone = a.backbone.empty() ? backbone_of(config) : a.backbone;
  const auto setting = !a.setting.empty() ? a.setting : (a.method == "simcse" || a.method == "promptbert") ? "wiki" : "wiki+flickr";
  const auto s = effective_settings(a, backbone);
  const bool roberta = config.model_type == "roberta";
  const auto hidden = config.hidden_size;
  const auto views = view_formats(s, a, *tokenizer, tokenize, specials);
  const vikcse::Collator collator(tokenize, {specials, views.first, views.second});

  auto corpus = std::make_shared<const std::vector<std::string>>(
      a.csv_corpus ? vikcse::read_corpus_csv_compatible(a.corpus) : vikcse::read_corpus(a.corpus, /*skip_empty=*/true));
  const auto per_epoch = (static_cast<std::int64_t>(corpus->size()) + s.batch_size - 1) / s.batch_size;
  auto sentence_source = [&] {
    auto c = std::make_shared<vikcse::Collator>(collator);
    return vikcse::shuffled_batches<std::string>(corpus, s.batch_size, s.seed,
                                                 [c](const std::vector<std::string>& b) { return c->unsupervised(b); });
  };
  std::shared_ptr<const std::vector<std::string>> captions;
  if (a.method == "mcse" && !a.captions.empty()) {
    captions = std::make_shared<const std::vector<std::string>>(vikcse::read_corpus(a.captions));
  }
  // MCSE's epoch is T text + P paired batches (mixed sampling).
  const auto paired_per_epoch =
      captions ? (static_cast<std::int64_t>(captions->size()) + s.batch_size - 1) / s.batch_size : 0;
  const auto steps = a.steps > 0 ? a.steps : s.epochs * (per_epoch + paired_per_epoch);
  if (a.dry_run) {
    print_dry_run(a, s, setting, views, *tokenizer, steps, corpus->size(), sentence_source().batch(0, 0));
    return 0;
  }

  std::cout << fmt::format("{} on {} ({}): {} sentences, batch {}, lr {}, epochs {}, weight decay {}, eval every {} steps, "
                           "seed {}, {}\n",
                           a.method, a.model.string(), backbone, corpus->size(), s.batch_size, s.learning_rate, s.epochs,
                           s.weight_decay, s.eval_steps, s.seed, views.truncation);
  auto encoder = vikcse::AutoModel::from_pretrained(a.model);
  torch::manual_seed(s.seed);
  vikcse::EmbedderOptions eval_options{.layout = std::nullopt, .max_length = 512, .denoise = std::nullopt,
                                       .append_period = false, .lowercase = a.lowercase_eval};
  Run run;
  if (a.method == "simcse") {
    vikcse::AutoSimCSE model(encoder, vikcse::ClsPooler(hidden), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
    const auto embedder = vikcse::make_embedder(model, tokenize, specials, eval_options);
    run = train_and_evaluate(model, sentence_source(), {embedder, embedder}, a, s, steps);
  } else if (a.method == "mcse") {
    const auto images = vikcse::load_features(
        a.image_features, {.key = {}, .expected_rows = static_cast<std::int64_t>(captions->size()), .expected_dim = std::nullopt});
    std::vector<std::int64_t> rows(captions->size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
    auto collator_ptr = std::make_shared<vikcse::Collator>(collator);
    const auto paired = vikcse::shuffled_batches<std::int64_t>(
        std::make_shared<const std::vector<std::int64_t>>(rows), s.batch_size, s.seed,
        [collator_ptr, captions, images](const std::vector<std::int64_t>& idx) {
          std::vector<std::string> text;
          for (auto i : idx) text.push_back((*captions)[static_cast<std::size_t>(i)]);
          auto b = collator_ptr->unsupervised(text);
          b.image_features = images.index_select(0, torch::tensor(idx, torch::kLong));
          return b;
        });
    const auto source = vikcse::mixed_batches(sentence_source(), paired);
    vikcse::AutoMCSE model(encoder, vikcse::ClsPooler(hidden), vikcse::PairedImageFeatures(images.size(1)),
                           vikcse::MultimodalInfoNCELoss(
                               vikcse::MultimodalInfoNCELossOptions(hidden, images.size(1)).lambda(s.lambda)));
    const auto embedder = vikcse::make_embedder(model, tokenize, specials, eval_options);
    run = train_and_evaluate(model, source, {embedder, embedder}, a, s, steps);
  } else if (a.method == "promptbert") {  // T1/T2 views, δ-denoising with gradient
    vikcse::AutoPromptBERT model(encoder,
                                 vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)
                                                              .denoise_layouts(views.layouts)
                                                              .reference_roberta_delta_positions(
                                                                  roberta && a.reference_delta_positions)),
                                 vikcse::NoKnowledge(), vikcse::InfoNCELoss());
    auto select = eval_options;
    select.layout = views.layouts[0];
    select.denoise = true;
    auto report = select;
    report.denoise = false;
    report.append_period = true;
    run = train_and_evaluate(model, sentence_source(),
                             {vikcse::make_embedder(model, tokenize, specials, select),
                              vikcse::make_embedder(model, tokenize, specials, report)},
                             a, s, steps);
  } else {  // VIKCSE: one template for both views, two passes
    const auto kb = vikcse::load_features(a.kb);
    vikcse::AutoVIKCSE model(encoder, vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)),
                             vikcse::VisualKnowledgeBase<>(kb),
                             vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(hidden, kb.size(1))
                                                              .alpha(s.alpha)
                                                              .beta(s.beta)
                                                              .temperature(s.temperature)),
                             vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
    auto options = eval_options;
    options.layout = views.layouts[0];
    const auto embedder = vikcse::make_embedder(model, tokenize, specials, options);
    run = train_and_evaluate(model, sentence_source(), {embedder, embedder}, a, s, steps);
  }
  const std::string set = s.selection == vikcse::Selection::sts_test_avg ? "STS test average" : "STS-B dev Spearman";
  std::cout << fmt::format("\n{}: untrained {:.4f}, best {:.4f} at step {}\n", set, run.dev_before, run.dev_best,
                           run.best_step);
  if (a.method == "promptbert") {
    std::cout << "(PromptBERT protocol: selection on the δ-denoised [MASK] vector of T1; the table uses the raw [MASK]\n"
                 " vector of T1 with '.' appended to each sentence, as PromptBERT's evaluation.py does)\n";
  }
  print_rows(a, backbone, setting, run);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_reproduce: error: " << e.what() << '\n';
  return 1;
}
