// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_simcse_real_run_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <support/tiny_model.hpp>
#include <vikcse/eval/correlation.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/trainer.hpp>

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <vector>

// A short real run: unsupervised SimCSE on sentences of wiki1m (the first lines of SimCSE's
// corpus) with a tiny random BERT (avg pooling, MLP head in training) and the bert-base-uncased
// vocabulary must raise STS-B dev Spearman above the same untrained model, by more than the noise
// of the measurement itself: the gain of the trained model over the untrained one, both scored in
// this run, must exceed 2 standard errors of a paired bootstrap over the 1500 dev pairs (the same
// resampled pairs for both models): a gain that large arises from dev-set sampling noise alone with
// probability about 2%. No figure from another machine enters the assertion. (Measured once: gain
// 0.020 at 3.3 standard errors; the criterion, not the figure, is what the test holds.)
// About 1 minute with one thread.

namespace {

/// Per-pair cosines of the dev pairs under `embedder`, as the STS protocol scores them.
std::vector<double> pair_scores(const vikcse::Embedder& embedder, const vikcse::StsPairs& pairs) {
  const auto a = embedder(pairs.first).to(torch::kDouble);
  const auto b = embedder(pairs.second).to(torch::kDouble);
  const auto cos = torch::cosine_similarity(a, b, 1).contiguous();
  return {cos.data_ptr<double>(), cos.data_ptr<double>() + cos.numel()};
}

/// The standard error of spearman(after) − spearman(before) under a paired bootstrap of the pairs.
double paired_bootstrap_se(const std::vector<double>& before, const std::vector<double>& after,
                           const std::vector<double>& gold, int resamples = 1000) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, gold.size() - 1);
  std::vector<double> diffs;
  std::vector<double> b(gold.size()), a(gold.size()), g(gold.size());
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < gold.size(); ++i) {
      const auto j = pick(rng);
      b[i] = before[j];
      a[i] = after[j];
      g[i] = gold[j];
    }
    diffs.push_back(vikcse::spearman(a, g) - vikcse::spearman(b, g));
  }
  double mean = 0;
  for (const double d : diffs) mean += d;
  mean /= static_cast<double>(diffs.size());
  double var = 0;
  for (const double d : diffs) var += (d - mean) * (d - mean);
  return std::sqrt(var / static_cast<double>(diffs.size() - 1));
}

}  // namespace

BOOST_AUTO_TEST_CASE(simcse_raises_stsb_dev_spearman) {
  vikcse::configure_threads();
  const auto data = vikcse::testing::data_dir();
  auto tokenizer =
      std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(data / "tokenizers" / "bert-base-uncased"));
  const auto specials = vikcse::require_special_tokens(*tokenizer);
  auto tokenize = vikcse::tokenize_function(tokenizer);

  auto corpus = std::make_shared<std::vector<std::string>>(vikcse::read_corpus(data / "corpora" / "wiki1m-subset.txt"));
  corpus->resize(std::min<std::size_t>(corpus->size(), 400 * 32));
  const auto dev = vikcse::read_sts_task(data / "senteval", "STSBenchmark-dev");

  // bert-base-uncased's vocabulary, tiny otherwise.
  const auto config = vikcse::testing::tiny_bert_config({.vocab_size = 30522,
                                                         .hidden_size = 64,
                                                         .num_hidden_layers = 2,
                                                         .num_attention_heads = 2,
                                                         .intermediate_size = 128,
                                                         .max_position_embeddings = 128});
  // Knobs for tuning runs (defaults are the committed setting).
  auto env = [](const char* name, double fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::atof(v) : fallback;
  };
  const auto steps = static_cast<std::int64_t>(env("VIKCSE_RUN_STEPS", 600));
  const auto lr = env("VIKCSE_RUN_LR", 3e-4);
  const auto seed = static_cast<std::uint64_t>(env("VIKCSE_RUN_SEED", 42));
  torch::manual_seed(seed);
  const auto pooler = env("VIKCSE_RUN_AVG", 1) != 0 ? vikcse::PoolerKind::avg : vikcse::PoolerKind::cls;
  // avg pooling with the MLP head in training, set explicitly: SimCSE's own avg has no head, and
  // without one this tiny random model does not improve (measured: 0.535 -> 0.503 at 600 steps);
  // `cls` with its head collapses at this learning rate (0.487 -> 0.070).
  vikcse::SimCSE model(vikcse::BertModel(config),
                       vikcse::ClsPooler(vikcse::ClsPoolerOptions(64).kind(pooler).mlp(true)), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());

  auto collator = std::make_shared<vikcse::Collator>(
      tokenize, vikcse::CollatorOptions{specials, {std::nullopt, 32}, {std::nullopt, 32}});
  const auto source = vikcse::shuffled_batches<std::string>(
      corpus, 32, seed, [collator](const std::vector<std::string>& s) { return collator->unsupervised(s); });
  const auto embedder = vikcse::make_embedder(model, tokenize, specials, [] {
    vikcse::EmbedderOptions o;
    o.max_length = 128;
    return o;
  }());
  auto dev_spearman = [&] {
    return vikcse::evaluate_sts(dev, embedder, {}, vikcse::StsEvalOptions{.alignment_uniformity = false}).spearman.all;
  };

  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(lr).max_steps(steps).eval_steps(steps / 2).seed(seed));
  trainer.on_record([](const nlohmann::json& r) {
    if (r.contains("eval")) BOOST_TEST_MESSAGE("step " << r["step"] << ": STS-B dev Spearman " << r["eval"]);
  });
  const auto& dev_pairs = dev.subsets.at(0);
  const auto before = pair_scores(embedder, dev_pairs);
  const auto result = trainer.fit(model, source, dev_spearman, /*evaluate_initial=*/true);
  const auto after = pair_scores(embedder, dev_pairs);
  const double gain = vikcse::spearman(after, dev_pairs.gold) - vikcse::spearman(before, dev_pairs.gold);
  const double se = paired_bootstrap_se(before, after, dev_pairs.gold);
  BOOST_TEST_MESSAGE("untrained " << result.initial_score << ", best " << result.best_score << " at step "
                                  << result.best_step << ", final loss " << result.final_loss << "; final gain " << gain
                                  << ", paired bootstrap SE " << se << " (" << gain / se << " SE)");
  BOOST_TEST(std::isfinite(result.initial_score));
  BOOST_TEST(gain > 2.0 * se);
}
