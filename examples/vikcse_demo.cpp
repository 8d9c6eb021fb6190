// SPDX-License-Identifier: Apache-2.0
/// @file vikcse_demo.cpp
/// `vikcse_demo`: the main job. Trains VIKCSE and prints the STS table.
///
/// Without data arguments it runs on DEMO DATA it makes itself (a synthetic corpus from a small
/// grammar, scored sentence pairs, a synthetic visual feature bank), a WordPiece vocabulary trained
/// on that corpus and a small random encoder (about a minute on 2 cores). It prints the test table
/// of the untrained encoder and of the VIKCSE-trained one (checkpoint selected on the demo dev
/// pairs). A random-init encoder already behaves like a bag of words, which is close to the best a
/// lexical model can do on these pairs; the defaults (4 layers, init std 0.5) start from a more
/// chaotic encoder that contrastive training can improve. Batches hold minimal-pair families
/// (`--family 4`: sentences that differ in one slot), so in-batch negatives force every slot into
/// the vector. The gain is small and depends on the seed and on the CPU's rounding (it can be
/// negative); the numbers say nothing about the method.
///
/// On real data:
///   vikcse_demo --model bert-base-uncased/ --corpus wiki1m_for_simcse.txt
///               --kb flickr30k_clip_image_features.npy --senteval SentEval/data

#include "support/cli_checks.hpp"

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
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/trainer.hpp>
#include <vikcse/train/trainer.hpp>
#include <vikcse/util/progress.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Args {
  fs::path out = "vikcse-demo-out";
  fs::path model, corpus, kb, senteval;
  std::int64_t steps = -1, batch_size = -1, seed = 42, eval_steps = -1, family = -1, synonyms = 0, layers = 4;
  double init_std = 0.5;
  double lr = -1;
  std::string kb_grad_mode = "none";
};

/// The command line (CLI11: --help, typed options, checks, errors naming the option).
void add_options(CLI::App& app, Args& a) {
  app.description(
      "vikcse_demo: train VIKCSE and print the STS table (demo data made by the program unless "
      "--model, --corpus, --kb and --senteval are given)");
  app.add_option("--out", a.out, "output directory (checkpoints, metrics.jsonl, demo data)")->capture_default_str();
  const auto* real = "Real data (all four, or none for the demo data)";
  auto* model = app.add_option("--model", a.model,
                               "Hugging Face BERT/RoBERTa checkpoint directory (config.json, "
                               "weights, tokenizer files)")
                    ->check(CLI::ExistingDirectory)
                    ->group(real);
  auto* corpus = app.add_option("--corpus", a.corpus, "training sentences, one per line (e.g. wiki1m_for_simcse.txt)")
                     ->check(CLI::ExistingFile)
                     ->group(real);
  auto* kb = app.add_option("--kb", a.kb,
                            "knowledge-base features [M, D] (.npy or .safetensors; e.g. CLIP image "
                            "embeddings)")
                 ->check(CLI::ExistingFile)
                 ->group(real);
  auto* senteval = app.add_option("--senteval", a.senteval, "SentEval data directory (holds downstream/)")
                       ->check(CLI::ExistingDirectory)
                       ->group(real);
  for (auto* o : {model, corpus, kb, senteval}) {
    for (auto* other : {model, corpus, kb, senteval}) {
      if (o != other) o->needs(other);
    }
  }
  app.add_option("--steps", a.steps, "training steps (demo default 600; real data default: 2 epochs)")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--batch-size", a.batch_size, "sentences per step (demo 32; real 128)")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--lr", a.lr, "learning rate (demo 3e-4; real 3e-6, the VIKCSE reference)")
      ->check(vikcse::cli::positive_integer());
  app.add_option("--kb-grad-mode", a.kb_grad_mode, "none (reference) | straight_through | soft (extensions)")
      ->check(CLI::IsMember({"none", "straight_through", "soft"}))
      ->capture_default_str();
  app.add_option("--seed", a.seed, "seed")->check(vikcse::cli::non_negative_integer())->capture_default_str();
  app.add_option("--eval-steps", a.eval_steps, "evaluate on the dev set every N steps (demo 100; real 50)")
      ->check(vikcse::cli::positive_integer());
  const auto* demo = "Demo data only";
  app.add_option("--family", a.family,
                 "sentences per minimal-pair family in a batch (default 4; 1: plain shuffled batches, whose gain over "
                 "the untrained encoder is within the seed-to-seed spread)")
      ->check(vikcse::cli::positive_integer())
      ->group(demo);
  app.add_option("--synonyms", a.synonyms, "1 = each concept has two surface forms picked at random")
      ->check(vikcse::cli::integer_in(0, 1, "0|1"))
      ->capture_default_str()
      ->group(demo);
  app.add_option("--init-std", a.init_std, "std of the random encoder's initial weights")
      ->check(vikcse::cli::positive_real())
      ->capture_default_str()
      ->group(demo);
  app.add_option("--layers", a.layers, "encoder layers")
      ->check(vikcse::cli::positive_integer())
      ->capture_default_str()
      ->group(demo);
}

// ----------------------------------------------------------------------------- demo data
// A tiny world: a sentence states (subject, action, object, place); each slot has two surface
// forms (synonyms). Pair similarity = shared slots; an "image" of a state = the sum of its
// concepts' vectors plus noise.
struct World {
  std::vector<std::vector<std::vector<std::string>>> slots = {{{"man", "guy"},
                                                               {"woman", "lady"},
                                                               {"dog", "puppy"},
                                                               {"cat", "kitten"},
                                                               {"child", "kid"},
                                                               {"chef", "cook"},
                                                               {"farmer", "grower"},
                                                               {"student", "pupil"}},
                                                              {{"eats", "consumes"},
                                                               {"carries", "holds"},
                                                               {"looks at", "watches"},
                                                               {"throws", "tosses"},
                                                               {"buys", "purchases"},
                                                               {"paints", "draws"}},
                                                              {{"an apple", "a fruit"},
                                                               {"a ball", "a sphere"},
                                                               {"a car", "a vehicle"},
                                                               {"a guitar", "an instrument"},
                                                               {"a book", "a novel"},
                                                               {"a box", "a crate"}},
                                                              {{"in the park", "at the park"},
                                                               {"on the street", "on the road"},
                                                               {"at home", "in the house"},
                                                               {"near the river", "by the river"},
                                                               {"in the kitchen", "by the stove"}}};
  std::mt19937_64 rng;
  bool synonyms = false;
  explicit World(std::uint64_t seed, bool synonyms) : rng(seed), synonyms(synonyms) {}
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  std::vector<std::size_t> state() {
    std::vector<std::size_t> s;
    for (const auto& slot : slots) s.push_back(pick(slot.size()));
    return s;
  }
  std::vector<std::size_t> forms() {
    std::vector<std::size_t> f;
    for (std::size_t i = 0; i < slots.size(); ++i) f.push_back(synonyms ? pick(2) : 0);
    return f;
  }
  std::string say(const std::vector<std::size_t>& s, const std::vector<std::size_t>& f) {
    std::string out = "a";
    for (std::size_t i = 0; i < s.size(); ++i) out += " " + slots[i][s[i]][f[i]];
    return out;
  }
  std::string say(const std::vector<std::size_t>& s) { return say(s, forms()); }
  /// A minimal-pair family: a state and n-1 variants that each change one slot's concept (the
  /// other words stay the same).
  std::vector<std::string> family(std::size_t n) {
    const auto s = state();
    const auto f = forms();
    std::vector<std::string> out{say(s, f)};
    for (std::size_t k = 1; k < n; ++k) {
      auto v = s;
      const auto slot = pick(slots.size());
      v[slot] = (s[slot] + 1 + pick(slots[slot].size() - 1)) % slots[slot].size();
      out.push_back(say(v, f));
    }
    return out;
  }
};

vikcse::StsTaskData make_pairs(World& w, const std::string& name, std::size_t n) {
  vikcse::StsPairs pairs{name, {}, {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    auto a = w.state();
    auto b = a;
    const auto changes = w.pick(5);  // 0..4 slots differ
    std::vector<std::size_t> order{0, 1, 2, 3};
    std::shuffle(order.begin(), order.end(), w.rng);
    for (std::size_t c = 0; c < changes; ++c) {
      const auto slot = order[c];
      b[slot] = (a[slot] + 1 + w.pick(w.slots[slot].size() - 1)) % w.slots[slot].size();
    }
    pairs.first.push_back(w.say(a));
    pairs.second.push_back(w.say(b));
    pairs.gold.push_back(5.0 * static_cast<double>(4 - changes) / 4.0);
  }
  return {name, {pairs}};
}

torch::Tensor make_kb(World& w, std::int64_t rows, std::int64_t dim) {
  std::vector<torch::Tensor> concept_vectors;
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(1234);
  for (const auto& slot : w.slots)
    concept_vectors.push_back(torch::randn({static_cast<std::int64_t>(slot.size()), dim}, gen));
  auto kb = torch::zeros({rows, dim});
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto s = w.state();
    for (std::size_t i = 0; i < s.size(); ++i) kb[r] += concept_vectors[i][static_cast<std::int64_t>(s[i])];
  }
  return kb + 0.3 * torch::randn({rows, dim}, gen);
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& l : lines) out << l << '\n';
}

// ----------------------------------------------------------------------------- training
struct Setup {
  vikcse::AutoModel encoder{nullptr};
  std::shared_ptr<const vikcse::AutoTokenizer> tokenizer;
  std::vector<std::string> corpus;
  std::int64_t family = 1;  ///< demo: consecutive corpus lines form families batched together
  torch::Tensor kb;
  std::vector<vikcse::StsTaskData> dev, test;
  std::string template_text;
  std::int64_t steps, batch_size;
  double lr;
  std::int64_t eval_steps;
  std::vector<fs::path> tokenizer_files;
};

Setup demo_setup(const Args& a) {
  Setup s;
  const auto data = a.out / "demo-data";
  fs::create_directories(data);
  World w(static_cast<std::uint64_t>(a.seed), a.synonyms != 0);
  s.family = a.family > 0 ? a.family : 4;
  while (s.corpus.size() < 8000) {
    for (auto& line : w.family(static_cast<std::size_t>(s.family))) s.corpus.push_back(std::move(line));
  }
  s.dev = {make_pairs(w, "demo STS dev", 2000)};
  s.test = {make_pairs(w, "demo STS test", 3000)};
  s.kb = make_kb(w, 1000, 32);
  s.template_text = "This sentence of \" [X] \" means [MASK] !";  // VIKCSE BERT template idx 23
  write_lines(data / "corpus.txt", s.corpus);
  vikcse::save_npy(data / "kb.npy", s.kb);
  // A WordPiece vocabulary trained on the demo corpus (+ the template's words).
  auto lines = s.corpus;
  lines.emplace_back("this sentence of \" \" means !");
  auto tok = vikcse::train_wordpiece(lines, {.vocab_size = 300, .min_frequency = 2});
  tok.save(a.out / "tokenizer");
  s.tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(a.out / "tokenizer"));
  for (const auto& e : fs::directory_iterator(a.out / "tokenizer")) s.tokenizer_files.push_back(e.path());
  vikcse::BertConfig c;
  c.vocab_size = s.tokenizer->vocab_size();
  c.hidden_size = 64;
  c.num_hidden_layers = a.layers;
  c.num_attention_heads = 2;
  c.intermediate_size = 128;
  c.max_position_embeddings = 64;
  c.initializer_range = a.init_std;
  torch::manual_seed(a.seed);
  s.encoder = vikcse::AutoModel(c);
  s.steps = a.steps > 0 ? a.steps : 600;
  s.batch_size = a.batch_size > 0 ? a.batch_size : 32;
  s.lr = a.lr > 0 ? a.lr : 3e-4;
  s.eval_steps = a.eval_steps > 0 ? a.eval_steps : 100;
  return s;
}

Setup real_setup(const Args& a) {
  Setup s;
  s.encoder = vikcse::AutoModel::from_pretrained(a.model);
  s.tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(a.model));
  s.corpus = vikcse::read_corpus(a.corpus, /*skip_empty=*/true);
  s.kb = vikcse::load_features(a.kb);
  s.dev = {vikcse::read_sts_task(a.senteval, "STSBenchmark-dev")};
  for (const auto* t : {"STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"}) {
    s.test.push_back(vikcse::read_sts_task(a.senteval, t));
  }
  s.template_text = s.encoder.config().model_type == "roberta" ? "The sentence : ' [X] ' means [MASK] !"
                                                               : "This sentence of \" [X] \" means [MASK] !";
  s.batch_size = a.batch_size > 0 ? a.batch_size : 128;
  const auto per_epoch = (static_cast<std::int64_t>(s.corpus.size()) + s.batch_size - 1) / s.batch_size;
  s.steps = a.steps > 0 ? a.steps : 2 * per_epoch;
  s.lr = a.lr > 0 ? a.lr : 3e-6;
  s.eval_steps = a.eval_steps > 0 ? a.eval_steps : 50;
  for (const auto* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                        "special_tokens_map.json"}) {
    if (fs::exists(a.model / f)) s.tokenizer_files.push_back(a.model / f);
  }
  return s;
}

std::vector<vikcse::StsTaskResult> evaluate(const std::vector<vikcse::StsTaskData>& tasks, const vikcse::Embedder& e) {
  std::vector<vikcse::StsTaskResult> out;
  for (const auto& t : tasks) out.push_back(vikcse::evaluate_sts(t, e, {}, {.alignment_uniformity = false}));
  return out;
}

std::string table(const std::vector<std::pair<std::string, std::vector<vikcse::StsTaskResult>>>& rows) {
  std::string out = fmt::format("| {:<28} |", "model");
  for (const auto& r : rows.front().second) out += fmt::format(" {:>14} |", vikcse::sts_column_name(r.name));
  out += fmt::format(" {:>6} |\n", "Avg.");
  for (const auto& [name, results] : rows) {
    out += fmt::format("| {:<28} |", name);
    double sum = 0;
    for (const auto& r : results) {
      const auto cell = std::stod(fmt::format("{:.2f}", 100.0 * r.spearman.all));
      sum += cell;
      out += fmt::format(" {:>14.2f} |", cell);
    }
    out += fmt::format(" {:>6.2f} |\n", sum / static_cast<double>(results.size()));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app;
  Args args;
  add_options(app, args);
  CLI11_PARSE(app, argc, argv);
  vikcse::configure_threads();
  const bool demo = args.model.empty();
  if (demo) {
    std::cout << "vikcse_demo: DEMO DATA. The corpus (8000 sentences from a 4-slot grammar), the scored sentence\n"
                 "pairs (gold = share of slots two sentences agree on; 2000 dev, 3000 test) and the visual feature\n"
                 "bank are synthetic, made by this program; the vocabulary is trained on that corpus; the encoder is\n"
                 "small and random (4 layers, init std 0.5, so its untrained vectors mix the words chaotically);\n"
                 "batches hold minimal-pair families of 4 sentences (--family).\n"
                 "The numbers show the pipeline running, untrained vs trained on the same pairs; they say nothing\n"
                 "about VIKCSE on real data.\n"
                 "Real data: vikcse_demo --model DIR --corpus FILE --kb FILE --senteval DIR\n\n";
  }
  fs::create_directories(args.out);
  auto s = demo ? demo_setup(args) : real_setup(args);
  // The recipe derives the sizes, the mask id, the template layout (vikcse-23 for BERT, vikcse-25
  // for RoBERTa), VIKCSE's 77-token cap (the sentence is cut, never the template) and the two passes.
  auto options = vikcse::recipe_options("vikcse", *s.tokenizer);
  options.kb_grad_mode = vikcse::parse_kb_grad_mode(args.kb_grad_mode);
  torch::manual_seed(args.seed);
  const auto recipe = vikcse::make_vikcse(s.encoder, s.tokenizer, s.kb, options);
  auto model = recipe.model;  // a holder: shares the module
  const auto collator = recipe.collator;
  const auto hidden = s.encoder.config().hidden_size;
  const auto n_sentences = s.corpus.size();
  // Batches of whole families (demo: minimal pairs land in one batch as each other's negatives);
  // family 1 is plain shuffled sentences.
  std::vector<std::vector<std::string>> groups;
  for (std::size_t i = 0; i < s.corpus.size(); i += static_cast<std::size_t>(s.family)) {
    groups.emplace_back(s.corpus.begin() + static_cast<std::ptrdiff_t>(i),
                        s.corpus.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(s.corpus.size(), i + static_cast<std::size_t>(s.family))));
  }
  auto corpus = std::make_shared<const std::vector<std::vector<std::string>>>(std::move(groups));
  const auto source = vikcse::shuffled_batches<std::vector<std::string>>(
      corpus, std::max<std::int64_t>(1, s.batch_size / s.family), static_cast<std::uint64_t>(args.seed),
      [collator](const std::vector<std::vector<std::string>>& b) {
        std::vector<std::string> flat;
        for (const auto& g : b) flat.insert(flat.end(), g.begin(), g.end());
        return collator->unsupervised(flat);
      });
  const auto embedder = recipe.embedder();

  std::cout << fmt::format(
      "VIKCSE: {} sentences, knowledge base [{}, {}], encoder H={} L={}, {} steps of {}, lr {}, "
      "kb_grad_mode {}\n",
      n_sentences, s.kb.size(0), s.kb.size(1), hidden, s.encoder.config().num_hidden_layers, s.steps, s.batch_size,
      s.lr, args.kb_grad_mode);
  const auto before = evaluate(s.test, embedder);

  vikcse::Trainer trainer(vikcse::TrainerOptions()
                              .learning_rate(s.lr)
                              .weight_decay(demo ? 0.0 : 1e-6)
                              .max_steps(s.steps)
                              .eval_steps(s.eval_steps)
                              .seed(static_cast<std::uint64_t>(args.seed))
                              .output_dir(args.out / "run")
                              .save(vikcse::SaveOptions{"cls", s.tokenizer_files}));
  vikcse::ProgressBar bar(std::cerr, static_cast<std::size_t>(s.steps), {.label = "train", .unit = "step"});
  trainer.on_progress([&](const vikcse::TrainProgress& p) {
    bar.set(static_cast<std::size_t>(p.step), fmt::format("loss {:.4f} lr {:.2e}", p.loss, p.learning_rate));
  });
  std::vector<std::string> dev_log;
  trainer.on_record([&](const nlohmann::json& r) {
    if (r.contains("eval"))
      dev_log.push_back(
          fmt::format("step {}: dev Spearman {:.4f}", r["step"].get<std::int64_t>(), r["eval"].get<double>()));
  });
  const auto dev_score = [&] {
    double sum = 0;
    for (const auto& t : s.dev)
      sum += vikcse::evaluate_sts(t, embedder, {}, {.alignment_uniformity = false}).spearman.all;
    return sum / static_cast<double>(s.dev.size());
  };
  const auto result = trainer.fit(model, source, dev_score, /*evaluate_initial=*/true);
  bar.finish();
  // Report the checkpoint selected on the dev set.
  vikcse::load_model_checkpoint(*model, args.out / "run" / "best");
  const auto after = evaluate(s.test, embedder);

  for (const auto& line : dev_log) std::cout << line << '\n';
  std::cout << fmt::format("\ndev Spearman: untrained {:.4f}, best {:.4f} at step {} (checkpoint {})\n\n",
                           result.initial_score, result.best_score, result.best_step,
                           (args.out / "run" / "best").string());
  std::cout << table({{"untrained", before}, {"VIKCSE (ours)", after}});
  auto mean = [](const std::vector<vikcse::StsTaskResult>& r) {
    double sum = 0;
    for (const auto& t : r) sum += 100.0 * t.spearman.all;
    return sum / static_cast<double>(r.size());
  };
  std::cout << fmt::format("\nVIKCSE - untrained (Avg.): {:+.2f} points\n", mean(after) - mean(before));
  if (!demo) {
    if (const auto paper = vikcse::find_paper_row("vikcse", "bert-base", "wiki+flickr")) {
      std::cout << fmt::format("\nPaper ({}): STS Avg. {:.2f}\n", paper->source, paper->scores[7]);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_demo: error: " << e.what() << '\n';
  return 1;
}
