// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_trainer_test
#include <boost/test/unit_test.hpp>

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/methods.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/trainer.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("vikcse_trainer_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::int64_t> toy_tokenize(std::string_view text) {
  std::vector<std::int64_t> ids;
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) ids.push_back(5 + static_cast<std::int64_t>(std::hash<std::string>{}(w) % 90));
  return ids;
}

vikcse::SimCSE tiny_simcse(double dropout) {
  vikcse::BertConfig c;
  c.vocab_size = 100;
  c.hidden_size = 16;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 64;
  c.hidden_dropout_prob = dropout;
  c.attention_probs_dropout_prob = dropout;
  torch::manual_seed(7);
  return vikcse::SimCSE(vikcse::BertModel(c), vikcse::ClsPooler(16), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
}

vikcse::BatchSource source() {
  auto corpus = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
      "a man plays guitar", "the cat sleeps", "dogs run fast", "a woman sings", "birds fly south", "the sun is hot",
      "rain falls today", "kids play outside"});
  auto collator = std::make_shared<vikcse::Collator>(
      toy_tokenize, vikcse::CollatorOptions{.specials = {1, 2, 0, 3}, .first = {}, .second = {}});
  return vikcse::shuffled_batches<std::string>(corpus, 3, 42,
                                               [collator](const std::vector<std::string>& s) { return collator->unsupervised(s); });
}

std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(hugging_face_decay_groups_and_linear_schedule) {
  BOOST_TEST(vikcse::decays("encoder.layer.0.attention.self.query.weight"));
  BOOST_TEST(!vikcse::decays("encoder.layer.0.attention.self.query.bias"));
  BOOST_TEST(!vikcse::decays("embeddings.LayerNorm.weight"));
  auto model = tiny_simcse(0.0);
  auto opt = vikcse::make_adamw(*model, {1e-3, 0.01});
  BOOST_REQUIRE(opt->param_groups().size() == 2U);
  std::size_t n_decay = 0, n_none = 0;
  for (const auto& item : model->named_parameters()) (vikcse::decays(item.key()) ? n_decay : n_none)++;
  BOOST_TEST(opt->param_groups()[0].params().size() == n_decay);
  BOOST_TEST(opt->param_groups()[1].params().size() == n_none);
  BOOST_TEST(static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[1].options()).weight_decay() == 0.0);
  BOOST_TEST(static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[0].options()).weight_decay() == 0.01);
  BOOST_TEST(vikcse::linear_lr(1.0, 0, 10) == 1.0);
  BOOST_TEST(vikcse::linear_lr(1.0, 5, 10) == 0.5);
  BOOST_TEST(vikcse::linear_lr(1.0, 10, 10) == 0.0);
  BOOST_TEST(vikcse::linear_lr(1.0, 1, 12, 2) == 0.5);
  BOOST_TEST(vikcse::linear_lr(1.0, 7, 12, 2) == 0.5);
  BOOST_CHECK_THROW(vikcse::make_adamw(*model, {0.0, 0.0}), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(fit_writes_metrics_best_and_hf_checkpoints) {
  const auto dir = temp_dir("fit");
  auto model = tiny_simcse(0.1);
  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).eval_steps(2).output_dir(dir));
  int evals = 0;
  std::vector<vikcse::TrainProgress> progress;
  trainer.on_progress([&](const vikcse::TrainProgress& p) { progress.push_back(p); });
  const auto result = trainer.fit(model, source(), [&] { return static_cast<double>(++evals % 3); }, true);
  BOOST_TEST(result.steps == 6);
  BOOST_TEST(evals == 4);  // initial + steps 2, 4, 6
  BOOST_TEST(result.best_score == 2.0);
  BOOST_TEST(result.best_step == 2);  // evals: 1 (initial), 2 (step 2), 0 (step 4), 1 (step 6)
  BOOST_TEST(progress.size() == 6U);
  BOOST_TEST(progress.back().step == 6);
  const auto records = read_jsonl(dir / "metrics.jsonl");
  BOOST_REQUIRE(records.size() == 7U);  // initial eval + 6 steps
  BOOST_TEST(records[1]["step"].get<int>() == 1);
  BOOST_TEST(records[1]["lr"].get<double>() == 1e-3);
  BOOST_TEST(records[3]["lr"].get<double>() == 1e-3 * 4.0 / 6.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(records[2].contains("eval"));
  BOOST_TEST(records[2].value("best", false));
  for (const auto* sub : {"best", "last"}) {
    BOOST_TEST(fs::exists(dir / sub / "config.json"));
    BOOST_TEST(fs::exists(dir / sub / "model.safetensors"));
    BOOST_TEST(fs::exists(dir / sub / "modules.json"));
    // Loadable as a plain Hugging Face encoder (strict: no missing or unexpected keys).
    BOOST_CHECK_NO_THROW(vikcse::AutoModel::from_pretrained(dir / sub));
  }
  BOOST_TEST(fs::exists(dir / "last" / "optimizer.pt"));
  fs::remove_all(dir);
}

namespace {

// Six steps straight into `straight_dir`, and the same run checkpointed every 3 steps into
// `interrupted_dir` and stopped after step 3 (as a killed process would be). Returns the
// uninterrupted model.
vikcse::SimCSE train_straight_and_interrupted(const fs::path& straight_dir, const fs::path& interrupted_dir, double dropout) {
  auto straight = tiny_simcse(dropout);
  vikcse::Trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).output_dir(straight_dir)).fit(straight, source());
  auto part = tiny_simcse(dropout);
  vikcse::Trainer t1(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).save_steps(3).output_dir(interrupted_dir));
  struct Stop {};
  t1.on_progress([](const vikcse::TrainProgress& p) {
    if (p.step == 3) throw Stop{};
  });
  BOOST_CHECK_THROW(t1.fit(part, source()), Stop);
  BOOST_REQUIRE(fs::exists(interrupted_dir / "last" / "trainer_state.json"));
  return straight;
}

}  // namespace

BOOST_AUTO_TEST_CASE(resume_continues_exactly_without_dropout) {
  const auto dir_a = temp_dir("straight");
  const auto dir_b = temp_dir("interrupted");
  auto straight = train_straight_and_interrupted(dir_a, dir_b, 0.0);
  // A fresh process-like start: new model object, resumed from step 3.
  auto resumed = tiny_simcse(0.0);
  const auto r = vikcse::Trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).resume_from(dir_b / "last"))
                     .fit(resumed, source());
  BOOST_TEST(r.steps == 6);
  auto params = resumed->named_parameters();
  for (const auto& item : straight->named_parameters()) {
    BOOST_TEST(torch::allclose(item.value(), params[item.key()], 1e-6, 1e-7), item.key());
  }
  // A missing state is a clear error.
  BOOST_CHECK_THROW(vikcse::Trainer(vikcse::TrainerOptions().max_steps(6).resume_from(dir_a / "nope")).fit(resumed, source()),
                    vikcse::checkpoint_error);
  fs::remove_all(dir_a.parent_path());
}

// With dropout on, the resumed run draws the same dropout masks as the uninterrupted one: the
// random-generator state is saved with the checkpoint and restored.
BOOST_AUTO_TEST_CASE(resume_continues_exactly_with_dropout) {
  const auto dir_a = temp_dir("straight-dropout");
  const auto dir_b = temp_dir("interrupted-dropout");
  auto straight = train_straight_and_interrupted(dir_a, dir_b, 0.1);
  BOOST_REQUIRE(fs::exists(dir_b / "last" / "rng_state.pt"));
  torch::manual_seed(12345);  // whatever the new process did to the generator before resuming
  (void)torch::rand({7});
  auto resumed = tiny_simcse(0.1);
  std::vector<nlohmann::json> records;
  vikcse::Trainer t2(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).resume_from(dir_b / "last"));
  t2.on_record([&](const nlohmann::json& r) { records.push_back(r); });
  t2.fit(resumed, source());
  for (const auto& r : records) BOOST_TEST(!r.contains("warning"));
  auto params = resumed->named_parameters();
  for (const auto& item : straight->named_parameters()) {
    BOOST_TEST(torch::allclose(item.value(), params[item.key()], 1e-6, 1e-7), item.key());
  }
  // The same resume without the saved state is warned about and no longer exact.
  fs::remove(dir_b / "last" / "rng_state.pt");
  auto reseeded = tiny_simcse(0.1);
  records.clear();
  vikcse::Trainer t3(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).resume_from(dir_b / "last"));
  t3.on_record([&](const nlohmann::json& r) { records.push_back(r); });
  t3.fit(reseeded, source());
  BOOST_TEST(std::any_of(records.begin(), records.end(), [](const nlohmann::json& r) { return r.contains("warning"); }));
  bool differs = false;
  auto reseeded_params = reseeded->named_parameters();
  for (const auto& item : straight->named_parameters()) {
    differs = differs || !torch::allclose(item.value(), reseeded_params[item.key()], 1e-6, 1e-7);
  }
  BOOST_TEST(differs);
  // A corrupt state file is a clear error naming it.
  { std::ofstream(dir_b / "last" / "rng_state.pt") << "not a tensor archive"; }
  auto bad = tiny_simcse(0.1);
  try {
    vikcse::Trainer(vikcse::TrainerOptions().max_steps(6).resume_from(dir_b / "last")).fit(bad, source());
    BOOST_ERROR("a corrupt rng_state.pt was accepted");
  } catch (const vikcse::checkpoint_error& e) {
    BOOST_TEST(std::string(e.what()).find("rng_state.pt") != std::string::npos);
  }
  fs::remove_all(dir_a.parent_path());
}

BOOST_AUTO_TEST_CASE(test_set_selection_is_warned) {
  auto model = tiny_simcse(0.1);
  std::vector<nlohmann::json> records;
  vikcse::Trainer trainer(vikcse::TrainerOptions().max_steps(1).select_on(vikcse::SelectOn::test));
  trainer.on_record([&](const nlohmann::json& r) { records.push_back(r); });
  trainer.fit(model, source(), [] { return 0.5; });
  BOOST_REQUIRE(!records.empty());
  BOOST_TEST(records.front().contains("warning"));
  BOOST_TEST(records.front()["warning"].get<std::string>().find("TEST set") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(data_readers_and_mixed_sampling) {
  const auto dir = temp_dir("data");
  std::ofstream(dir / "corpus.txt") << "first sentence\r\nsecond one\n\nfourth\n";
  try {
    vikcse::read_corpus(dir / "corpus.txt");
    BOOST_FAIL("an empty line must be an error");
  } catch (const vikcse::data_error& e) {
    BOOST_TEST(std::string(e.what()).find("corpus.txt:3: empty line") != std::string::npos, e.what());
  }
  std::size_t skipped = 0;
  const auto lines = vikcse::read_corpus(dir / "corpus.txt", true, &skipped);
  BOOST_TEST(lines.size() == 3U);
  BOOST_TEST(lines[0] == "first sentence");
  BOOST_TEST(skipped == 1U);
  std::ofstream(dir / "empty.txt") << "";
  BOOST_CHECK_THROW(vikcse::read_corpus(dir / "empty.txt"), vikcse::data_error);
  std::ofstream(dir / "nli.csv") << "sent0,sent1,hard_neg\n\"a, quoted\",b,c\n\"multi\nline\",\"say \"\"hi\"\"\",z\n";
  const auto t = vikcse::read_supervised_csv(dir / "nli.csv");
  BOOST_TEST(t.sent0.size() == 2U);
  BOOST_TEST(t.sent0[0] == "a, quoted");
  BOOST_TEST(t.sent0[1] == "multi\nline");
  BOOST_TEST(t.sent1[1] == "say \"hi\"");
  BOOST_TEST(t.hard_neg[1] == "z");
  std::ofstream(dir / "bad.csv") << "sent0,sent1,hard_neg\na,b\n";
  BOOST_CHECK_THROW(vikcse::read_supervised_csv(dir / "bad.csv"), vikcse::data_error);
  // Mixed sampling: T = 6 text batches, P = 2 paired -> k = 3, paired at steps 0, 3, 6.
  std::vector<std::string> kinds;
  auto make = [&](const char* kind, std::int64_t n) {
    return vikcse::BatchSource{n, [kind, &kinds](std::int64_t e, std::int64_t i) {
                                 kinds.push_back(fmt::format("{}{}:{}", kind, e, i));
                                 return vikcse::TrainingBatch{};
                               }};
  };
  const auto mixed = vikcse::mixed_batches(make("t", 6), make("p", 2));
  BOOST_TEST(mixed.steps_per_epoch == 8);
  for (std::int64_t s = 0; s < 8; ++s) mixed.batch(0, s);
  const std::vector<std::string> expected{"p0:0", "t0:0", "t0:1", "p0:1", "t0:2", "t0:3", "p1:0", "t0:4"};
  BOOST_TEST(kinds == expected, boost::test_tools::per_element());
  fs::remove_all(dir);
}
