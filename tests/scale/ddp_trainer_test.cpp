// SPDX-License-Identifier: Apache-2.0
// Data-parallel training through vikcse::Trainer (TrainerOptions::data_parallel) over 2 Gloo
// processes: this binary re-executes itself as the two ranks (test case `worker`, disabled unless
// named) and compares with the same Trainer in this process on the whole batch.
// * SimCSE and MCSE (gathered image features; the loss policy's heads averaged, the rest summed)
//   end where one process training on the doubled batch ends, within a bound derived below;
// * a stop requested on one rank only stops both at the same step, and resuming with 2 ranks
//   equals the uninterrupted 2-rank run; resuming with 1 rank is refused, naming both counts;
// * when one rank is killed, the other ends within the group's timeout with an error naming its
//   rank and step, and never hangs.
// The models run in float64 so that the comparison bound is tight: see `kBound`.

#define BOOST_TEST_MODULE scale_ddp_trainer_test
#include <boost/test/unit_test.hpp>

#include <support/spawn_self.hpp>
#include <support/tiny_model.hpp>
#include <vikcse/distributed/data_parallel.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/trainer.hpp>

#include <torch/torch.h>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Tensors = std::vector<torch::Tensor>;
using DataParallelPtr = std::shared_ptr<const vikcse::DataParallel>;

constexpr int kWorld = 2;
constexpr std::int64_t kBatch = 8;  // the global batch: 4 rows per rank
constexpr double kLearningRate = 1e-3;

// Why 1e-8. Both sides do the same float64 arithmetic except the order of the sums over rows
// (each rank's backward sums its 4 rows, the all-reduce adds the two; one process sums 8), so each
// gradient entry differs by at most ~K eps64 |g|_1-scale with K = 64 (the widest reduction) and
// eps64 = 1.1e-16: below 1e-14 here, where every per-row gradient term is below 1 in magnitude.
// AdamW turns a gradient difference δ into an update difference of at most lr · δ / ε_adam
// (the derivative of g / (sqrt(g²) + ε) is at most 1/ε, ε = 1e-8): 1e-3 · 1e-14 / 1e-8 = 1e-9 per
// step, 4e-9 after 4 steps; 1e-8 leaves a factor 2.5. The parameters move by ~4e-3 (lr per step),
// so a wrong reduction or a lost negative lands 5 orders of magnitude above the bound.
constexpr double kBound = 1e-8;

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> sentences{
      "a man plays guitar", "the cat sleeps",    "dogs run fast",     "a woman sings",
      "birds fly south",    "the sun is hot",    "rain falls today",  "kids play outside",
      "a chef cooks rice",  "the train is late", "snow covers hills", "an old man reads",
      "fish swim deep",     "the moon is full",  "wind moves trees",  "a girl paints walls"};
  return sentences;
}

std::shared_ptr<vikcse::Collator> collator() {
  static const auto tokenize = vikcse::testing::toy_tokenizer({.first_id = 5, .buckets = 90});
  return std::make_shared<vikcse::Collator>(
      tokenize, vikcse::CollatorOptions{.specials = vikcse::testing::toy_special_tokens(), .first = {}, .second = {}});
}

vikcse::BertConfig tiny_config() {
  return vikcse::testing::tiny_bert_config({.vocab_size = 100,
                                            .hidden_size = 16,
                                            .num_hidden_layers = 1,
                                            .num_attention_heads = 2,
                                            .intermediate_size = 32,
                                            .max_position_embeddings = 64,
                                            .dropout = 0.0,
                                            .initializer_range = 0.2});
}

vikcse::SimCSE simcse() {
  torch::manual_seed(11);
  vikcse::SimCSE model(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());
  model->to(torch::kDouble);
  return model;
}

vikcse::MCSE mcse() {
  torch::manual_seed(12);
  vikcse::MCSE model(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::PairedImageFeatures(6),
                     vikcse::MultimodalInfoNCELoss(vikcse::MultimodalInfoNCELossOptions(16, 6).proj_dim(4)));
  model->to(torch::kDouble);
  return model;
}

/// Two batches of 8 a epoch; with `images`, each row carries a float64 image-feature row.
vikcse::BatchSource source(bool images) {
  auto c = collator();
  vikcse::BatchSource s;
  s.steps_per_epoch = 2;
  s.batch = [c, images](std::int64_t /*epoch*/, std::int64_t index) {
    const auto first = corpus().begin() + index * kBatch;
    auto batch = c->unsupervised(std::vector<std::string>(first, first + kBatch));
    if (images) {
      batch.image_features = torch::cos(
          torch::arange(index * kBatch * 6, (index + 1) * kBatch * 6, torch::kDouble).view({kBatch, 6}) * 0.37);
    }
    return batch;
  };
  return s;
}

struct Run {
  vikcse::TrainResult result;
  std::vector<double> losses;  // the lead rank's (or the only process's) step losses
};

template <typename Holder>
Run train(Holder& model, const vikcse::BatchSource& batches, const DataParallelPtr& dp, std::int64_t steps,
          const fs::path& out = {}, const fs::path& resume = {}, std::function<bool()> stop = {}) {
  vikcse::Trainer trainer(vikcse::TrainerOptions()
                              .learning_rate(kLearningRate)
                              .max_steps(steps)
                              .eval_steps(0)
                              .data_parallel(dp)
                              .output_dir(out)
                              .resume_from(resume));
  Run run;
  trainer.on_record([&](const nlohmann::json& r) {
    if (r.contains("loss")) run.losses.push_back(r["loss"].get<double>());
  });
  trainer.stop_when(stop ? std::move(stop) : [] { return false; });
  run.result = trainer.fit(model, batches);
  return run;
}

template <typename Holder>
Tensors parameters(Holder& model) {
  Tensors out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
  return out;
}

double max_abs_diff(const Tensors& x, const Tensors& y) {
  BOOST_REQUIRE(x.size() == y.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, (x[i] - y[i]).abs().max().item<double>());
  return worst;
}

void save(const Tensors& tensors, const fs::path& path) { torch::save(tensors, path.string()); }
Tensors load(const fs::path& path) {
  Tensors t;
  torch::load(t, path.string());
  return t;
}

/// Starts both ranks in `mode`; returns their pids.
std::vector<pid_t> spawn_ranks(const std::string& mode, const fs::path& dir) {
  std::vector<std::vector<std::string>> arguments;
  for (int rank = 0; rank < kWorld; ++rank) {
    arguments.push_back({"--run_test=worker", "--log_level=message", "--", "--rank", std::to_string(rank), "--dir",
                         dir.string(), "--mode", mode});
  }
  return vikcse::testing::spawn_self(arguments);
}

struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/vikcse-ddp-trainer-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

// One rank (`--run_test=worker -- --rank R --dir D --mode train|kill`).
BOOST_AUTO_TEST_CASE(worker, *boost::unit_test::disabled()) {
  at::set_num_threads(1);
  const int rank = std::stoi(vikcse::testing::worker_argument("--rank"));
  const fs::path dir = vikcse::testing::worker_argument("--dir");
  const auto mode = vikcse::testing::worker_argument("--mode");
  const auto r = std::to_string(rank);
  const auto timeout = mode == "kill" ? std::chrono::seconds(10) : std::chrono::seconds(120);
  const DataParallelPtr dp = std::make_shared<vikcse::ProcessGroupDataParallel>(
      vikcse::make_process_group({.rank = rank,
                                  .world_size = kWorld,
                                  .file_store = (dir / ("store-" + mode)).string(),
                                  .gloo_hostname = "127.0.0.1",
                                  .timeout = timeout}));
  if (mode == "kill") {
    auto model = simcse();
    vikcse::Trainer trainer(vikcse::TrainerOptions().learning_rate(kLearningRate).max_steps(50).data_parallel(dp));
    trainer.on_phase([rank](vikcse::TrainPhase phase, std::int64_t step, const fs::path&) {
      if (rank == 1 && phase == vikcse::TrainPhase::step && step == 3) ::raise(SIGKILL);
    });
    try {
      trainer.fit(model, source(false));
    } catch (const vikcse::error& e) {
      std::ofstream(dir / ("error" + r + ".txt")) << e.what();
      std::exit(3);
    }
    std::exit(0);  // not reached on rank 0 when rank 1 died
  }
  // SimCSE, 4 steps straight.
  auto straight = simcse();
  const auto run = train(straight, source(false), dp, 4, dir / "straight");
  save(parameters(straight), dir / ("simcse" + r + ".pt"));
  if (rank == 0) save({torch::tensor(run.losses, torch::kDouble)}, dir / "simcse_losses.pt");
  // MCSE, 3 steps: image features gathered, the loss policy's heads averaged.
  auto multimodal = mcse();
  const auto mrun = train(multimodal, source(true), dp, 3);
  save(parameters(multimodal), dir / ("mcse" + r + ".pt"));
  if (rank == 0) save({torch::tensor(mrun.losses, torch::kDouble)}, dir / "mcse_losses.pt");
  // Stopped after step 2 by rank 1 alone, then resumed by both ranks up to step 4.
  auto interrupted = simcse();
  std::int64_t steps_seen = 0;
  const auto stopped = train(interrupted, source(false), dp, 4, dir / "interrupted", {}, [&] {
    ++steps_seen;
    return rank == 1 && steps_seen == 2;
  });
  std::ofstream(dir / ("stopped" + r + ".txt")) << stopped.result.interrupted << ' ' << stopped.result.steps;
  auto resumed = simcse();
  train(resumed, source(false), dp, 4, dir / "interrupted", dir / "interrupted" / "last");
  save(parameters(resumed), dir / ("resumed" + r + ".pt"));
}

BOOST_AUTO_TEST_CASE(two_ranks_through_the_trainer_equal_one_process_on_the_whole_batch) {
  at::set_num_threads(1);
  TempDir dir;
  const auto pids = spawn_ranks("train", dir.path);
  // Meanwhile, one process on the whole batch from the same initial weights.
  auto single = simcse();
  const auto initial = parameters(single);
  const auto single_run = train(single, source(false), nullptr, 4);
  const auto single_params = parameters(single);
  auto single_mcse = mcse();
  const auto single_mcse_run = train(single_mcse, source(true), nullptr, 3);
  const auto single_mcse_params = parameters(single_mcse);

  const auto [status, seconds] = vikcse::testing::wait_all(pids, std::chrono::seconds(300));
  for (int rank = 0; rank < kWorld; ++rank) BOOST_TEST_REQUIRE(status[rank] == 0, "rank " << rank << " status");

  const auto moved = max_abs_diff(single_params, initial);
  BOOST_TEST_MESSAGE("training moved the parameters by up to " << moved);
  BOOST_TEST(moved > 1e-3);
  const auto losses = load(dir.path / "simcse_losses.pt").front();
  BOOST_TEST(torch::allclose(losses, torch::tensor(single_run.losses, torch::kDouble), 0.0, kBound));
  const auto mcse_losses = load(dir.path / "mcse_losses.pt").front();
  BOOST_TEST(torch::allclose(mcse_losses, torch::tensor(single_mcse_run.losses, torch::kDouble), 0.0, kBound));
  for (int rank = 0; rank < kWorld; ++rank) {
    const auto r = std::to_string(rank);
    const auto d = max_abs_diff(load(dir.path / ("simcse" + r + ".pt")), single_params);
    BOOST_TEST_MESSAGE("rank " << rank << ": SimCSE max |2 ranks - 1 process| = " << d);
    BOOST_TEST(d < kBound);
    const auto m = max_abs_diff(load(dir.path / ("mcse" + r + ".pt")), single_mcse_params);
    BOOST_TEST_MESSAGE("rank " << rank << ": MCSE max |2 ranks - 1 process| = " << m);
    BOOST_TEST(m < kBound);
    // Rank 1's stop request stopped both ranks after step 2; the resumed run equals the straight one.
    std::ifstream stopped(dir.path / ("stopped" + r + ".txt"));
    int interrupted = 0;
    int steps = 0;
    stopped >> interrupted >> steps;
    BOOST_TEST(interrupted == 1);
    BOOST_TEST(steps == 2);
    const auto resumed =
        max_abs_diff(load(dir.path / ("resumed" + r + ".pt")), load(dir.path / ("simcse" + r + ".pt")));
    BOOST_TEST_MESSAGE("rank " << rank << ": max |resumed - straight| = " << resumed);
    BOOST_TEST(resumed < kBound);
  }
  // Only rank 0 wrote: one metrics line per step, one checkpoint.
  std::ifstream metrics(dir.path / "straight" / "metrics.jsonl");
  BOOST_TEST(std::count(std::istreambuf_iterator<char>(metrics), std::istreambuf_iterator<char>(), '\n') == 4);
  // Resuming the 2-rank checkpoint in one process is refused, naming both counts.
  auto one = simcse();
  try {
    train(one, source(false), nullptr, 4, {}, dir.path / "straight" / "last");
    BOOST_ERROR("resuming a 2-rank checkpoint with 1 rank did not fail");
  } catch (const vikcse::checkpoint_error& e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("written by a run of 2 rank(s), this run has 1") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(a_killed_rank_ends_the_other_with_a_clear_error) {
  at::set_num_threads(1);
  TempDir dir;
  const auto pids = spawn_ranks("kill", dir.path);
  const auto [status, seconds] = vikcse::testing::wait_all(pids, std::chrono::seconds(120));
  BOOST_TEST(status[1] == 128 + SIGKILL);
  BOOST_TEST(status[0] == 3, "rank 0 must end with the Trainer's error (status 3), got " << status[0]);
  // It waited at most the group's timeout (10 s) after rank 1 died, plus start-up.
  BOOST_TEST(seconds[0] < 60.0, "rank 0 took " << seconds[0] << " s");
  std::ifstream in(dir.path / "error0.txt");
  const std::string what((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST_MESSAGE("rank 0 ended after " << seconds[0] << " s with: " << what);
  BOOST_TEST(what.find("data-parallel training, rank 0 of 2, step ") != std::string::npos, what);
  BOOST_TEST(what.find("another rank has most likely exited or hung") != std::string::npos, what);
}
