// SPDX-License-Identifier: Apache-2.0
/// @file vikcse_demo.cpp
/// `vikcse_demo`: the main job. Trains every method of the library on a small world made in the
/// open (`demo/world.hpp`), over several seeds, and prints the comparison table (mean ± sd over
/// seeds), the criteria the world is meant to show with whether this run met them, the path of a
/// picture of the dev curves, and the same as JSON. Each method is built through its alias and
/// recipe (`vikcse::make_simcse`, `make_promptbert`, `make_mcse`, `make_vikcse`).
///
/// Rows: the untrained encoder read as each method reads it ([CLS]; [MASK] in PromptBERT's first
/// template; [MASK] in VIKCSE's template), SimCSE, PromptBERT, MCSE (trained on the image–caption
/// pairs, mixed sampling), VIKCSE as the reference code behaves (`kb_grad_mode none`), its text-only
/// ablation (the same alias and recipe with `knowledge_terms = false`), and VIKCSE with this
/// library's grounded extension (rows retrieved by stage 1's text embedding of each sentence,
/// `retrieval_key batch_keys`, contrasted with the projected queries, `kb_grad_mode contrast`).
/// Every VIKCSE row's knowledge base comes from its seed's stage 1 (`demo/stage1.hpp`).
///
/// Real data: `vikcse_reproduce` trains one method with the reference settings on a Hugging Face
/// checkpoint and SentEval.

#include "demo/plot.hpp"
#include "demo/stage1.hpp"
#include "demo/summary.hpp"
#include "demo/world.hpp"
#include "support/demo_options.hpp"

#include <CLI/CLI.hpp>

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/trainer.hpp>
#include <vikcse/train/checkpoint.hpp>
#include <vikcse/train/data.hpp>
#include <vikcse/train/trainer.hpp>
#include <vikcse/util/progress.hpp>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// The trained methods, in table order.
struct MethodInfo {
  const char* key;      ///< --methods name
  const char* label;    ///< table row
  const char* reading;  ///< how its embedding reads the encoder (the untrained row it is compared with)
};
const std::vector<MethodInfo>& methods() {
  static const std::vector<MethodInfo> m = {
      {"simcse", "SimCSE", "cls"},
      {"promptbert", "PromptBERT", "promptbert"},
      {"mcse", "MCSE", "cls"},
      {"vikcse", "VIKCSE (reference: kb_grad_mode none)", "vikcse"},
      {"vikcse-text", "VIKCSE without knowledge terms", "vikcse"},
      {"vikcse-ext", "VIKCSE + grounded extension (ours)", "vikcse"},
  };
  return m;
}
const std::map<std::string, std::string>& readings() {
  static const std::map<std::string, std::string> r = {
      {"cls", "untrained ([CLS])"},
      {"promptbert", "untrained ([MASK], PromptBERT T1)"},
      {"vikcse", "untrained ([MASK], VIKCSE template)"},
  };
  return r;
}

using vikcse::cli::demo::Args;

/// Whether a method's runs need their seed's stage 1 (the VIKCSE rows: its knowledge base).
bool uses_stage1(const std::string& key) { return key.starts_with("vikcse"); }

/// The vocabulary and encoder shared by every run.
struct Setup {
  demo::WorldOptions world;  ///< what the world was made with
  demo::DemoData data;
  std::shared_ptr<const vikcse::AutoTokenizer> tokenizer;
  vikcse::BertConfig config;
};

Setup make_setup(const Args& a) {
  Setup s;
  demo::World world(s.world);
  s.data = world.make();
  const auto dir = a.out / "demo-data";
  fs::create_directories(dir);
  std::string corpus;
  for (const auto& f : s.data.families) {
    for (const auto& line : f) corpus += line + "\n";
  }
  vikcse::detail::write_text_atomically(dir / "corpus.txt", corpus);
  std::string captions;
  for (const auto& c : s.data.captions) captions += c + "\n";
  vikcse::detail::write_text_atomically(dir / "captions.txt", captions);
  vikcse::save_npy(dir / "images.npy", s.data.images);
  // The vocabulary: the world's words and the templates' words, each kept whole.
  auto lines = demo::World::all_words();
  lines.emplace_back("this sentence of \" \" means ! : .");
  auto tok = vikcse::train_wordpiece(lines, {.vocab_size = 200, .min_frequency = 1});
  tok.save(a.out / "tokenizer");
  s.tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(a.out / "tokenizer"));
  auto& c = s.config;
  c.vocab_size = s.tokenizer->vocab_size();
  c.hidden_size = a.hidden;
  c.num_hidden_layers = a.layers;
  c.num_attention_heads = 2;
  c.intermediate_size = 2 * a.hidden;
  c.max_position_embeddings = 64;
  c.initializer_range = a.init_std;
  return s;
}

/// What one run of one method on one seed measured.
struct RunResult {
  double test = 0, grounded = 0, alignment = 0, uniformity = 0;
  std::vector<std::pair<std::int64_t, double>> curve;  ///< (step, dev Spearman)
  std::vector<torch::Tensor> parameters;               ///< final trained parameters (VIKCSE and its ablation)
};

struct Scores {
  double test, grounded, alignment, uniformity;
};

Scores score(const Setup& s, const vikcse::Embedder& e) {
  // Alignment over the grounded pairs of gold 5 (the same meaning in other words); uniformity over
  // the STS test's sentences.
  const auto t = vikcse::evaluate_sts(s.data.test, e);
  const auto g = vikcse::evaluate_sts(s.data.grounded, e);
  return {t.spearman.all, g.spearman.all, g.alignment.all, t.uniformity.all};
}

/// Progress over all runs: a bar on a terminal, a line per evaluation otherwise.
class Progress {
public:
  Progress(std::size_t total_steps) : total_(total_steps), start_(std::chrono::steady_clock::now()) {}
  void begin(const std::string& run) {
    run_ = run;
    if (interactive_) bar_.emplace(std::cerr, total_, vikcse::ProgressBarOptions{.label = "train", .unit = "step"});
    if (bar_) bar_->set(done_, run_);
  }
  void step(std::int64_t step, double loss) {
    if (bar_) bar_->set(done_ + static_cast<std::size_t>(step), fmt::format("{} loss {:.3f}", run_, loss));
  }
  void evaluated(std::int64_t step, double dev) {
    if (bar_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const vikcse::ProgressState state{done_ + static_cast<std::size_t>(step),
                                      total_,
                                      elapsed,
                                      "train",
                                      "step",
                                      fmt::format("{} step {} dev {:.4f}", run_, step, dev)};
    std::cerr << vikcse::format_progress(state) << '\n';
  }
  /// A line of its own (between runs).
  void note(const std::string& line) const { std::cerr << line << '\n'; }
  void end(std::int64_t steps) {
    done_ += static_cast<std::size_t>(steps);
    if (bar_) {
      bar_->set(done_, run_);
      bar_.reset();
    }
  }

private:
  bool interactive_ = ::isatty(::fileno(stderr)) != 0;
  std::size_t total_, done_ = 0;
  std::string run_;
  std::chrono::steady_clock::time_point start_;
  std::optional<vikcse::ProgressBar> bar_;
};

/// Trains `recipe.model` and reports its scores at the checkpoint the dev pairs select.
template <typename Recipe>
RunResult train(const Recipe& recipe, const vikcse::BatchSource& source, const Setup& s, const Args& a,
                std::uint64_t seed, const fs::path& dir, bool keep_parameters, Progress& progress) {
  RunResult r;
  auto model = recipe.model;
  const auto embedder = recipe.embedder();
  vikcse::Trainer trainer(vikcse::TrainerOptions()
                              .learning_rate(a.lr)
                              .max_steps(a.steps)
                              .warmup_steps(a.warmup_steps)
                              .eval_steps(a.eval_steps)
                              .seed(seed)
                              .output_dir(dir));
  trainer.on_progress([&](const vikcse::TrainProgress& p) { progress.step(p.step, p.loss); });
  trainer.on_record([&](const nlohmann::json& rec) {
    if (!rec.contains("eval")) return;
    r.curve.emplace_back(rec["step"].get<std::int64_t>(), rec["eval"].get<double>());
    progress.evaluated(r.curve.back().first, r.curve.back().second);
  });
  const auto dev = [&] {
    return vikcse::evaluate_sts(s.data.dev, embedder, {}, {.alignment_uniformity = false}).spearman.all;
  };
  trainer.fit(model, source, dev, /*evaluate_initial=*/true);
  if (keep_parameters) {
    for (const auto& p : model->encoder->parameters()) r.parameters.push_back(p.detach().clone());
    for (const auto& p : model->pooler->parameters()) r.parameters.push_back(p.detach().clone());
  }
  vikcse::load_model_checkpoint(*model, dir / "best");
  const auto sc = score(s, embedder);
  r.test = sc.test;
  r.grounded = sc.grounded;
  r.alignment = sc.alignment;
  r.uniformity = sc.uniformity;
  return r;
}

/// Everything one seed needs: the batch sources and the runs.
struct Runner {
  const Setup& s;
  const Args& a;
  Progress& progress;
  std::map<std::string, RunResult> results;  ///< by method key
  std::map<std::string, Scores> untrained;   ///< by reading
  std::optional<demo::Stage1Result> stage1;  ///< VIKCSE's stage 1 of this seed, once a VIKCSE row needs it

  /// Stage 1 of this seed (trained on first use): the knowledge base and the corpus's keys.
  const demo::Stage1Result& knowledge(std::uint64_t seed) {
    if (stage1) return *stage1;
    progress.begin(fmt::format("stage 1 seed {}", seed));
    torch::manual_seed(seed + 1'000'000);  // another draw than the stage-2 encoder's
    std::vector<std::string> corpus;
    for (const auto& f : s.data.families) corpus.insert(corpus.end(), f.begin(), f.end());
    stage1 = demo::train_stage1(s.data.captions, s.data.images, corpus, *s.tokenizer, s.config, seed,
                                {.steps = a.stage1_steps},
                                [this](std::int64_t step, double loss) { progress.step(step, loss); });
    progress.end(a.stage1_steps);
    progress.note(
        fmt::format("stage 1 seed {}: CLIP loss {:.3f} -> {:.3f}, captions whose nearest image is their "
                    "own: {:.1f}%",
                    seed, stage1->first_loss, stage1->last_loss, 100 * stage1->caption_top1));
    return *stage1;
  }

  /// Batches of whole minimal-pair families; with `keys` (`[corpus sentences, D]`, in corpus order)
  /// each batch carries its sentences' rows as `knowledge_keys`.
  vikcse::BatchSource text_source(const std::shared_ptr<const vikcse::Collator>& collator, std::uint64_t seed,
                                  torch::Tensor keys = {}) const {
    std::vector<std::int64_t> ids(s.data.families.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
    const auto size = static_cast<std::int64_t>(s.data.families[0].size());
    const auto per_batch = std::max<std::int64_t>(1, a.batch_size / size);
    auto families = std::make_shared<const std::vector<std::vector<std::string>>>(s.data.families);
    return vikcse::shuffled_batches<std::int64_t>(
        std::make_shared<const std::vector<std::int64_t>>(ids), per_batch, seed,
        [collator, families, keys, size](const std::vector<std::int64_t>& b) {
          std::vector<std::string> flat;
          std::vector<std::int64_t> rows;
          for (const auto f : b) {
            const auto& family = (*families)[static_cast<std::size_t>(f)];
            flat.insert(flat.end(), family.begin(), family.end());
            for (std::int64_t j = 0; j < size; ++j) rows.push_back(f * size + j);
          }
          auto batch = collator->unsupervised(flat);
          if (keys.defined()) batch.knowledge_keys = keys.index_select(0, torch::tensor(rows, torch::kLong));
          return batch;
        });
  }
  vikcse::BatchSource paired_source(const std::shared_ptr<const vikcse::Collator>& collator, std::uint64_t seed) const {
    std::vector<std::int64_t> rows(s.data.captions.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
    auto captions = std::make_shared<const std::vector<std::string>>(s.data.captions);
    const auto images = s.data.images;
    return vikcse::shuffled_batches<std::int64_t>(
        std::make_shared<const std::vector<std::int64_t>>(rows), a.batch_size, seed,
        [collator, captions, images](const std::vector<std::int64_t>& idx) {
          std::vector<std::string> text;
          for (auto i : idx) text.push_back((*captions)[static_cast<std::size_t>(i)]);
          auto b = collator->unsupervised(text);
          b.image_features = images.index_select(0, torch::tensor(idx, torch::kLong));
          return b;
        });
  }

  template <typename Recipe>
  void note_untrained(const std::string& reading, const Recipe& recipe) {
    if (!untrained.count(reading)) untrained[reading] = score(s, recipe.embedder());
  }

  void run(const std::string& key, std::uint64_t seed) {
    const auto dir = a.out / "runs" / fmt::format("{}-seed{}", key, seed);
    fs::remove_all(dir);                    // an earlier demo's checkpoints are not this run's
    if (uses_stage1(key)) knowledge(seed);  // stage 1 first: it draws from the generator too
    progress.begin(fmt::format("{} seed {}", key, seed));
    torch::manual_seed(seed);  // the same initial encoder for every method of a seed
    vikcse::AutoModel encoder(s.config);
    const auto& tok = s.tokenizer;
    if (key == "simcse") {
      const auto r = vikcse::make_simcse(encoder, tok);
      note_untrained("cls", r);
      results[key] = train(r, text_source(r.collator, seed), s, a, seed, dir, false, progress);
    } else if (key == "promptbert") {
      const auto r = vikcse::make_promptbert(encoder, tok);
      note_untrained("promptbert", r);
      results[key] = train(r, text_source(r.collator, seed), s, a, seed, dir, false, progress);
    } else if (key == "mcse") {
      auto o = vikcse::recipe_options("mcse", *tok);
      o.lambda = a.mcse_lambda;
      const auto r = vikcse::make_mcse(encoder, tok, s.data.images, o);
      note_untrained("cls", r);
      results[key] = train(r, vikcse::mixed_batches(text_source(r.collator, seed), paired_source(r.collator, seed)), s,
                           a, seed, dir, false, progress);
    } else {  // vikcse, vikcse-text, vikcse-ext: the knowledge base is stage 1's image embeddings
      const auto& kb = knowledge(seed);
      auto o = vikcse::recipe_options("vikcse", *tok);
      o.knowledge_terms = key != "vikcse-text";
      torch::Tensor keys;
      if (key == "vikcse-ext") {
        o.kb_grad_mode = vikcse::parse_kb_grad_mode(a.extension);
        o.retrieval_key = vikcse::parse_retrieval_key(a.retrieval_key);
        if (o.retrieval_key == vikcse::RetrievalKey::batch_keys) keys = kb.corpus_keys;
      }
      const auto r = vikcse::make_vikcse(encoder, tok, kb.knowledge, o);
      note_untrained("vikcse", r);
      results[key] = train(r, text_source(r.collator, seed, keys), s, a, seed, dir, key != "vikcse-ext", progress);
    }
    progress.end(a.steps);
  }
};

double max_abs_difference(const std::vector<torch::Tensor>& x, const std::vector<torch::Tensor>& y) {
  double m = 0;
  for (std::size_t i = 0; i < x.size(); ++i) m = std::max(m, (x[i] - y[i]).abs().max().item<double>());
  return m;
}
double max_abs(const std::vector<torch::Tensor>& x) {
  double m = 0;
  for (const auto& t : x) m = std::max(m, t.abs().max().item<double>());
  return m;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app;
  Args args;
  vikcse::cli::demo::add_options(app, args);
  if (const auto code = vikcse::cli::parse(app, argc, argv)) return *code;
  vikcse::configure_threads();
  const auto has = [&](const std::string& m) {
    return std::find(args.methods.begin(), args.methods.end(), m) != args.methods.end();
  };
  std::vector<std::string> keys;
  for (const auto& m : methods()) {
    if (has(m.key) || (std::string(m.key) == "vikcse-text" && has("vikcse"))) keys.emplace_back(m.key);
  }
  fs::create_directories(args.out);
  const auto started = std::chrono::steady_clock::now();
  const auto s = make_setup(args);
  std::cout << fmt::format(
      "vikcse_demo: DEMO DATA, made by this program (examples/demo/world.hpp), written to {}.\n"
      "  A sentence states four concepts (\"a dog eats the apple in the park\"), then 0-{} filler words that mean\n"
      "  nothing (\"... today really\"). Every concept has two synonymous forms (dog/puppy) that never occur in one\n"
      "  sentence, so text alone cannot tell they mean the same. An image feature is a sum of one random vector per\n"
      "  concept plus noise: images show the kinship.\n"
      "  Text corpus: {} sentences in minimal-pair families of {}. Image-caption pairs: {} (MCSE trains on them,\n"
      "  and VIKCSE's stage 1: a CLIP-shaped model whose image embeddings are the knowledge base, {} steps per\n"
      "  seed). Gold = share of concepts two sentences agree on (0-5).\n"
      "  STS test: {} pairs, forms kept. Grounded: {} pairs with at least one shared concept in its other form.\n"
      "  Encoder: random BERT, {} layers, width {}, init std {}; vocabulary trained on the world's words.\n"
      "  Every run: {} steps of {} sentences, lr {} after {} warm-up steps, seeds {}..{}; checkpoint chosen on {}\n"
      "  dev pairs.\n\n",
      (args.out / "demo-data").string(), s.world.max_fillers, s.data.families.size() * s.data.families[0].size(),
      s.data.families[0].size(), s.data.captions.size(), args.stage1_steps, s.data.test.size(), s.data.grounded.size(),
      args.layers, args.hidden, args.init_std, args.steps, args.batch_size, args.lr, args.warmup_steps, args.first_seed,
      args.first_seed + args.seeds - 1, s.data.dev.size());

  const bool stage1 = std::any_of(keys.begin(), keys.end(), uses_stage1);
  Progress progress(static_cast<std::size_t>(args.seeds) *
                    (keys.size() * static_cast<std::size_t>(args.steps) +
                     (stage1 ? static_cast<std::size_t>(args.stage1_steps) : 0)));
  std::vector<Runner> per_seed;
  for (std::int64_t k = 0; k < args.seeds; ++k) {
    const auto seed = static_cast<std::uint64_t>(args.first_seed + k);
    per_seed.push_back(Runner{s, args, progress, {}, {}, std::nullopt});
    for (const auto& key : keys) per_seed.back().run(key, seed);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // ---------------------------------------------------------------- the table
  struct Row {
    std::string key, label;
    demo::Stat test, grounded, average, alignment, uniformity;
    std::vector<double> test_by_seed, grounded_by_seed;
  };
  std::vector<Row> rows;
  auto add_row = [&](const std::string& key, const std::string& label, auto get) {
    std::vector<double> t, g, av, al, un;
    for (const auto& r : per_seed) {
      const auto sc = get(r);
      t.push_back(sc.test);
      g.push_back(sc.grounded);
      av.push_back((sc.test + sc.grounded) / 2);
      al.push_back(sc.alignment);
      un.push_back(sc.uniformity);
    }
    rows.push_back({key, label, demo::stat(t), demo::stat(g), demo::stat(av), demo::stat(al), demo::stat(un), t, g});
  };
  for (const auto& [reading, label] : readings()) {
    if (per_seed.front().untrained.count(reading)) {
      add_row("untrained-" + reading, label, [&](const Runner& r) { return r.untrained.at(reading); });
    }
  }
  for (const auto& key : keys) {
    const auto& info = *std::find_if(methods().begin(), methods().end(), [&](const auto& m) { return m.key == key; });
    add_row(key, info.label, [&](const Runner& r) {
      const auto& x = r.results.at(key);
      return Scores{x.test, x.grounded, x.alignment, x.uniformity};
    });
  }
  auto row = [&](const std::string& key) -> const Row* {
    for (const auto& r : rows) {
      if (r.key == key) return &r;
    }
    return nullptr;
  };
  std::cout << fmt::format(
      "Spearman x 100 on the test pairs, mean ± sd over {} seed(s); alignment and uniformity "
      "(MCSE's diagnostics, lower is better) on the STS test\n\n",
      args.seeds);
  std::cout << fmt::format("| {:<37} | {:>15} | {:>15} | {:>15} | {:>13} | {:>13} |\n", "model", "STS test", "grounded",
                           "Avg.", "alignment", "uniformity");
  std::cout << fmt::format("|{:-<39}|{:-<17}|{:-<17}|{:-<17}|{:-<15}|{:-<15}|\n", "", "", "", "", "", "");
  for (const auto& r : rows) {
    std::cout << fmt::format("| {:<37} | {:>15} | {:>15} | {:>15} | {:>13} | {:>13} |\n", r.label, demo::cell(r.test),
                             demo::cell(r.grounded), demo::cell(r.average), demo::cell(r.alignment, 1.0, 3),
                             demo::cell(r.uniformity, 1.0, 3));
  }

  // ---------------------------------------------------------------- the criteria
  std::vector<demo::Criterion> criteria;
  for (const auto& key : keys) {
    const auto& info = *std::find_if(methods().begin(), methods().end(), [&](const auto& m) { return m.key == key; });
    const auto* base = row(std::string("untrained-") + info.reading);
    criteria.push_back(
        demo::beats(fmt::format("{} beats {} on the STS test by 3 sd", info.label, readings().at(info.reading)),
                    row(key)->test_by_seed, base->test_by_seed));
  }
  for (const char* better : {"mcse", "vikcse-ext"}) {
    for (const char* worse : {"simcse", "promptbert"}) {
      if (row(better) && row(worse)) {
        criteria.push_back(
            demo::beats(fmt::format("{} beats {} on the grounded pairs by 3 sd", row(better)->label, row(worse)->label),
                        row(better)->grounded_by_seed, row(worse)->grounded_by_seed));
      }
    }
  }
  nlohmann::json parameter_checks = nlohmann::json::array();
  if (has("vikcse")) {
    double worst = 0, tolerance = 0;
    for (std::size_t k = 0; k < per_seed.size(); ++k) {
      const auto& ref = per_seed[k].results.at("vikcse").parameters;
      const auto& text = per_seed[k].results.at("vikcse-text").parameters;
      const double d = max_abs_difference(ref, text);
      // Float tolerance: a relative 1e-6 of the largest parameter; one differing step would move the
      // parameters by about lr = 3e-4 or more.
      const double tol = 1e-6 * max_abs(ref);
      worst = std::max(worst, d);
      tolerance = std::max(tolerance, tol);
      parameter_checks.push_back(
          {{"seed", args.first_seed + static_cast<std::int64_t>(k)}, {"max_abs_difference", d}, {"tolerance", tol}});
    }
    criteria.push_back({"VIKCSE with kb_grad_mode none trains the same parameters as its text-only ablation",
                        worst <= tolerance,
                        fmt::format("max |difference| over {} encoder and head tensors and {} seed(s): {:.3g} "
                                    "(tolerance {:.3g}){}",
                                    per_seed.front().results.at("vikcse").parameters.size(), per_seed.size(), worst,
                                    tolerance, worst == 0 ? ", bitwise equal" : "")});
  }
  bool all_met = true;
  std::cout << "\nCriteria (matched runs: seed k of every method starts from the same encoder, data and order; a "
               "difference must be at least 3 times its standard deviation over the seeds):\n";
  for (const auto& c : criteria) {
    all_met = all_met && c.met;
    std::cout << fmt::format("  [{}] {}: {}\n", c.met ? "met" : "NOT MET", c.claim, c.detail);
  }
  if (has("vikcse")) {
    std::cout << "  Why: VIKCSE's reference code retrieves knowledge-base rows without gradient and divides by a\n"
                 "  detached scale, so its visual terms are constants; every gradient is the text term's.\n";
  }
  std::cout << fmt::format("\n{} of {} criteria met.\n",
                           std::count_if(criteria.begin(), criteria.end(), [](const auto& c) { return c.met; }),
                           criteria.size());

  // ---------------------------------------------------------------- picture and JSON
  std::vector<demo::Curves> curves;
  for (const auto& key : keys) {
    demo::Curves c{row(key)->label, {}};
    for (const auto& r : per_seed) c.seeds.push_back(r.results.at(key).curve);
    curves.push_back(std::move(c));
  }
  const auto plot = demo::write_plot(args.out, "dev-curves", curves);
  if (plot.drawn) {
    std::cout << fmt::format("Picture of the dev curves: {}\n", fs::absolute(plot.image).string());
  } else {
    std::cout << fmt::format(
        "gnuplot is not installed (Debian: apt install gnuplot-nox): no picture. Data: {}, "
        "script: {}\n",
        plot.data.string(), plot.script.string());
  }
  nlohmann::json j;
  j["seeds"] = args.seeds;
  j["first_seed"] = args.first_seed;
  j["steps"] = args.steps;
  j["seconds"] = seconds;
  for (const auto& r : rows) {
    auto& x = j["rows"][r.key];
    x["label"] = r.label;
    x["test_by_seed"] = r.test_by_seed;
    x["grounded_by_seed"] = r.grounded_by_seed;
    for (const auto& [name, st] :
         {std::pair{"test", r.test}, std::pair{"grounded", r.grounded}, std::pair{"average", r.average},
          std::pair{"alignment", r.alignment}, std::pair{"uniformity", r.uniformity}}) {
      x[name] = {{"mean", st.mean}, {"sd", st.sd}};
    }
  }
  for (std::size_t k = 0; k < per_seed.size(); ++k) {
    for (const auto& [key, r] : per_seed[k].results) {
      j["runs"].push_back({{"method", key},
                           {"seed", args.first_seed + static_cast<std::int64_t>(k)},
                           {"test", r.test},
                           {"grounded", r.grounded},
                           {"curve", r.curve}});
    }
  }
  for (const auto& c : criteria) j["criteria"].push_back({{"claim", c.claim}, {"met", c.met}, {"detail", c.detail}});
  j["parameter_checks"] = parameter_checks;
  vikcse::detail::write_text_atomically(args.out / "results.json", j.dump(2) + "\n");
  std::cout << fmt::format("Results as JSON: {}\nDemo run: {:.0f} s.\n",
                           fs::absolute(args.out / "results.json").string(), seconds);
  if (!all_met) {
    std::cout << "Not every criterion was met: README.md (section \"The demo\") says which claims this world does "
                 "not show yet, and why.\n";
    if (args.require_criteria) return 3;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_demo: error: " << e.what() << '\n';
  return 1;
}
