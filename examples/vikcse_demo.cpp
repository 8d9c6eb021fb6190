// SPDX-License-Identifier: Apache-2.0
/// @file vikcse_demo.cpp
/// `vikcse_demo`: the main job. Trains VIKCSE and prints the STS table.
///
/// Without data arguments it runs on DEMO DATA it makes itself (a synthetic corpus from a small
/// grammar, scored sentence pairs, a synthetic visual feature bank), a WordPiece vocabulary trained
/// on that corpus and a small random encoder: a few minutes on 2 cores. The numbers then say only
/// that the pipeline works, nothing about the method.
///
/// On real data:
///   vikcse_demo --model bert-base-uncased/ --corpus wiki1m_for_simcse.txt
///               --kb flickr30k_clip_image_features.npy --senteval SentEval/data

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/report.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/methods.hpp>
#include <vikcse/methods/embedder.hpp>
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

constexpr const char* usage = R"(vikcse_demo: train VIKCSE and print the STS table

Usage:
  vikcse_demo [--out DIR] [--steps N]                      demo data made by the program (a few minutes)
  vikcse_demo --model DIR --corpus FILE --kb FILE --senteval DIR [options]   real data

Real data:
  --model DIR       Hugging Face BERT/RoBERTa checkpoint directory (config.json, weights, tokenizer files)
  --corpus FILE     training sentences, one per line (e.g. wiki1m_for_simcse.txt)
  --kb FILE         knowledge-base features [M, D] (.npy or .safetensors; e.g. CLIP image embeddings)
  --senteval DIR    SentEval data directory (holds downstream/)
Options:
  --out DIR         output directory (checkpoints, metrics.jsonl, demo data). Default: vikcse-demo-out
  --steps N         training steps (demo default 1500; real data default: 2 epochs)
  --batch-size N    sentences per step (demo 32; real 128)
  --lr X            learning rate (demo 5e-4; real 3e-6, the VIKCSE reference)
  --kb-grad-mode M  none (reference) | straight_through | soft (extensions). Default: none
  --seed N          seed (default 42)
  --help            this text
)";

struct Args {
  fs::path out = "vikcse-demo-out";
  fs::path model, corpus, kb, senteval;
  std::int64_t steps = -1, batch_size = -1, seed = 42;
  double lr = -1;
  std::string kb_grad_mode = "none";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw vikcse::invalid_argument(k + " needs a value");
      return argv[++i];
    };
    if (k == "--help" || k == "-h") {
      std::cout << usage;
      std::exit(0);
    } else if (k == "--out") a.out = value();
    else if (k == "--model") a.model = value();
    else if (k == "--corpus") a.corpus = value();
    else if (k == "--kb") a.kb = value();
    else if (k == "--senteval") a.senteval = value();
    else if (k == "--steps") a.steps = std::stoll(value());
    else if (k == "--batch-size") a.batch_size = std::stoll(value());
    else if (k == "--lr") a.lr = std::stod(value());
    else if (k == "--seed") a.seed = std::stoll(value());
    else if (k == "--kb-grad-mode") a.kb_grad_mode = value();
    else throw vikcse::invalid_argument("unknown option " + k + " (see --help)");
  }
  const int real = !a.model.empty() + !a.corpus.empty() + !a.kb.empty() + !a.senteval.empty();
  if (real != 0 && real != 4) throw vikcse::invalid_argument("real data needs all of --model, --corpus, --kb and --senteval");
  return a;
}

// ----------------------------------------------------------------------------- demo data
// A tiny world: a sentence states (subject, action, object, place); each slot has two surface
// forms (synonyms). Pair similarity = shared slots; an "image" of a state = the sum of its
// concepts' vectors plus noise.
struct World {
  std::vector<std::vector<std::vector<std::string>>> slots = {
      {{"man", "guy"}, {"woman", "lady"}, {"dog", "puppy"}, {"cat", "kitten"}, {"child", "kid"}, {"chef", "cook"},
       {"farmer", "grower"}, {"student", "pupil"}},
      {{"eats", "consumes"}, {"carries", "holds"}, {"looks at", "watches"}, {"throws", "tosses"}, {"buys", "purchases"},
       {"paints", "draws"}},
      {{"an apple", "a fruit"}, {"a ball", "a sphere"}, {"a car", "a vehicle"}, {"a guitar", "an instrument"},
       {"a book", "a novel"}, {"a box", "a crate"}},
      {{"in the park", "at the park"}, {"on the street", "on the road"}, {"at home", "in the house"},
       {"near the river", "by the river"}, {"in the kitchen", "by the stove"}}};
  std::mt19937_64 rng;
  explicit World(std::uint64_t seed) : rng(seed) {}
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  std::vector<std::size_t> state() {
    std::vector<std::size_t> s;
    for (const auto& slot : slots) s.push_back(pick(slot.size()));
    return s;
  }
  std::string say(const std::vector<std::size_t>& s) {
    std::string out = "a";
    for (std::size_t i = 0; i < s.size(); ++i) out += " " + slots[i][s[i]][pick(2)];
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
  for (const auto& slot : w.slots) concept_vectors.push_back(torch::randn({static_cast<std::int64_t>(slot.size()), dim}, gen));
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
  World w(static_cast<std::uint64_t>(a.seed));
  for (int i = 0; i < 8000; ++i) s.corpus.push_back(w.say(w.state()));
  s.dev = {make_pairs(w, "demo STS dev", 400)};
  s.test = {make_pairs(w, "demo STS test", 800)};
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
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 128;
  c.max_position_embeddings = 64;
  torch::manual_seed(a.seed);
  s.encoder = vikcse::AutoModel(c);
  s.steps = a.steps > 0 ? a.steps : 1500;
  s.batch_size = a.batch_size > 0 ? a.batch_size : 32;
  s.lr = a.lr > 0 ? a.lr : 5e-4;
  s.eval_steps = 250;
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
  s.eval_steps = 50;
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
  const auto args = parse(argc, argv);
  vikcse::configure_threads();
  const bool demo = args.model.empty();
  if (demo) {
    std::cout << "vikcse_demo: DEMO DATA. The corpus, the scored sentence pairs and the visual feature bank are\n"
                 "synthetic (made by this program), the vocabulary is trained on that corpus and the encoder is\n"
                 "small and random. The numbers show that the pipeline runs; they say nothing about VIKCSE.\n"
                 "Real data: vikcse_demo --model DIR --corpus FILE --kb FILE --senteval DIR\n\n";
  }
  fs::create_directories(args.out);
  auto s = demo ? demo_setup(args) : real_setup(args);
  const auto specials = vikcse::special_ids(*s.tokenizer);
  if (specials.mask < 0) throw vikcse::config_error("the tokenizer has no mask token");
  auto tokenize = vikcse::tokenize_function(s.tokenizer);
  const vikcse::PromptTemplate tpl(s.template_text, s.tokenizer->special_tokens().mask_token);
  const auto layout = vikcse::make_prompt_layout(tpl, tokenize, specials);
  const auto hidden = s.encoder.config().hidden_size;

  torch::manual_seed(args.seed);
  vikcse::AutoVIKCSE model(
      s.encoder, vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(hidden, specials.mask)),
      vikcse::VisualKnowledgeBase<>(s.kb),
      vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(hidden, s.kb.size(1))
                                       .kb_grad_mode(vikcse::parse_kb_grad_mode(args.kb_grad_mode))),
      vikcse::SentenceEmbedderOptions().views_in_one_pass(false));

  const vikcse::ViewFormat format{layout, 32};
  auto collator = std::make_shared<vikcse::Collator>(tokenize, vikcse::CollatorOptions{specials, format, format});
  auto corpus = std::make_shared<const std::vector<std::string>>(std::move(s.corpus));
  const auto source = vikcse::shuffled_batches<std::string>(
      corpus, s.batch_size, static_cast<std::uint64_t>(args.seed),
      [collator](const std::vector<std::string>& b) { return collator->unsupervised(b); });
  const auto embedder = vikcse::make_embedder(model, tokenize, specials, {layout, 512});

  std::cout << fmt::format("VIKCSE: {} sentences, knowledge base [{}, {}], encoder H={} L={}, {} steps of {}, lr {}, "
                           "kb_grad_mode {}\n",
                           corpus->size(), s.kb.size(0), s.kb.size(1), hidden, s.encoder.config().num_hidden_layers,
                           s.steps, s.batch_size, s.lr, args.kb_grad_mode);
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
  const auto dev_score = [&] {
    double sum = 0;
    for (const auto& t : s.dev) sum += vikcse::evaluate_sts(t, embedder, {}, {.alignment_uniformity = false}).spearman.all;
    return sum / static_cast<double>(s.dev.size());
  };
  const auto result = trainer.fit(model, source, dev_score, /*evaluate_initial=*/true);
  bar.finish();
  // Report the checkpoint selected on the dev set.
  vikcse::load_model_checkpoint(*model, args.out / "run" / "best");
  const auto after = evaluate(s.test, embedder);

  std::cout << fmt::format("\ndev Spearman: untrained {:.4f}, best {:.4f} at step {} (checkpoint {})\n\n",
                           result.initial_score, result.best_score, result.best_step, (args.out / "run" / "best").string());
  std::cout << table({{"untrained", before}, {"VIKCSE (ours)", after}});
  if (!demo) {
    std::cout << "\nPaper (VIKCSE Table 2, BERT-base wiki+flickr):\n"
                 "| VIKCSE wiki+flickr (paper)   |  70.99 | 84.28 | 76.48 | 84.65 | 80.50 | 81.68 | 71.80 | 78.63 |\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "vikcse_demo: error: " << e.what() << '\n';
  return 1;
}
