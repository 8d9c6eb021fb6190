// SPDX-License-Identifier: Apache-2.0
// ---------------------------------------------------------------------------------------------------
// Stage 1's CLIP fine-tuning (include/vikcse/knowledge/clip_finetune.hpp) on a tiny random CLIP built
// here and synthetic pairs: image i is the sum of two random templates (attributes a_i, b_i) plus
// noise, and caption i names a_i and b_i with one word each plus a filler word, so image and caption
// share a latent signal the loss can learn. Checked:
//  (a) the loss against transformers' clip_loss run in float64 with python3-torch
//      (reference/clip_loss_reference.py), on given logits and on every validation of a run (the
//      Trainer's size-weighted evaluation loss over batches of 12, 12 and 8 rows, on logits the test
//      computes itself from the model at that step);
//  (b) training and validation losses fall, and the learned logit scale moves;
//  (c) early stopping on a validation set that cannot improve (captions unrelated to images, so the
//      training pairs are only memorised): it stops at the validation the closed rule predicts from the
//      recorded losses, and the returned weights are, bit for bit, those snapshotted at the best step;
//      the same seed gives the same run;
//  (d) the learning rate of every step against the closed form of the cosine schedule with warm-up;
//  (e) bad options and bad batches give errors that say what is wrong.
// ---------------------------------------------------------------------------------------------------
#define BOOST_TEST_MODULE vision_clip_finetune_test
#include <boost/test/unit_test.hpp>

#include <support/expect_error.hpp>
#include <support/python_reference.hpp>
#include <vikcse/knowledge/clip_finetune.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

namespace {

using vikcse::testing::expect_error;

constexpr std::int64_t kImage = 8;  // pixels per side, 2 x 2 patches of 4
constexpr std::int64_t kEos = 1;    // the end-of-text id the text tower pools at

vikcse::ClipModel tiny_clip(std::uint64_t seed) {
  vikcse::ClipConfig c;
  for (vikcse::ClipTowerConfig* t :
       {static_cast<vikcse::ClipTowerConfig*>(&c.text), static_cast<vikcse::ClipTowerConfig*>(&c.vision)}) {
    t->hidden_size = 16;
    t->intermediate_size = 32;
    t->num_hidden_layers = 1;
    t->num_attention_heads = 2;
  }
  c.text.vocab_size = 20;
  c.text.max_position_embeddings = 8;
  c.text.eos_token_id = kEos;
  c.vision.image_size = kImage;
  c.vision.patch_size = 4;
  c.projection_dim = 8;
  torch::manual_seed(seed);
  return vikcse::ClipModel(c);
}

// Row-aligned pairs; `batch(rows)` gathers them.
struct Pairs {
  torch::Tensor pixels;  // [N, 3, 8, 8]
  torch::Tensor ids;     // [N, 5]: 0, 2 + a, 6 + b, filler 10..19, eos
  torch::Tensor mask;    // [N, 5] ones

  vikcse::ClipBatch operator()(const std::vector<std::int64_t>& rows) const {
    const auto idx = torch::tensor(rows, torch::kLong);
    return {pixels.index_select(0, idx), ids.index_select(0, idx), mask.index_select(0, idx)};
  }
};

// n pairs; `related`: the caption names the image's attributes, else the image's attributes are drawn
// independently of the caption (nothing to learn that generalises).
Pairs make_pairs(std::int64_t n, bool related, std::uint64_t seed) {
  auto g = at::detail::createCPUGenerator(seed);
  const auto templates = torch::randn({8, 3, kImage, kImage}, g);  // 0..3: attribute a, 4..7: b
  const auto a = torch::randint(0, 4, {n}, g);
  const auto b = torch::randint(0, 4, {n}, g);
  const auto filler = torch::randint(10, 20, {n}, g);
  const auto ia = related ? a : torch::randint(0, 4, {n}, g);
  const auto ib = related ? b : torch::randint(0, 4, {n}, g);
  Pairs p;
  p.pixels =
      templates.index_select(0, ia) + templates.index_select(0, ib + 4) + 0.3 * torch::randn({n, 3, kImage, kImage}, g);
  p.ids =
      torch::stack({torch::zeros({n}, torch::kLong), a + 2, b + 6, filler, torch::full({n}, kEos, torch::kLong)}, 1);
  p.mask = torch::ones({n, 5}, torch::kLong);
  return p;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

std::map<std::string, torch::Tensor> state_of(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> s;
  for (const auto& item : m.named_parameters()) s[item.key()] = item.value().detach().clone();
  return s;
}

bool same_bits(const std::map<std::string, torch::Tensor>& x, const std::map<std::string, torch::Tensor>& y) {
  if (x.size() != y.size()) return false;
  for (const auto& [k, v] : x) {
    if (!y.contains(k) || !torch::equal(v, y.at(k))) return false;
  }
  return true;
}

nlohmann::json to_json(const torch::Tensor& logits) {
  const auto l = logits.detach().to(torch::kDouble).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t i = 0; i < l.size(0); ++i) {
    const auto* r = l[i].data_ptr<double>();
    rows.push_back(std::vector<double>(r, r + l.size(1)));
  }
  return rows;
}

nlohmann::json python_losses(const nlohmann::json& input, const std::string& name) {
  vikcse::testing::ScratchDir dir("vikcse-clip-finetune");
  return vikcse::testing::run_python_reference("vision", "clip_loss_reference.py", input, dir.path, name);
}

}  // namespace

BOOST_AUTO_TEST_CASE(loss_matches_transformers_clip_loss) {
  torch::manual_seed(3);
  const std::map<std::string, torch::Tensor> cases{
      {"random5", 10.0 * torch::randn({5, 5})},
      {"one_pair", torch::randn({1, 1})},
      {"peaked", torch::eye(4) * 30.0 - 5.0},
      {"double", torch::randn({3, 3}, torch::kDouble) * 4.0},
  };
  nlohmann::json input{{"losses", nlohmann::json::object()}};
  for (const auto& [name, logits] : cases) input["losses"][name] = to_json(logits);
  const auto ref = python_losses(input, "losses");
  for (const auto& [name, logits] : cases) {
    const double got = vikcse::clip_contrastive_loss(logits).item<double>();
    const double want = ref.at("losses").at(name).get<double>();
    const double tol = logits.scalar_type() == torch::kDouble ? 1e-12 : 2e-6 * std::max(1.0, std::abs(want));
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(std::abs(got - want) <= tol, got << " vs " << want); }
  }
  // A single pair has no negative: loss 0.
  BOOST_TEST(ref.at("losses").at("one_pair").get<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(training_lowers_the_losses_and_validation_matches_the_reference) {
  torch::set_num_threads(1);
  auto clip = tiny_clip(1);
  const auto pairs = make_pairs(96, /*related=*/true, 11);
  const auto train = range(0, 64);
  const auto val = range(64, 96);
  vikcse::ClipFinetuner tuner(vikcse::ClipFinetuneOptions()
                                  .learning_rate(3e-3)
                                  .batch_size(16)
                                  .validation_batch_size(12)  // batches of 12, 12 and 8 rows
                                  .max_steps(80)
                                  .warmup_steps(5)
                                  .eval_steps(10)
                                  .patience(100)
                                  .seed(5));
  const double initial = tuner.validation_loss(*clip, pairs, val);
  const double initial_scale = clip->logit_scale.item<double>();
  // At every validation, the logits of each validation batch as the test computes them.
  nlohmann::json eval_batches = nlohmann::json::object();
  std::vector<std::int64_t> callbacks;
  tuner.on_progress([&](const vikcse::ClipFinetuneProgress& p) {
    callbacks.push_back(p.step);
    if (!p.validation_loss) return;
    torch::NoGradGuard no_grad;
    clip->eval();
    nlohmann::json batches = nlohmann::json::array();
    for (std::int64_t begin = 0; begin < 32; begin += 12) {
      const auto b = pairs(range(64 + begin, 64 + std::min<std::int64_t>(32, begin + 12)));
      batches.push_back(to_json(clip->forward(b.input_ids, b.attention_mask, b.pixel_values).logits_per_text));
    }
    clip->train();
    eval_batches[std::to_string(p.step)] = batches;
  });
  const auto report = tuner.fit(*clip, pairs, train, val);

  BOOST_TEST(report.steps == 80);
  BOOST_TEST(report.total_steps == 80);
  BOOST_TEST(!report.stopped_early);
  BOOST_TEST(callbacks == range(1, 81), boost::test_tools::per_element());
  BOOST_TEST(report.validation_steps == std::vector<std::int64_t>({10, 20, 30, 40, 50, 60, 70, 80}),
             boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(report.validation_losses.size(), 8U);
  BOOST_TEST(!clip->is_training());  // left in the mode it had (a new ClipModel is in eval mode)

  // (a) every validation loss equals transformers' clip_loss, size-weighted over the batches.
  const auto ref = python_losses({{"eval_losses", eval_batches}}, "eval");
  for (std::size_t k = 0; k < report.validation_steps.size(); ++k) {
    const auto step = std::to_string(report.validation_steps[k]);
    const double want = ref.at("eval_losses").at(step).get<double>();
    BOOST_TEST_CONTEXT("validation after step " << step) {
      BOOST_TEST(std::abs(report.validation_losses[k] - want) <= 1e-5 * std::max(1.0, want),
                 report.validation_losses[k] << " vs " << want);
    }
  }

  // (b) the losses fall: validation well below the untrained model's, training likewise.
  BOOST_TEST_MESSAGE("validation losses: initial " << initial << ", then " << report.validation_losses.front()
                                                   << " ... " << report.validation_losses.back());
  BOOST_TEST(report.best_validation_loss < 0.6 * initial);
  BOOST_TEST(report.validation_losses.back() < report.validation_losses.front());
  const auto mean = [](auto first, auto last) { return std::accumulate(first, last, 0.0) / double(last - first); };
  const auto& tl = report.training_losses;
  BOOST_TEST(mean(tl.end() - 10, tl.end()) < 0.6 * mean(tl.begin(), tl.begin() + 10));
  // The logit scale is learned (it is a parameter of the loss's logits).
  BOOST_TEST(std::abs(clip->logit_scale.item<double>() - initial_scale) > 1e-3);
  // The model holds the best validation's weights: its validation loss is the best one.
  BOOST_TEST(std::abs(tuner.validation_loss(*clip, pairs, val) - report.best_validation_loss) <= 1e-6);
}

BOOST_AUTO_TEST_CASE(early_stopping_returns_the_best_weights) {
  torch::set_num_threads(1);
  const auto pairs = make_pairs(48, /*related=*/false, 21);
  const auto train = range(0, 16);
  const auto val = range(16, 48);
  const auto options = vikcse::ClipFinetuneOptions()
                           .learning_rate(1e-2)
                           .batch_size(8)
                           .max_steps(400)
                           .warmup_steps(0)
                           .eval_steps(2)
                           .patience(3)
                           .seed(9);
  const auto run = [&](std::map<std::int64_t, std::map<std::string, torch::Tensor>>& snapshots,
                       std::map<std::string, torch::Tensor>& final_state) {
    auto clip = tiny_clip(2);
    clip->train();
    vikcse::ClipFinetuner tuner(options);
    tuner.on_progress([&](const vikcse::ClipFinetuneProgress& p) {
      if (p.validation_loss) snapshots[p.step] = state_of(*clip);
    });
    auto report = tuner.fit(*clip, pairs, train, val);
    BOOST_TEST(clip->is_training());  // the mode it had before
    final_state = state_of(*clip);
    return report;
  };
  std::map<std::int64_t, std::map<std::string, torch::Tensor>> snapshots;
  std::map<std::string, torch::Tensor> weights;
  const auto report = run(snapshots, weights);

  const auto& losses = report.validation_losses;
  BOOST_TEST_MESSAGE("validations: " << losses.size() << ", best at step " << report.best_step);
  BOOST_REQUIRE(report.stopped_early);
  BOOST_REQUIRE(!losses.empty());
  // The closed rule: the first minimum, then `patience` validations that do not beat it.
  const auto best = static_cast<std::size_t>(std::min_element(losses.begin(), losses.end()) - losses.begin());
  BOOST_TEST(losses.size() == best + 1 + 3);
  BOOST_TEST(report.best_step == report.validation_steps[best]);
  BOOST_TEST(report.best_validation_loss == losses[best]);
  BOOST_TEST(report.steps == report.validation_steps.back());
  BOOST_TEST(report.steps == 2 * static_cast<std::int64_t>(losses.size()));
  BOOST_TEST(report.steps < report.total_steps);
  BOOST_TEST(report.training_losses.size() == static_cast<std::size_t>(report.steps));
  // Bit for bit the weights of the best validation, and not those of the last step.
  BOOST_REQUIRE(snapshots.contains(report.best_step));
  BOOST_TEST(same_bits(weights, snapshots.at(report.best_step)));
  BOOST_TEST(!same_bits(weights, snapshots.at(report.steps)));

  // Deterministic given the seed.
  std::map<std::int64_t, std::map<std::string, torch::Tensor>> snapshots2;
  std::map<std::string, torch::Tensor> weights2;
  const auto again = run(snapshots2, weights2);
  BOOST_TEST(again.validation_losses == losses, boost::test_tools::per_element());
  BOOST_TEST(again.training_losses == report.training_losses, boost::test_tools::per_element());
  BOOST_TEST(same_bits(weights2, weights));
}

BOOST_AUTO_TEST_CASE(learning_rate_follows_cosine_with_warmup) {
  torch::set_num_threads(1);
  auto clip = tiny_clip(3);
  const auto pairs = make_pairs(32, true, 31);
  const double peak = 1e-3;
  const std::int64_t total = 80;
  const std::int64_t warmup = 50;
  auto options = vikcse::ClipFinetuneOptions().learning_rate(peak).batch_size(8).max_steps(total);
  vikcse::ClipFinetuner tuner(options.warmup_steps(warmup).eval_steps(0));  // no validation
  std::vector<double> lr;
  tuner.on_progress([&](const vikcse::ClipFinetuneProgress& p) { lr.push_back(p.learning_rate); });
  const auto report = tuner.fit(*clip, pairs, range(0, 32), {});
  BOOST_REQUIRE_EQUAL(lr.size(), static_cast<std::size_t>(total));
  BOOST_TEST(report.best_step == -1);  // never validated: the final weights
  BOOST_TEST(report.validation_losses.empty());
  // Step s (from 0): s / 50 * peak in the warm-up, then peak/2 (1 + cos(pi (s - 50) / 30)).
  const auto closed = [&](std::int64_t s) {
    if (s < warmup) return peak * double(s) / double(warmup);
    return peak * 0.5 * (1.0 + std::cos(std::numbers::pi * double(s - warmup) / double(total - warmup)));
  };
  BOOST_TEST(lr[0] == 0.0);
  BOOST_TEST(std::abs(lr[25] - 0.5 * peak) <= 1e-18);
  BOOST_TEST(std::abs(lr[50] - peak) <= 1e-18);
  BOOST_TEST(std::abs(lr[79] - peak * 0.5 * (1.0 + std::cos(std::numbers::pi * 29.0 / 30.0))) <= 1e-18);
  BOOST_TEST(lr[79] > 0.0);
  for (std::int64_t s = 0; s < total; ++s) {
    BOOST_TEST_CONTEXT("step " << s) { BOOST_TEST(std::abs(lr[s] - closed(s)) <= 1e-15 * peak); }
    BOOST_TEST(vikcse::cosine_lr(peak, s, total, warmup) == lr[s]);
  }
  // Past the end the schedule stays at 0; without warm-up it starts at the peak.
  BOOST_TEST(vikcse::cosine_lr(peak, total, total, warmup) == 0.0);
  BOOST_TEST(vikcse::cosine_lr(peak, 0, total, 0) == peak);
}

BOOST_AUTO_TEST_CASE(defaults_are_the_reference_recipe) {
  const vikcse::ClipFinetuneOptions o;
  BOOST_TEST(o.learning_rate() == 3e-6);
  BOOST_TEST(o.weight_decay() == 1e-6);
  BOOST_TEST(o.batch_size() == 128);
  BOOST_TEST(o.epochs() == 20);
  BOOST_TEST(o.warmup_steps() == 50);
  BOOST_TEST(o.eval_steps() == 50);
  BOOST_TEST(o.patience() == 10);
}

BOOST_AUTO_TEST_CASE(bad_options_and_batches_are_reported) {
  auto clip = tiny_clip(4);
  const auto pairs = make_pairs(16, true, 41);
  const auto train = range(0, 12);
  const auto val = range(12, 16);
  using vikcse::ClipFinetuneOptions;
  using Invalid = vikcse::invalid_argument;
  const auto fit = [&](ClipFinetuneOptions o, const std::vector<std::int64_t>& t, const std::vector<std::int64_t>& v,
                       const vikcse::ClipBatchFunction& batch) {
    vikcse::ClipFinetuner(o.max_steps(2)).fit(*clip, batch, t, v);
  };
  const auto before = state_of(*clip);
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().batch_size(0), train, val, pairs); }, {"batch_size", "0"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().patience(0), train, val, pairs); }, {"patience", "0"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions(), {}, val, pairs); }, {"no training rows"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().eval_steps(1), train, {}, pairs); },
                        {"no validation rows", "eval_steps"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().validation_batch_size(-1), train, val, pairs); },
                        {"validation_batch_size", "-1"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().warmup_steps(-1), train, val, pairs); }, {"warmup_steps"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions().learning_rate(0.0), train, val, pairs); }, {"learning_rate"});
  expect_error<Invalid>([&] { fit(ClipFinetuneOptions(), train, val, {}); }, {"no batch function"});
  expect_error<Invalid>([&] { vikcse::ClipFinetuner(ClipFinetuneOptions().epochs(0)).fit(*clip, pairs, train, val); },
                        {"epochs (0)", "max_steps (-1)"});
  BOOST_TEST(same_bits(state_of(*clip), before));  // nothing trained before the checks

  // A batch function that returns the wrong rows or shapes.
  const auto short_batch = [&](const std::vector<std::int64_t>& rows) {
    auto b = pairs(rows);
    b.pixel_values = b.pixel_values.narrow(0, 0, 1);
    return b;
  };
  expect_error<vikcse::data_error>([&] { fit(ClipFinetuneOptions().batch_size(4), train, val, short_batch); },
                                   {"training batch of 4 rows", "pixel_values [1, 3, 8, 8]", "expected [4, C, 8, 8]"});
  const auto flat_ids = [&](const std::vector<std::int64_t>& rows) {
    auto b = pairs(rows);
    b.input_ids = b.input_ids.flatten();
    return b;
  };
  expect_error<vikcse::data_error>([&] { fit(ClipFinetuneOptions().batch_size(4), train, val, flat_ids); },
                                   {"input_ids [20]", "expected [4, T]"});
  const auto short_mask = [&](const std::vector<std::int64_t>& rows) {
    auto b = pairs(rows);
    b.attention_mask = b.attention_mask.narrow(1, 0, 3);
    return b;
  };
  expect_error<vikcse::data_error>([&] { fit(ClipFinetuneOptions().batch_size(4), train, val, short_mask); },
                                   {"attention_mask [4, 3]", "input_ids [4, 5]"});
  expect_error<Invalid>([&] { vikcse::clip_contrastive_loss(torch::zeros({2, 3})); }, {"square", "[2, 3]"});
  expect_error<Invalid>([&] { vikcse::clip_contrastive_loss(torch::zeros({0, 0})); }, {"N > 0"});
}
