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
///
/// Data-parallel: start one process per rank with torchrun's variables (RANK, WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT) and the same options; `--batch-size` stays the global batch, which
/// the ranks split, and rank 0 alone evaluates, writes and prints (built with Gloo only).

#include "support/cli_checks.hpp"
#include "support/device.hpp"
#include "support/reproduce_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/methods/paper_results.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/prompt/templates.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/train/trainer.hpp>
#include <vikcse/util/signals.hpp>
#if VIKCSE_REPRODUCE_DATA_PARALLEL
#include <vikcse/distributed/data_parallel.hpp>
#endif

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

using vikcse::cli::reproduce::add_options;
using vikcse::cli::reproduce::Args;
using vikcse::cli::reproduce::finish;

/// The ranks of a data-parallel run, from torchrun's variables; null for one process.
std::shared_ptr<const vikcse::DataParallel> join_ranks(const std::string& device) {
#if VIKCSE_REPRODUCE_DATA_PARALLEL
  vikcse::ProcessGroupOptions defaults;
  if (device != "cpu") defaults.backend = vikcse::DistributedBackend::nccl;  // CUDA tensors: NCCL
  return vikcse::data_parallel_from_env(defaults);
#else
  (void)device;
  const char* world = std::getenv("WORLD_SIZE");
  if (world != nullptr && *world != '\0' && std::string_view(world) != "1") {
    throw vikcse::invalid_argument(
        fmt::format("WORLD_SIZE is {}, but this vikcse_reproduce was built without c10d Gloo (Debian: libgloo-dev) "
                    "and trains in one process only",
                    world));
  }
  return nullptr;
#endif
}

/// The device `--device` names; `cuda` is this process's GPU (LOCAL_RANK's under torchrun).
torch::Device training_device(const std::string& name) {
  int local_rank = 0;
#if VIKCSE_REPRODUCE_DATA_PARALLEL
  if (name != "cpu") local_rank = vikcse::process_group_options_from_env().local_rank;
#endif
  return vikcse::cli::resolve_device(name, local_rank);
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

/// The recipe options of the effective settings and this run's switches.
vikcse::RecipeOptions recipe_options(const vikcse::ReferenceSettings& s, const Args& a, bool roberta) {
  auto o = vikcse::recipe_options(s);
  o.truncation =
      a.truncation == "whole-sequence" ? vikcse::Truncation::whole_sequence : vikcse::Truncation::sentence_only;
  o.reference_roberta_delta_positions = roberta && a.reference_delta_positions;
  o.lowercase_eval = a.lowercase_eval;
  return o;
}

/// The view formats of view 0 and view 1 (what the recipe's collator uses), for `--dry-run`.
struct Views {
  std::vector<vikcse::PromptLayout> layouts;  // empty: plain input
  vikcse::ViewFormat first, second;
  std::string truncation;  // what the cap cuts, in words
};

Views view_formats(const vikcse::RecipeOptions& o, const vikcse::TokenizeFunction& tokenize,
                   const vikcse::SpecialTokens& specials) {
  Views v;
  v.layouts = vikcse::recipe_layouts(o, tokenize, specials);
  std::tie(v.first, v.second) = vikcse::recipe_view_formats(v.layouts, o);
  if (v.layouts.empty()) {
    v.truncation = fmt::format("whole sequence cut to {} tokens", o.max_length);
  } else if (v.first.truncation == vikcse::Truncation::whole_sequence) {
    v.truncation = fmt::format(
        "whole-sequence: the templated sequence cut to {} tokens (the reference code; "
        "rows that lose their mask leave the [MASK] terms)",
        o.max_length);
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
  line("device", a.device);
  line("precision", a.bf16 ? "bf16 autocast (float32 weights, optimizer state and losses)" : "float32");
  line("denoise", s.denoise ? "yes" : "no");
  line("train pooler", s.train_pooler);
  line("eval pooler", s.eval_pooler);
  line("selection", vikcse::selection_name(s.selection));
  line("reference selection",
       vikcse::selection_name(vikcse::reference_hyperparameters(a.method, s.backbone).selection));
  line("lowercase eval", a.lowercase_eval ? "yes" : "no");
  line("corpus reader", fmt::format("{} ({} sentences)", a.csv_corpus ? "csv-compatible" : "lines", sentences));
  if (a.method == "promptbert")
    line("delta positions", a.reference_delta_positions ? "from 0 (reference)" : "encoder's");
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

/// Thrown when Ctrl-C (or SIGTERM) stopped the training: the program exits with 130.
struct Interrupted {
  std::string message;
};

/// With VIKCSE_TRACE_PHASES set, prints `vikcse-phase: <phase> <step> [file]` on stderr at each
/// `TrainPhase` and then sleeps VIKCSE_TRACE_PHASES milliseconds: how the kill tests
/// (tests/methods/kill_resume_test.py) stop a real run inside a step, an evaluation or a checkpoint write.
void trace_phases(vikcse::Trainer& trainer) {
  const char* env = std::getenv("VIKCSE_TRACE_PHASES");
  if (env == nullptr) return;
  const auto delay = std::chrono::milliseconds(std::atoll(env));
  trainer.on_phase([delay](vikcse::TrainPhase phase, std::int64_t step, const fs::path& file) {
    static constexpr const char* names[] = {"step", "evaluation", "checkpoint"};
    std::cerr << fmt::format("vikcse-phase: {} {}{}\n", names[static_cast<int>(phase)], step,
                             file.empty() ? "" : " " + file.filename().string())
              << std::flush;
    std::this_thread::sleep_for(delay);
  });
}

struct Run {
  std::vector<vikcse::StsTaskResult> test;
  double dev_before = 0, dev_best = 0;
  std::int64_t best_step = -1;
  bool lead = true;  ///< false on ranks other than 0, which neither evaluate nor print
};

/// How a method embeds for model selection and for the reported test tables; they differ only for
/// PromptBERT (selection with δ subtracted, report raw with a period).
struct Embedders {
  vikcse::Embedder select;
  vikcse::Embedder report;
};

/// Trains `model` on `source`, keeps the best checkpoint of the selection set, evaluates `tasks`.
template <typename Holder>
Run train_and_evaluate(Holder model, const vikcse::BatchSource& source, const Embedders& embedders, const Args& a,
                       const vikcse::ReferenceSettings& s, std::int64_t steps, const vikcse::SaveOptions& save,
                       const std::shared_ptr<const vikcse::DataParallel>& ranks, const torch::Device& device) {
  model->to(device);  // the Trainer and the embedders bring each batch to it
  if (steps < s.eval_steps) {
    throw vikcse::invalid_argument(
        fmt::format("--steps {} is below the evaluation interval {}: no checkpoint would be "
                    "evaluated (lower --eval-steps)",
                    steps, s.eval_steps));
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
                              .output_dir(a.out)
                              .save_steps(a.save_steps > 0 ? a.save_steps : s.eval_steps)
                              .resume_from(a.resume ? a.out / "last" : fs::path())
                              .save(save)
                              .bf16(a.bf16)
                              .logging_steps(a.logging_steps)
                              .data_parallel(ranks));
  trace_phases(trainer);
  trainer.on_record([&](const nlohmann::json& r) {
    if (r.contains("eval")) {
      std::cout << fmt::format("step {}: {} {:.4f}\n", r["step"].get<std::int64_t>(), set, r["eval"].get<double>());
    }
    if (r.contains("warning")) std::cout << "warning: " << r["warning"].get<std::string>() << '\n';
  });
  const auto result = trainer.fit(model, source, score, /*evaluate_initial=*/true);
  if (result.interrupted) {
    throw Interrupted{fmt::format(
        "interrupted ({}) after step {} of {}: {} holds that step whole; continue with the same command and --resume",
        vikcse::stop_signal_number() == SIGTERM ? "SIGTERM" : "Ctrl-C", result.steps, steps,
        (a.out / "last").string())};
  }
  if (ranks && ranks->rank() != 0) return Run{.lead = false};
  vikcse::load_model_checkpoint(*model, a.out / "best");
  Run run{{}, result.initial_score, result.best_score, result.best_step};
  for (const auto& t : a.tasks) {
    run.test.push_back(vikcse::evaluate_sts(vikcse::read_sts_task(a.senteval, t), embedders.report, {},
                                            {.alignment_uniformity = false}));
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
    row +=
        at < 7 ? fmt::format(" {:>7.2f} |", paper->scores[static_cast<std::size_t>(at)]) : fmt::format(" {:>7} |", "-");
  }
  row += fmt::format(" {:>7.2f} |\n", paper->scores[7]);
  std::cout << row << "paper row: " << paper->source
            << (run.test.size() < 7 ? " (paper Avg. is over all seven tasks)" : "") << '\n';
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app;
  Args parsed;
  bool reference_code = false;
  add_options(app, parsed, reference_code);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  Args a;
  if (const auto code = vikcse::cli::check_usage("vikcse_reproduce", [&] { a = finish(parsed, reference_code); }))
    return *code;
  vikcse::install_stop_handlers();
  vikcse::configure_threads();
  auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(a.tokenizer));
  const auto specials = vikcse::require_special_tokens(*tokenizer);
  auto tokenize = vikcse::tokenize_function(tokenizer);
  const auto config = vikcse::BertConfig::from_json_file(a.model / "config.json");
  config.require_tokenizer_fits(tokenizer->vocab_size(), fmt::format("in {}", a.tokenizer.string()));
  const auto backbone = a.backbone.empty() ? backbone_of(config) : a.backbone;
  const auto setting = !a.setting.empty()                                   ? a.setting
                       : (a.method == "simcse" || a.method == "promptbert") ? "wiki"
                                                                            : "wiki+flickr";
  const auto s = effective_settings(a, backbone);
  const bool roberta = config.model_type == "roberta";
  const auto recipe = recipe_options(s, a, roberta);
  const auto views = view_formats(recipe, tokenize, specials);
  const vikcse::Collator dry_run_collator(tokenize, {specials, views.first, views.second});

  auto corpus = std::make_shared<const std::vector<std::string>>(
      a.csv_corpus ? vikcse::read_corpus_csv_compatible(a.corpus) : vikcse::read_corpus(a.corpus, /*skip_empty=*/true));
  const auto per_epoch = (static_cast<std::int64_t>(corpus->size()) + s.batch_size - 1) / s.batch_size;
  auto sentence_source = [&](std::shared_ptr<const vikcse::Collator> c) {
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
    print_dry_run(a, s, setting, views, *tokenizer, steps, corpus->size(),
                  sentence_source(std::make_shared<const vikcse::Collator>(dry_run_collator)).batch(0, 0));
    return 0;
  }

  const auto device = training_device(a.device);
  const auto ranks = join_ranks(a.device);
  if (ranks) {
    const auto [begin, end] = vikcse::detail::shard_range(s.batch_size, ranks->rank(), ranks->world_size());
    std::cout << fmt::format("data-parallel: rank {} of {}, rows {}..{} of each batch of {}\n", ranks->rank(),
                             ranks->world_size(), begin, end - 1, s.batch_size);
  }
  if (!ranks || ranks->rank() == 0) {
    std::cout << fmt::format(
        "{} on {} ({}): {} sentences, batch {}, lr {}, epochs {}, weight decay {}, eval every {} steps, "
        "seed {}, {}\n",
        a.method, a.model.string(), backbone, corpus->size(), s.batch_size, s.learning_rate, s.epochs, s.weight_decay,
        s.eval_steps, s.seed, views.truncation);
  }
  auto encoder = vikcse::AutoModel::from_pretrained(a.model);
  // Checkpoints carry the tokenizer and the embedding settings, so vikcse_encode loads them alone.
  const auto save_options = [&](const vikcse::EmbeddingSettings& embedding) {
    return vikcse::SaveOptions{.embedding = embedding, .tokenizer_files = vikcse::tokenizer_files_in(a.tokenizer)};
  };
  torch::manual_seed(s.seed);
  Run run;
  if (a.method == "simcse") {
    const auto r = vikcse::make_simcse(encoder, tokenizer, recipe);
    run = train_and_evaluate(r.model, sentence_source(r.collator), {r.embedder(), r.embedder()}, a, s, steps,
                             save_options(r.embedding_settings()), ranks, device);
  } else if (a.method == "mcse") {
    const auto images = vikcse::load_features(
        a.image_features,
        {.key = {}, .expected_rows = static_cast<std::int64_t>(captions->size()), .expected_dim = std::nullopt});
    const auto r = vikcse::make_mcse(encoder, tokenizer, images, recipe);
    std::vector<std::int64_t> rows(captions->size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
    const auto paired = vikcse::shuffled_batches<std::int64_t>(
        std::make_shared<const std::vector<std::int64_t>>(rows), s.batch_size, s.seed,
        [c = r.collator, captions, images](const std::vector<std::int64_t>& idx) {
          std::vector<std::string> text;
          for (auto i : idx) text.push_back((*captions)[static_cast<std::size_t>(i)]);
          auto b = c->unsupervised(text);
          b.image_features = images.index_select(0, torch::tensor(idx, torch::kLong));
          return b;
        });
    run = train_and_evaluate(r.model, vikcse::mixed_batches(sentence_source(r.collator), paired),
                             {r.embedder(), r.embedder()}, a, s, steps, save_options(r.embedding_settings()), ranks, device);
  } else if (a.method == "promptbert") {  // T1/T2 views, δ-denoising with gradient
    const auto r = vikcse::make_promptbert(encoder, tokenizer, recipe);
    auto select = r.eval;  // T1's layout
    select.denoise = true;
    auto report = select;
    report.denoise = false;
    report.append_period = true;
    auto settings = r.embedding_settings();  // the saved model embeds as the report does
    settings.append_period = true;
    run = train_and_evaluate(r.model, sentence_source(r.collator), {r.embedder(select), r.embedder(report)}, a, s,
                             steps, save_options(settings), ranks, device);
  } else {  // VIKCSE: one template for both views, two passes
    const auto r = vikcse::make_vikcse(encoder, tokenizer, vikcse::load_features(a.kb), recipe);
    run = train_and_evaluate(r.model, sentence_source(r.collator), {r.embedder(), r.embedder()}, a, s, steps,
                             save_options(r.embedding_settings()), ranks, device);
  }
  if (!run.lead) return 0;  // rank 0 prints the tables
  const std::string set = s.selection == vikcse::Selection::sts_test_avg ? "STS test average" : "STS-B dev Spearman";
  std::cout << fmt::format("\n{}: untrained {:.4f}, best {:.4f} at step {}\n", set, run.dev_before, run.dev_best,
                           run.best_step);
  if (a.method == "promptbert") {
    std::cout
        << "(PromptBERT protocol: selection on the δ-denoised [MASK] vector of T1; the table uses the raw [MASK]\n"
           " vector of T1 with '.' appended to each sentence, as PromptBERT's evaluation.py does)\n";
  }
  print_rows(a, backbone, setting, run);
  return 0;
} catch (const Interrupted& stop) {
  std::cerr << "vikcse_reproduce: " << stop.message << '\n';
  return vikcse::cli::exit_interrupted;
} catch (const std::exception& e) {
  std::cerr << "vikcse_reproduce: error: " << e.what() << '\n';
  return vikcse::cli::exit_runtime_error;
}
