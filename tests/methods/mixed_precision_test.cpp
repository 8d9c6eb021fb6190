// SPDX-License-Identifier: Apache-2.0
// bf16 mixed precision (TrainerOptions::bf16, vikcse_reproduce --bf16) on the CPU, which every
// x86-64 machine runs (AVX512-BF16 only makes it faster):
// * detail::AutocastGuard switches autocast on and off and restores it, and leaving the outermost
//   region drops the cached bf16 weight copies (as Python's torch.autocast does);
// * the InfoNCE losses compute in float32 under autocast: bit-identical to the float32 computation
//   on the same (bf16) inputs, where the same formula left to autocast is not;
// * a bf16 Trainer step runs the encoder in bf16, its loss and terms are float32, and weights,
//   gradients and AdamW's state stay float32; bf16 training lowers the loss as float32 training does.

#define BOOST_TEST_MODULE methods_mixed_precision_test
#include <boost/test/unit_test.hpp>

#include <support/tiny_model.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/train/collator.hpp>
#include <vikcse/train/trainer.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <numeric>
#include <vector>

namespace {

namespace fs = std::filesystem;
using vikcse::detail::AutocastGuard;

vikcse::SimCSE tiny_simcse() {
  const auto c = vikcse::testing::tiny_bert_config({.vocab_size = 100,
                                                    .hidden_size = 16,
                                                    .num_hidden_layers = 1,
                                                    .num_attention_heads = 2,
                                                    .intermediate_size = 32,
                                                    .max_position_embeddings = 64,
                                                    .dropout = 0.0});
  torch::manual_seed(7);
  return vikcse::SimCSE(vikcse::BertModel(c), vikcse::ClsPooler(16), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
}

vikcse::BatchSource source() {
  static const auto tokenize = vikcse::testing::toy_tokenizer({.first_id = 5, .buckets = 90});
  auto corpus = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"a man plays guitar", "the cat sleeps", "dogs run fast", "a woman sings",
                               "birds fly south", "the sun is hot", "rain falls today", "kids play outside"});
  auto collator = std::make_shared<vikcse::Collator>(
      tokenize, vikcse::CollatorOptions{.specials = {1, 2, 0, 3}, .first = {}, .second = {}});
  return vikcse::shuffled_batches<std::string>(
      corpus, 4, 42, [collator](const std::vector<std::string>& s) { return collator->unsupervised(s); });
}

/// Losses of `steps` Trainer steps at learning rate 1e-3.
std::vector<double> train(vikcse::SimCSE& model, bool bf16, std::int64_t steps, const fs::path& out = {}) {
  vikcse::Trainer trainer(
      vikcse::TrainerOptions().learning_rate(1e-3).max_steps(steps).eval_steps(0).bf16(bf16).output_dir(out));
  std::vector<double> losses;
  trainer.on_progress([&](const vikcse::TrainProgress& p) { losses.push_back(p.loss); });
  trainer.fit(model, source());
  return losses;
}

}  // namespace

BOOST_AUTO_TEST_CASE(autocast_guard_switches_nests_and_restores) {
  const auto a = torch::randn({4, 8});
  const auto b = torch::randn({8, 3});
  BOOST_TEST(!AutocastGuard::is_enabled(torch::kCPU));
  BOOST_TEST((torch::mm(a, b).scalar_type() == torch::kFloat));
  {
    const AutocastGuard on(torch::kCPU, true, torch::kBFloat16);
    BOOST_TEST(AutocastGuard::is_enabled(torch::kCPU));
    BOOST_TEST((torch::mm(a, b).scalar_type() == torch::kBFloat16));
    {
      const AutocastGuard off(torch::kCPU, false);
      BOOST_TEST(!AutocastGuard::is_enabled(torch::kCPU));
      BOOST_TEST((torch::mm(a, b).scalar_type() == torch::kFloat));
    }
    BOOST_TEST((torch::mm(a, b).scalar_type() == torch::kBFloat16));
  }
  BOOST_TEST(!AutocastGuard::is_enabled(torch::kCPU));
  BOOST_TEST((torch::mm(a, b).scalar_type() == torch::kFloat));
  // Switching off a device type autocast does not know is a no-op; switching it on is an error.
  BOOST_CHECK_NO_THROW(AutocastGuard(torch::kMeta, false));
  BOOST_CHECK_THROW(AutocastGuard(torch::kMeta, true), vikcse::invalid_argument);
}

// A leaf weight that requires grad is cast once per autocast region and cached; an optimizer step
// between two regions must be seen by the second.
BOOST_AUTO_TEST_CASE(a_new_region_sees_updated_weights) {
  torch::manual_seed(1);
  auto weight = torch::randn({6, 8}).requires_grad_(true);
  const auto x = torch::randn({5, 8});
  torch::Tensor before;
  {
    const AutocastGuard on(torch::kCPU, true);
    before = torch::nn::functional::linear(x, weight).detach();
  }
  {
    torch::NoGradGuard no_grad;
    weight.mul_(-1.0);
  }
  const AutocastGuard on(torch::kCPU, true);
  const auto after = torch::nn::functional::linear(x, weight).detach();
  BOOST_TEST((after.scalar_type() == torch::kBFloat16));
  // Negating a weight negates a bf16 product exactly (the sign bit is all that changes).
  BOOST_TEST(torch::equal(after, -before));
}

BOOST_AUTO_TEST_CASE(info_nce_computes_in_float32_under_autocast) {
  torch::manual_seed(3);
  const auto a16 = torch::randn({8, 16}).to(torch::kBFloat16);
  const auto b16 = torch::randn({8, 16}).to(torch::kBFloat16);
  const auto extra16 = torch::randn({5, 16}).to(torch::kBFloat16);
  const vikcse::InfoNCEOptions options{0.05};
  const auto exact =
      vikcse::info_nce(a16.to(torch::kFloat), b16.to(torch::kFloat), options, {}, extra16.to(torch::kFloat));
  const auto exact_symmetric = vikcse::symmetric_info_nce(a16.to(torch::kFloat), b16.to(torch::kFloat), 0.05);
  const AutocastGuard on(torch::kCPU, true);
  const auto loss = vikcse::info_nce(a16, b16, options, {}, extra16);
  BOOST_TEST((loss.scalar_type() == torch::kFloat));
  BOOST_TEST(torch::equal(loss, exact));
  const auto symmetric = vikcse::symmetric_info_nce(a16, b16, 0.05);
  BOOST_TEST((symmetric.scalar_type() == torch::kFloat));
  BOOST_TEST(torch::equal(symmetric, exact_symmetric));
  BOOST_TEST(AutocastGuard::is_enabled(torch::kCPU));  // the loss restored the caller's autocast
  // The same formula left to autocast runs its product in bf16 and lands elsewhere: the check
  // above would fail if the loss did not switch autocast off.
  const auto unit = [](const torch::Tensor& t) {
    const auto f = t.to(torch::kFloat);
    return f / f.norm(2, -1, true);
  };
  const auto logits = torch::mm(unit(a16), unit(torch::cat({b16, extra16})).t()) / 0.05;
  BOOST_TEST((logits.scalar_type() == torch::kBFloat16));
  const auto naive = torch::nn::functional::cross_entropy(logits.to(torch::kFloat), torch::arange(8));
  BOOST_TEST(!torch::equal(naive, exact));
}

BOOST_AUTO_TEST_CASE(a_bf16_step_runs_the_encoder_in_bf16_and_the_loss_in_float32) {
  auto model = tiny_simcse();
  const auto batch = source().batch(0, 0);
  const AutocastGuard on(torch::kCPU, true);
  const auto views = model->views(batch);
  BOOST_TEST((views.first.z.scalar_type() == torch::kBFloat16));
  const auto out = model->forward(batch);
  BOOST_TEST((out.total.scalar_type() == torch::kFloat));
  for (const auto& [name, term] : out.terms) BOOST_TEST((term.scalar_type() == torch::kFloat), name);
}

BOOST_AUTO_TEST_CASE(bf16_training_keeps_float32_state_and_lowers_the_loss) {
  const auto dir = fs::temp_directory_path() / ("vikcse_mixed_precision_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto fp32_model = tiny_simcse();
  auto bf16_model = tiny_simcse();
  const auto fp32 = train(fp32_model, false, 40);
  const auto bf16 = train(bf16_model, true, 40, dir);
  BOOST_REQUIRE(bf16.size() == 40U);
  // Autocast changed the arithmetic of the very first step (same weights, same batch, no dropout).
  BOOST_TEST(bf16[0] != fp32[0]);
  // Master weights and gradients are float32.
  for (const auto& p : bf16_model->parameters()) {
    BOOST_TEST((p.scalar_type() == torch::kFloat));
    if (p.grad().defined()) BOOST_TEST((p.grad().scalar_type() == torch::kFloat));
  }
  // So is the optimizer state the Trainer saved.
  auto optimizer = vikcse::make_adamw(*bf16_model, {1e-3, 0.0});
  torch::load(*optimizer, (dir / "last" / "optimizer.pt").string());
  BOOST_TEST(!optimizer->state().empty());
  for (const auto& [key, state] : optimizer->state()) {
    const auto& adam = static_cast<const torch::optim::AdamWParamState&>(*state);
    BOOST_TEST((adam.exp_avg().scalar_type() == torch::kFloat));
    BOOST_TEST((adam.exp_avg_sq().scalar_type() == torch::kFloat));
  }
  // Both precisions lower the loss: the mean of the last 10 steps against the first 10.
  const auto mean = [](auto first, auto last) { return std::accumulate(first, last, 0.0) / 10.0; };
  BOOST_TEST(mean(fp32.end() - 10, fp32.end()) < mean(fp32.begin(), fp32.begin() + 10));
  BOOST_TEST(mean(bf16.end() - 10, bf16.end()) < mean(bf16.begin(), bf16.begin() + 10));
  fs::remove_all(dir);
}
