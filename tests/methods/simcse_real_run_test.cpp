// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_simcse_real_run_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/eval/senteval_data.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/methods.hpp>
#include <vikcse/methods/embedder.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/train/trainer.hpp>

#include <torch/torch.h>

// A short real run: unsupervised SimCSE on sentences of wiki1m (the first lines of SimCSE's
// corpus) with a tiny random BERT (avg pooling) and the bert-base-uncased vocabulary must raise
// STS-B dev Spearman clearly above the value measured for the same untrained model in the same
// run. Measured with the committed setting (600 steps of 32, lr 3e-4, seed 42): untrained 0.5304,
// 0.5514 at step 300, 0.5505 at step 600 (gain 0.021); with 150 steps at 1e-4 the gain was only
// 0.006, too close to run-to-run noise. The assertion asks for half the measured gain (0.01).
// About 1 minute with one thread.

BOOST_AUTO_TEST_CASE(simcse_raises_stsb_dev_spearman) {
  vikcse::configure_threads();
  const auto data = vikcse::testing::data_dir();
  auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(data / "tokenizers" / "bert-base-uncased"));
  const auto specials = vikcse::special_ids(*tokenizer);
  auto tokenize = vikcse::tokenize_function(tokenizer);

  auto corpus = std::make_shared<std::vector<std::string>>(vikcse::read_corpus(data / "corpora" / "wiki1m-subset.txt"));
  corpus->resize(std::min<std::size_t>(corpus->size(), 400 * 32));
  const auto dev = vikcse::read_sts_task(data / "senteval", "STSBenchmark-dev");

  vikcse::BertConfig config;  // vocab 30522 (bert-base-uncased), tiny otherwise
  config.hidden_size = 64;
  config.num_hidden_layers = 2;
  config.num_attention_heads = 2;
  config.intermediate_size = 128;
  config.max_position_embeddings = 128;
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
  vikcse::SimCSE model(vikcse::BertModel(config), vikcse::ClsPooler(vikcse::ClsPoolerOptions(64).kind(pooler)),
                       vikcse::NoKnowledge(), vikcse::InfoNCELoss());

  auto collator = std::make_shared<vikcse::Collator>(tokenize, vikcse::CollatorOptions{specials, {std::nullopt, 32}, {std::nullopt, 32}});
  const auto source = vikcse::shuffled_batches<std::string>(
      corpus, 32, seed, [collator](const std::vector<std::string>& s) { return collator->unsupervised(s); });
  const auto embedder = vikcse::make_embedder(model, tokenize, specials,
                                              {.layout = std::nullopt, .max_length = 128, .denoise = std::nullopt, .append_period = false});
  auto dev_spearman = [&] {
    return vikcse::evaluate_sts(dev, embedder, {}, vikcse::StsEvalOptions{.alignment_uniformity = false}).spearman.all;
  };

  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(lr).max_steps(steps).eval_steps(steps / 2).seed(seed));
  trainer.on_record([](const nlohmann::json& r) {
    if (r.contains("eval")) BOOST_TEST_MESSAGE("step " << r["step"] << ": STS-B dev Spearman " << r["eval"]);
  });
  const auto result = trainer.fit(model, source, dev_spearman, /*evaluate_initial=*/true);
  BOOST_TEST_MESSAGE("untrained " << result.initial_score << ", best " << result.best_score << " at step "
                                  << result.best_step << ", final loss " << result.final_loss);
  BOOST_TEST(std::isfinite(result.initial_score));
  BOOST_TEST(result.best_score > result.initial_score + 0.01);
}
