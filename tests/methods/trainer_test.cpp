// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_trainer_test
#include <boost/test/unit_test.hpp>

#include <support/tiny_model.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/trainer.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("vikcse_trainer_test_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A toy tokenizer: one id per whitespace word, hashed into 5..94.
const vikcse::TokenizeFunction toy_tokenize = vikcse::testing::toy_tokenizer({.first_id = 5, .buckets = 90});

vikcse::SimCSE tiny_simcse(double dropout) {
  const auto c = vikcse::testing::tiny_bert_config({.vocab_size = 100,
                                                    .hidden_size = 16,
                                                    .num_hidden_layers = 1,
                                                    .num_attention_heads = 2,
                                                    .intermediate_size = 32,
                                                    .max_position_embeddings = 64,
                                                    .dropout = dropout});
  torch::manual_seed(7);
  return vikcse::SimCSE(vikcse::BertModel(c), vikcse::ClsPooler(16), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
}

vikcse::BatchSource source() {
  auto corpus = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"a man plays guitar", "the cat sleeps", "dogs run fast", "a woman sings",
                               "birds fly south", "the sun is hot", "rain falls today", "kids play outside"});
  auto collator = std::make_shared<vikcse::Collator>(
      toy_tokenize,
      vikcse::CollatorOptions{.specials = vikcse::testing::toy_special_tokens(), .first = {}, .second = {}});
  return vikcse::shuffled_batches<std::string>(
      corpus, 3, 42, [collator](const std::vector<std::string>& s) { return collator->unsupervised(s); });
}

std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

// The decay groups against Hugging Face's own rule, written out here independently of
// `vikcse::decays`: a parameter decays unless its name contains "bias" or "LayerNorm.weight"
// (transformers' `no_decay = ["bias", "LayerNorm.weight"]`). The tiny SimCSE has 1 layer: the
// hand count of its decayed tensors is 11 (3 embedding tables, q/k/v, attention output, intermediate,
// output, BERT pooler, MLP head) and of the rest 14 (10 biases, 4 LayerNorm pairs' weights).
BOOST_AUTO_TEST_CASE(hugging_face_decay_groups_and_linear_schedule) {
  BOOST_TEST(vikcse::decays("encoder.layer.0.attention.self.query.weight"));
  BOOST_TEST(!vikcse::decays("encoder.layer.0.attention.self.query.bias"));
  BOOST_TEST(!vikcse::decays("embeddings.LayerNorm.weight"));
  // CLIP's LayerNorms (the Trainer excludes nn.LayerNorm modules whatever their names)
  for (const char* name : {"text_model.encoder.layers.0.layer_norm1.weight", "vision_model.pre_layrnorm.weight",
                           "vision_model.post_layernorm.weight", "text_model.final_layer_norm.weight"}) {
    BOOST_TEST(!vikcse::decays(name), name);
  }
  BOOST_TEST(vikcse::decays("text_model.encoder.layers.0.mlp.fc1.weight"));
  BOOST_TEST(vikcse::decays("visual_projection.weight"));
  auto model = tiny_simcse(0.0);
  auto opt = vikcse::make_adamw(*model, {1e-3, 0.01});
  BOOST_REQUIRE(opt->param_groups().size() == 2U);
  auto hf_decays = [](const std::string& name) {
    return name.find("bias") == std::string::npos && name.find("LayerNorm.weight") == std::string::npos;
  };
  std::set<const void*> want_decay, want_none;
  for (const auto& item : model->named_parameters()) {
    (hf_decays(item.key()) ? want_decay : want_none).insert(item.value().unsafeGetTensorImpl());
  }
  BOOST_TEST(want_decay.size() == 11U);
  BOOST_TEST(want_none.size() == 14U);
  auto group = [&](std::size_t g) {
    std::set<const void*> out;
    for (const auto& p : opt->param_groups()[g].params()) out.insert(p.unsafeGetTensorImpl());
    return out;
  };
  BOOST_TEST((group(0) == want_decay));
  BOOST_TEST((group(1) == want_none));
  BOOST_TEST(static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[1].options()).weight_decay() == 0.0);
  BOOST_TEST(static_cast<torch::optim::AdamWOptions&>(opt->param_groups()[0].options()).weight_decay() == 0.01);
  BOOST_TEST(vikcse::linear_lr(1.0, 0, 10) == 1.0);
  BOOST_TEST(vikcse::linear_lr(1.0, 5, 10) == 0.5);
  BOOST_TEST(vikcse::linear_lr(1.0, 10, 10) == 0.0);
  BOOST_TEST(vikcse::linear_lr(1.0, 1, 12, 2) == 0.5);
  BOOST_TEST(vikcse::linear_lr(1.0, 7, 12, 2) == 0.5);
  BOOST_CHECK_THROW(vikcse::make_adamw(*model, {0.0, 0.0}), vikcse::invalid_argument);
}

// Evaluation happens at the multiples of eval_steps only, as in Hugging Face's trainer: 5 steps
// with eval_steps 2 evaluate at steps 2 and 4, not again at step 5.
BOOST_AUTO_TEST_CASE(no_extra_evaluation_at_the_last_step) {
  auto model = tiny_simcse(0.1);
  std::vector<std::int64_t> eval_steps;
  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(5).eval_steps(2));
  trainer.on_record([&](const nlohmann::json& r) {
    if (r.contains("eval")) eval_steps.push_back(r["step"].get<std::int64_t>());
  });
  const auto result = trainer.fit(model, source(), [] { return 0.5; });
  BOOST_TEST(eval_steps == (std::vector<std::int64_t>{2, 4}), boost::test_tools::per_element());
  BOOST_TEST(result.best_step == 2);
  // eval_steps <= 0: one evaluation, after the last step.
  eval_steps.clear();
  vikcse::Trainer once(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(3).eval_steps(0));
  once.on_record([&](const nlohmann::json& r) {
    if (r.contains("eval")) eval_steps.push_back(r["step"].get<std::int64_t>());
  });
  once.fit(model, source(), [] { return 0.5; });
  BOOST_TEST(eval_steps == (std::vector<std::int64_t>{3}), boost::test_tools::per_element());
}

// Gradient-norm clipping at 1.0, against a loop written here: same model, batches and schedule,
// clipping by hand (scale every gradient by 1 / (total norm + 1e-6) when that is below 1, as
// torch.nn.utils.clip_grad_norm_ does). Adam's first step is almost scale-free, so two steps are
// taken: the second update depends on the ratio of the two clipped gradients. Without clipping
// the parameters differ by far more than the float tolerance, so the comparison can fail.
BOOST_AUTO_TEST_CASE(gradient_clipping_at_one) {
  const double lr = 1e-3;
  auto run_trainer = [&](double clip) {
    auto model = tiny_simcse(0.1);  // dropout makes the two views differ: a real gradient
    std::vector<double> norms;
    vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(lr).max_steps(2).max_grad_norm(clip));
    trainer.on_record([&](const nlohmann::json& r) {
      if (r.contains("grad_norm")) norms.push_back(r["grad_norm"].get<double>());
    });
    trainer.fit(model, source());
    return std::make_pair(model, norms);
  };
  const auto [clipped, norms] = run_trainer(1.0);
  const auto [unclipped, unused] = run_trainer(0.0);
  auto manual = tiny_simcse(0.1);
  manual->train();
  torch::manual_seed(42);  // as the trainer seeds its run (the same dropout masks)
  auto opt = vikcse::make_adamw(*manual, {lr, 0.0});
  const auto src = source();
  std::vector<double> manual_norms;
  for (std::int64_t step = 0; step < 2; ++step) {
    vikcse::set_learning_rate(*opt, lr * (1.0 - static_cast<double>(step) / 2.0));
    opt->zero_grad();
    manual->forward(src.batch(0, step)).total.backward();
    double sq = 0;
    for (const auto& p : manual->parameters()) {
      if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
    }
    const double norm = std::sqrt(sq);
    manual_norms.push_back(norm);
    const double coef = 1.0 / (norm + 1e-6);
    if (coef < 1.0) {
      for (auto& p : manual->parameters()) {
        if (p.grad().defined()) p.grad().mul_(coef);
      }
    }
    opt->step();
  }
  BOOST_REQUIRE(norms.size() == 2U);
  for (std::size_t i = 0; i < 2; ++i) BOOST_TEST(norms[i] == manual_norms[i], boost::test_tools::tolerance(1e-5));
  BOOST_TEST_MESSAGE("gradient norms before clipping: " << norms[0] << ", " << norms[1]);
  BOOST_REQUIRE(norms[0] > 1.0);  // clipping was active, so the test can tell it apart
  double to_manual = 0, to_unclipped = 0;
  auto manual_params = manual->named_parameters();
  auto unclipped_params = unclipped->named_parameters();
  for (const auto& item : clipped->named_parameters()) {
    to_manual = std::max(to_manual, (item.value() - manual_params[item.key()]).abs().max().item<double>());
    to_unclipped = std::max(to_unclipped, (item.value() - unclipped_params[item.key()]).abs().max().item<double>());
  }
  BOOST_TEST_MESSAGE("max |trainer - manual clipping| = " << to_manual << ", |clipped - unclipped| = " << to_unclipped);
  BOOST_TEST(to_manual < 1e-6);  // same operations in the same order: float rounding only
  BOOST_TEST(to_unclipped > 1e-5);
}

// vikcse::clip_grad_norm (no host read, for CUDA steps) against LibTorch's clip_grad_norm_ on
// the same gradients: the same norm and the same clipped gradients bit for bit, both when the
// norm is above the limit (scaled) and below it (left alone); a parameter without a gradient is
// skipped by both.
BOOST_AUTO_TEST_CASE(clip_grad_norm_equals_libtorch_bit_for_bit) {
  for (const double max_norm : {0.5, 1e3}) {
    torch::manual_seed(3);
    std::vector<torch::Tensor> ours, theirs;
    for (const auto n : {7, 33, 5}) {
      auto p = torch::randn({n}).requires_grad_(true);
      p.mutable_grad() = torch::randn({n}) * 3.0;
      auto q = p.detach().clone().requires_grad_(true);
      q.mutable_grad() = p.grad().clone();
      ours.push_back(p);
      theirs.push_back(q);
    }
    ours.push_back(torch::randn({4}).requires_grad_(true));  // no gradient
    theirs.push_back(ours.back().detach().clone().requires_grad_(true));
    const auto norm = vikcse::clip_grad_norm(ours, max_norm);
    const double want = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    BOOST_TEST(norm.item<double>() == want);
    for (std::size_t i = 0; i + 1 < ours.size(); ++i) BOOST_TEST(torch::equal(ours[i].grad(), theirs[i].grad()));
    BOOST_TEST(!ours.back().grad().defined());
    BOOST_TEST_MESSAGE("max_norm " << max_norm << ": norm " << want);
  }
  BOOST_TEST(vikcse::clip_grad_norm({torch::randn({3})}, 1.0).item<double>() == 0.0);
}

// logging_steps N reads the loss (a wait for the device) only every N steps, at evaluations and
// at the last step; the training itself is unchanged: the parameters equal those of a run that
// reads every step, bit for bit.
BOOST_AUTO_TEST_CASE(logging_steps_reads_every_nth_step_and_trains_the_same) {
  auto run = [](std::int64_t every) {
    auto model = tiny_simcse(0.1);
    std::vector<std::int64_t> logged;
    vikcse::Trainer trainer(
        vikcse::TrainerOptions().learning_rate(1e-3).max_steps(7).eval_steps(5).logging_steps(every));
    trainer.on_record([&](const nlohmann::json& r) {
      if (r.contains("loss")) logged.push_back(r["step"].get<std::int64_t>());
    });
    const auto result = trainer.fit(model, source(), [] { return 0.5; });
    BOOST_TEST(std::isfinite(result.final_loss));
    return std::make_pair(model, logged);
  };
  auto [every, all_steps] = run(1);
  auto [third, some_steps] = run(3);
  BOOST_TEST((all_steps == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
  BOOST_TEST((some_steps == std::vector<std::int64_t>{3, 5, 6, 7}));  // 3, 6: logging; 5: evaluation; 7: last
  auto want = every->named_parameters();
  for (const auto& item : third->named_parameters()) BOOST_TEST(torch::equal(item.value(), want[item.key()]), item.key());
  BOOST_CHECK_THROW(vikcse::Trainer(vikcse::TrainerOptions().max_steps(2).logging_steps(0)).fit(every, source()),
                    vikcse::invalid_argument);
}

// A step's batch moves whole: every defined tensor of both views, the hard negatives, the image
// features and the mask rows go to the device (the meta device here: shapes without data), and
// undefined ones stay undefined.
BOOST_AUTO_TEST_CASE(a_training_batch_moves_to_a_device_whole) {
  const auto ids = torch::ones({2, 3}, torch::kLong);
  vikcse::TrainingBatch b{{ids, ids, {}, {}}, {ids, ids, ids, {}}, vikcse::TokenBatch{ids, ids, {}, {}},
                          torch::ones({2, 5}), torch::arange(2)};
  const auto m = b.to(torch::kMeta);
  for (const auto* t : {&m.first.input_ids, &m.first.attention_mask, &m.second.input_ids, &m.second.attention_mask,
                        &m.second.token_type_ids, &m.hard_negative->input_ids, &m.image_features, &m.mask_rows}) {
    BOOST_TEST(t->device().is_meta());
  }
  BOOST_TEST((m.image_features.sizes() == torch::IntArrayRef{2, 5}));
  BOOST_TEST(!m.first.token_type_ids.defined());
  BOOST_TEST(!m.second.position_ids.defined());
  BOOST_TEST(!vikcse::TrainingBatch{}.to(torch::kMeta).hard_negative.has_value());
}

BOOST_AUTO_TEST_CASE(fit_writes_metrics_best_and_hf_checkpoints) {
  const auto dir = temp_dir("fit");
  auto model = tiny_simcse(0.1);
  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).eval_steps(2).output_dir(dir));
  int evals = 0;
  std::vector<vikcse::TrainProgress> progress;
  trainer.on_progress([&](const vikcse::TrainProgress& p) { progress.push_back(p); });
  const auto result = trainer.fit(
      model, source(), [&] { return static_cast<double>(++evals % 3); }, true);
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
    BOOST_TEST(fs::exists(dir / sub / "vikcse_embedding.json"));
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
vikcse::SimCSE train_straight_and_interrupted(const fs::path& straight_dir, const fs::path& interrupted_dir,
                                              double dropout) {
  auto straight = tiny_simcse(dropout);
  vikcse::Trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).output_dir(straight_dir))
      .fit(straight, source());
  auto part = tiny_simcse(dropout);
  vikcse::Trainer t1(
      vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).save_steps(3).output_dir(interrupted_dir));
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
  BOOST_CHECK_THROW(
      vikcse::Trainer(vikcse::TrainerOptions().max_steps(6).resume_from(dir_a / "nope")).fit(resumed, source()),
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
  BOOST_TEST(
      std::any_of(records.begin(), records.end(), [](const nlohmann::json& r) { return r.contains("warning"); }));
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

// stop_when (Ctrl-C in the programs) ends the loop after the step in progress with a whole last/ of
// that step; resuming from it gives the uninterrupted parameters and the same metrics.jsonl, because a
// resumed run first cuts the records after its step (here: the ones a killed run wrote past it).
BOOST_AUTO_TEST_CASE(stop_when_saves_the_step_and_resume_equals_the_straight_run) {
  const auto straight_dir = temp_dir("stop-straight");
  const auto stopped_dir = temp_dir("stop-stopped");
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  auto options = [](const fs::path& dir) {
    return vikcse::TrainerOptions().learning_rate(1e-3).max_steps(6).eval_steps(2).output_dir(dir);
  };
  auto evaluate = [] { return 0.5; };
  auto straight = tiny_simcse(0.1);
  vikcse::Trainer(options(straight_dir)).fit(straight, source(), evaluate, /*evaluate_initial=*/true);

  auto part = tiny_simcse(0.1);
  vikcse::Trainer t1(options(stopped_dir));
  int steps_seen = 0;
  t1.on_progress([&](const vikcse::TrainProgress&) { ++steps_seen; });
  t1.stop_when([&] { return steps_seen == 3; });  // polled after step 4 (the progress call comes later)
  const auto r1 = t1.fit(part, source(), evaluate, /*evaluate_initial=*/true);
  BOOST_TEST(r1.interrupted);
  BOOST_TEST(r1.steps == 4);
  BOOST_TEST(nlohmann::json::parse(read(stopped_dir / "last" / "trainer_state.json"))["step"].get<int>() == 4);
  // What a process killed later would have appended past step 4, torn line included.
  { std::ofstream(stopped_dir / "metrics.jsonl", std::ios::app) << "{\"step\": 5, \"loss\": 1}\n{\"step\": 6, \"lo"; }

  auto resumed = tiny_simcse(0.1);
  const auto r2 = vikcse::Trainer(options(stopped_dir).resume_from(stopped_dir / "last"))
                      .fit(resumed, source(), evaluate, /*evaluate_initial=*/true);
  BOOST_TEST(!r2.interrupted);
  BOOST_TEST(r2.steps == 6);
  auto params = resumed->named_parameters();
  for (const auto& item : straight->named_parameters()) {
    BOOST_TEST(torch::equal(item.value(), params[item.key()]), item.key());
  }
  BOOST_TEST(read(stopped_dir / "metrics.jsonl") == read(straight_dir / "metrics.jsonl"));
  // A new run in the same directory starts its own metrics.
  auto again = tiny_simcse(0.1);
  vikcse::Trainer(options(stopped_dir)).fit(again, source(), evaluate, /*evaluate_initial=*/true);
  BOOST_TEST(read(stopped_dir / "metrics.jsonl") == read(straight_dir / "metrics.jsonl"));
  fs::remove_all(straight_dir.parent_path());
}

// A failure while a checkpoint is written (here: the phase hook throws after the model file)
// leaves the previous last/ as it was and nothing half written beside it.
BOOST_AUTO_TEST_CASE(a_failed_checkpoint_write_keeps_the_previous_one) {
  const auto dir = temp_dir("failed-write");
  auto model = tiny_simcse(0.1);
  vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(1e-3).max_steps(4).save_steps(2).output_dir(dir));
  struct DiskFull {};
  trainer.on_phase([](vikcse::TrainPhase phase, std::int64_t step, const fs::path& file) {
    if (phase == vikcse::TrainPhase::checkpoint && step == 4 && file.filename() == "optimizer.pt") throw DiskFull{};
  });
  BOOST_CHECK_THROW(trainer.fit(model, source()), DiskFull);
  std::ifstream state(dir / "last" / "trainer_state.json");
  BOOST_TEST(nlohmann::json::parse(state)["step"].get<int>() == 2);
  for (const auto& entry : fs::directory_iterator(dir)) {
    BOOST_TEST(entry.path().filename().string().find(".partial-") == std::string::npos, entry.path());
  }
  fs::remove_all(dir.parent_path());
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
