// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE scale_ddp_gloo_test
#include <boost/test/unit_test.hpp>

#include <support/spawn_self.hpp>
#include <support/tiny_model.hpp>
#include <vikcse/distributed/all_gather.hpp>
#include <vikcse/distributed/process_group.hpp>
#include <vikcse/encoder/bert.hpp>
#include <vikcse/loss/info_nce.hpp>

#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

// Data-parallel SimCSE-style training over 2 processes (this binary re-executes itself as the
// workers, test case `ddp_worker`, disabled unless named) must give the same parameters as one
// process training on the concatenated batch: all-gathered negatives + SUM of gradients. Also:
// the process-group options read from torchrun's variables.

namespace {

constexpr int kWorld = 2;
constexpr int kSteps = 3;
constexpr std::int64_t kGlobalBatch = 8;
constexpr std::int64_t kLength = 7;
constexpr double kLearningRate = 0.1;
constexpr double kMomentum = 0.9;

/// A tiny SimCSE encoder: BERT (2 layers, hidden 32, no dropout), CLS, MLP (Linear + tanh).
struct TinySimCSEImpl : torch::nn::Module {
  TinySimCSEImpl() {
    const auto config = vikcse::testing::tiny_bert_config({
        .vocab_size = 50,
        .hidden_size = 32,
        .num_hidden_layers = 2,
        .num_attention_heads = 4,
        .intermediate_size = 64,
        .max_position_embeddings = 16,
        .dropout = 0.0,
        .initializer_range = 0.2,  // larger than BERT's 0.02 so that 3 steps move things visibly
    });
    bert = register_module("bert", vikcse::BertModel(config, vikcse::BertModelOptions{.add_pooling_layer = false}));
    mlp = register_module("mlp", torch::nn::Linear(32, 32));
  }
  torch::Tensor forward(const vikcse::TokenBatch& batch) {
    const auto cls = bert->forward(batch).last_hidden_state.select(1, 0);
    return torch::tanh(mlp->forward(cls));
  }
  vikcse::BertModel bert{nullptr};
  torch::nn::Linear mlp{nullptr};
};
TORCH_MODULE(TinySimCSE);

/// The same initial model in every process.
TinySimCSE make_model() {
  torch::manual_seed(1234);
  TinySimCSE model;
  model->bert->init_weights();
  model->train();
  return model;
}

/// Step `step`'s global batch, two views (different sentences as positives), rows `[begin, end)`.
struct Views {
  vikcse::TokenBatch a;
  vikcse::TokenBatch b;
};

vikcse::TokenBatch random_batch(std::int64_t rows) {
  auto ids = torch::randint(1, 50, {rows, kLength}, torch::kLong);
  const auto lengths = torch::randint(3, kLength + 1, {rows, 1}, torch::kLong);
  const auto mask = (torch::arange(kLength).unsqueeze(0) < lengths).to(torch::kLong);
  return {ids * mask, mask, {}, {}};
}

Views global_views(int step, std::int64_t begin, std::int64_t end) {
  torch::manual_seed(100 + step);
  auto a = random_batch(kGlobalBatch);
  auto b = random_batch(kGlobalBatch);
  auto rows = [&](const vikcse::TokenBatch& t) {
    return vikcse::TokenBatch{t.input_ids.slice(0, begin, end), t.attention_mask.slice(0, begin, end), {}, {}};
  };
  return {rows(a), rows(b)};
}

/// Trains `kSteps` steps; `group == nullptr`: one process on the whole batch. Returns the parameters
/// (named order) followed by a tensor of the step losses.
std::vector<torch::Tensor> train(const vikcse::ProcessGroup* group, vikcse::GradientReduction reduction,
                                 double learning_rate) {
  auto model = make_model();
  if (group != nullptr) vikcse::broadcast_parameters(model->parameters(), *group);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(learning_rate).momentum(kMomentum));
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step) {
    const auto shard = group == nullptr ? kGlobalBatch : kGlobalBatch / group->world_size();
    const auto begin = group == nullptr ? 0 : shard * group->rank();
    const auto views = global_views(step, begin, begin + shard);
    optimizer.zero_grad();
    auto z1 = model->forward(views.a);
    auto z2 = model->forward(views.b);
    if (group != nullptr) {
      z1 = vikcse::all_gather_with_local_grad(*group, z1);
      z2 = vikcse::all_gather_with_local_grad(*group, z2);
    }
    const auto loss = vikcse::info_nce(z1, z2);
    loss.backward();
    if (group != nullptr) vikcse::all_reduce_gradients(model->parameters(), *group, reduction);
    optimizer.step();
    losses.push_back(loss.item<double>());
  }
  std::vector<torch::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
  out.push_back(torch::tensor(losses, torch::kDouble));
  return out;
}

double max_abs_diff(const std::vector<torch::Tensor>& x, const std::vector<torch::Tensor>& y, std::size_t count) {
  double worst = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    worst = std::max(worst, (x[i].to(torch::kDouble) - y[i].to(torch::kDouble)).abs().max().item<double>());
  }
  return worst;
}

}  // namespace

// The worker: only runs when named (`--run_test=ddp_worker -- --rank R --dir D`).
BOOST_AUTO_TEST_CASE(ddp_worker, *boost::unit_test::disabled()) {
  at::set_num_threads(1);
  const auto rank_text = vikcse::testing::worker_argument("--rank");
  const auto dir = vikcse::testing::worker_argument("--dir");
  BOOST_REQUIRE(!rank_text.empty() && !dir.empty());
  const int rank = std::stoi(rank_text);
  const auto group = vikcse::make_process_group({.rank = rank,
                                                 .world_size = kWorld,
                                                 .file_store = dir + "/store",
                                                 .gloo_hostname = "127.0.0.1",
                                                 .timeout = std::chrono::seconds(120)});
  BOOST_TEST(group.rank() == rank);
  BOOST_TEST(group.world_size() == kWorld);

  // all_gather_with_local_grad on unequal shards: rank 0 has 3 rows, rank 1 has 2.
  const std::int64_t rows = rank == 0 ? 3 : 2;
  const auto local = (torch::arange(rows * 4, torch::kFloat).view({rows, 4}) + 100.0 * rank).requires_grad_();
  const auto gathered = vikcse::all_gather_with_local_grad(group, local);
  const auto expected =
      torch::cat({torch::arange(12, torch::kFloat).view({3, 4}), torch::arange(8, torch::kFloat).view({2, 4}) + 100.0});
  BOOST_TEST(gathered.equal(expected));
  const auto weights = torch::arange(20, torch::kFloat).view({5, 4});
  (gathered * weights).sum().backward();
  BOOST_TEST(local.grad().equal(weights.narrow(0, rank == 0 ? 0 : 3, rows)));  // only the local rows

  // Mismatched trailing sizes are reported, on both ranks.
  const auto odd = torch::zeros({2, rank == 0 ? 4 : 5});
  bool threw = false;
  try {
    (void)vikcse::all_gather_with_local_grad(group, odd);
  } catch (const vikcse::invalid_argument& e) {
    threw = std::string(e.what()).find("all but dim 0 must match") != std::string::npos;
  }
  BOOST_TEST(threw);

  // Training with SUM (exact) and MEAN (DDP's averaging) reductions.
  torch::save(train(&group, vikcse::GradientReduction::sum, kLearningRate), dir + "/sum" + rank_text + ".pt");
  torch::save(train(&group, vikcse::GradientReduction::mean, kLearningRate), dir + "/mean" + rank_text + ".pt");
  group.barrier();
}

BOOST_AUTO_TEST_CASE(two_process_training_equals_single_process_training) {
  at::set_num_threads(1);
  char pattern[] = "/tmp/vikcse-ddp-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  struct RemoveDir {  // also on a failed requirement
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } cleanup{dir};

  std::vector<std::vector<std::string>> arguments;
  for (int rank = 0; rank < kWorld; ++rank) {
    arguments.push_back(
        {"--run_test=ddp_worker", "--log_level=message", "--", "--rank", std::to_string(rank), "--dir", dir});
  }
  const auto pids = vikcse::testing::spawn_self(arguments);

  // The single-process reference, computed meanwhile: the whole batch, same initial weights.
  const auto reference = train(nullptr, vikcse::GradientReduction::sum, kLearningRate);
  const auto reference_half_lr = train(nullptr, vikcse::GradientReduction::sum, kLearningRate / 2);

  const auto status = vikcse::testing::wait_all(pids, std::chrono::seconds(300)).status;
  for (std::size_t i = 0; i < pids.size(); ++i) BOOST_TEST_REQUIRE(status[i] == 0, "worker " << i << " status");

  const auto count = reference.size() - 1;  // parameters; the last tensor holds the losses
  for (int rank = 0; rank < kWorld; ++rank) {
    std::vector<torch::Tensor> sum;
    std::vector<torch::Tensor> mean;
    torch::load(sum, dir + "/sum" + std::to_string(rank) + ".pt");
    torch::load(mean, dir + "/mean" + std::to_string(rank) + ".pt");
    BOOST_TEST_REQUIRE(sum.size() == reference.size());
    BOOST_TEST_REQUIRE(mean.size() == reference.size());
    // The training moved the parameters noticeably, so equality below is not trivial.
    const auto moved = max_abs_diff(reference, make_model()->parameters(), count);
    BOOST_TEST_MESSAGE("rank " << rank << ": training moved the parameters by up to " << moved);
    BOOST_TEST(moved > 1e-2);
    // Same losses at every step (each rank computes the global loss) and same final parameters.
    // Both sides run in this process tree on this machine, so no stored figure is involved; they do
    // the same float32 arithmetic except the order of each gradient's batch reduction (two shard
    // sums all-reduced vs one sum) and of the gathered logits. That is rounding of ~sqrt(K) * eps32
    // of an update (K = 64, the widest dot product; tests/support/float_bounds.hpp), per step:
    // 3 steps * 8 * 1.19e-7 * 0.75 (the largest parameter movement) ~ 2e-6; 1e-5 leaves a factor 5
    // for the momentum's accumulation (measured: 8.6e-7), while a real reduction fault (MEAN for
    // SUM, below) moves the parameters by 0.37.
    BOOST_TEST(torch::allclose(sum.back(), reference.back(), 1e-5, 1e-6));
    const auto diff = max_abs_diff(sum, reference, count);
    BOOST_TEST_MESSAGE("rank " << rank << ": max |DDP(sum) - single| = " << diff);
    BOOST_TEST(diff < 1e-5);
    // Averaging the gradients (plain DDP) is NOT single-process training at this learning rate;
    // it equals it at learning rate / world size (SGD is linear in the gradient).
    const auto mean_diff = max_abs_diff(mean, reference, count);
    BOOST_TEST_MESSAGE("rank " << rank << ": max |DDP(mean) - single| = " << mean_diff);
    BOOST_TEST(mean_diff > 1e-3);
    BOOST_TEST(max_abs_diff(mean, reference_half_lr, count) < 1e-5);
  }
}

// torchrun's variables: read when set, defaults kept when not, malformed values named.
BOOST_AUTO_TEST_CASE(process_group_options_from_torchrun_variables) {
  const auto error_of = [] {
    try {
      (void)vikcse::process_group_options_from_env();
    } catch (const vikcse::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(name);
  auto o = vikcse::process_group_options_from_env({.tcp_port = 1234});
  BOOST_TEST(o.world_size == 1);
  BOOST_TEST(o.rank == 0);
  BOOST_TEST(o.tcp_port == 1234);
  ::setenv("RANK", "1", 1);
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  o = vikcse::process_group_options_from_env();
  BOOST_TEST(o.rank == 1);
  BOOST_TEST(o.world_size == 4);
  BOOST_TEST(o.local_rank == 1);
  BOOST_TEST(o.tcp_host == "10.0.0.7");
  BOOST_TEST(o.tcp_port == 29511);
  ::setenv("RANK", "4", 1);
  BOOST_TEST(error_of() == "environment: RANK 4 must be below WORLD_SIZE 4");
  ::setenv("RANK", "one", 1);
  BOOST_TEST(error_of() == "environment variable RANK: expected an integer in [0, 1048575], got 'one'");
  ::setenv("RANK", "0", 1);
  ::setenv("MASTER_PORT", "70000", 1);
  BOOST_TEST(error_of() == "environment variable MASTER_PORT: expected an integer in [1, 65535], got '70000'");
  ::unsetenv("RANK");
  BOOST_TEST(error_of() == "environment: RANK and WORLD_SIZE must be set together (RANK is unset, WORLD_SIZE is set)");
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(name);
}
