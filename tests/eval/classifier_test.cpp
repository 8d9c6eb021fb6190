// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_classifier
#include <boost/test/unit_test.hpp>

#include <support/python_reference.hpp>

#include <vikcse/eval/transfer.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace {

// Two (or more) well-separated Gaussian blobs in 8 dimensions: class c is centred at 4 * e_c.
std::pair<torch::Tensor, torch::Tensor> blobs(std::int64_t per_class, std::int64_t classes, std::uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto x = torch::empty({per_class * classes, 8}, torch::kFloat).normal_(0.0, 0.5, gen);
  auto y = torch::arange(classes, torch::kLong).repeat_interleave(per_class);
  for (std::int64_t c = 0; c < classes; ++c) x.narrow(0, c * per_class, per_class).select(1, c).add_(4.0);
  return {x, y};
}

torch::Tensor from_json(const nlohmann::json& j) {
  if (!j.at(0).is_array()) return torch::tensor(j.get<std::vector<double>>(), torch::kDouble);
  std::vector<torch::Tensor> rows;
  for (const auto& r : j) rows.push_back(torch::tensor(r.get<std::vector<double>>(), torch::kDouble));
  return torch::stack(rows);
}

nlohmann::json to_json(const torch::Tensor& t) {
  const auto d = t.to(torch::kDouble).contiguous();
  if (d.dim() == 1) return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t i = 0; i < d.size(0); ++i) rows.push_back(to_json(d[i]));
  return rows;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

vikcse::TransferOptions quick() {
  auto o = vikcse::TransferOptions::for_mode(vikcse::TransferMode::fast);
  o.kfold = 3;
  o.classifier.max_epoch(20);
  o.l2_grid = {1e-4, 1e-2};
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(separable_problem_is_learned) {
  const auto [x, y] = blobs(300, 3, 1);
  const auto [tx, ty] = blobs(100, 3, 2);
  for (auto optimizer : {vikcse::ClassifierOptimizer::adam, vikcse::ClassifierOptimizer::rmsprop}) {
    vikcse::LogisticRegression clf(vikcse::ClassifierOptions().num_classes(3).optimizer(optimizer).max_epoch(30));
    const double dev = clf.fit(x, y, tx, ty);
    BOOST_TEST(dev == 1.0);
    BOOST_TEST(clf.score(tx, ty) == 1.0);
    BOOST_TEST(clf.epochs() > 0);
    BOOST_TEST(torch::equal(clf.predict(tx), ty));
  }
}

BOOST_AUTO_TEST_CASE(training_is_deterministic_under_a_seed) {
  // Overlapping classes so that the weights depend on every random choice.
  auto gen = at::detail::createCPUGenerator(5);
  const auto x = torch::empty({200, 8}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto y = (x.select(1, 0) + 0.5 * x.select(1, 1) > 0).to(torch::kLong);
  auto train = [&](std::uint64_t seed) {
    vikcse::LogisticRegression clf(vikcse::ClassifierOptions().seed(seed).max_epoch(8).l2(1e-3));
    clf.fit(x, y, 0.1);
    return clf.parameters();
  };
  torch::manual_seed(123);  // the global generator must not matter
  const auto a = train(1111);
  torch::manual_seed(999);
  const auto b = train(1111);
  const auto c = train(7);
  BOOST_TEST(torch::equal(a.first, b.first));
  BOOST_TEST(torch::equal(a.second, b.second));
  BOOST_TEST(!torch::equal(a.first, c.first));
}

BOOST_AUTO_TEST_CASE(stratified_folds_partition_and_balance) {
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 30; ++i) labels.push_back(i % 3 == 0 ? 1 : 0);  // 10 of class 1, 20 of class 0
  const auto folds = vikcse::stratified_kfold(labels, 5, 1111);
  BOOST_TEST(folds.size() == 5u);
  std::multiset<std::int64_t> seen;
  for (const auto& [train, test] : folds) {
    BOOST_TEST(train.size() + test.size() == 30u);
    BOOST_TEST(test.size() == 6u);
    std::size_t ones = 0;
    for (auto i : test) ones += static_cast<std::size_t>(labels[static_cast<std::size_t>(i)]);
    BOOST_TEST(ones == 2u);  // each fold keeps the 1:2 class ratio
    seen.insert(test.begin(), test.end());
  }
  BOOST_TEST(seen.size() == 30u);
  BOOST_TEST(std::set<std::int64_t>(seen.begin(), seen.end()).size() == 30u);  // each index tested exactly once
  BOOST_TEST(vikcse::stratified_kfold(labels, 5, 1111) == folds);
  BOOST_TEST(!(vikcse::stratified_kfold(labels, 5, 2) == folds));
  BOOST_CHECK_THROW(vikcse::stratified_kfold(labels, 1, 1), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(protocols_on_separable_data) {
  const auto [x, y] = blobs(150, 2, 3);
  const auto inner = vikcse::inner_kfold_evaluate(x, y, 2, quick());
  BOOST_TEST(inner.devacc == 100.0);
  BOOST_TEST(inner.acc == 100.0);
  BOOST_TEST(inner.ndev == 300u);
  const auto [tx, ty] = blobs(50, 2, 4);
  torch::Tensor predictions;
  const auto kfold = vikcse::kfold_evaluate(x, y, tx, ty, 2, quick(), &predictions);
  BOOST_TEST(kfold.acc == 100.0);
  BOOST_TEST(vikcse::binary_f1(predictions, ty) == 100.0);
  const auto split = vikcse::split_evaluate(x, y, tx, ty, tx, ty, 2, quick());
  BOOST_TEST(split.devacc == 100.0);
  BOOST_TEST(split.acc == 100.0);
  // Determinism of a whole protocol run.
  BOOST_TEST(vikcse::inner_kfold_evaluate(x, y, 2, quick()).best_l2 == inner.best_l2);
}

// TransferOptions::seed drives the folds and the classifiers: on labels that are mostly noise, two
// seeds give different cross-validation numbers and one seed reproduces its own.
BOOST_AUTO_TEST_CASE(protocol_seed_changes_folds_and_classifiers) {
  auto gen = at::detail::createCPUGenerator(9);
  const auto x = torch::empty({120, 8}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto noise = torch::empty({120}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto y = (x.select(1, 0) + 2.0 * noise > 0).to(torch::kLong);
  auto run = [&](std::uint64_t seed) {
    auto o = quick();
    o.seed = seed;
    return vikcse::inner_kfold_evaluate(x, y, 2, o);
  };
  const auto a = run(1111);
  const auto b = run(1111);
  const auto c = run(4242);
  BOOST_TEST(a.devacc == b.devacc);
  BOOST_TEST(a.acc == b.acc);
  BOOST_TEST((a.devacc != c.devacc || a.acc != c.acc));
}

BOOST_AUTO_TEST_CASE(f1_and_bad_inputs) {
  // predictions 1,1,0,0,1 vs truth 1,0,0,1,1: tp 2, fp 1, fn 1 -> F1 = 4/6 = 66.67
  const auto p = torch::tensor({1, 1, 0, 0, 1}, torch::kLong);
  const auto t = torch::tensor({1, 0, 0, 1, 1}, torch::kLong);
  BOOST_TEST(vikcse::binary_f1(p, t) == 66.67);
  vikcse::LogisticRegression clf;
  BOOST_CHECK_THROW(clf.predict(torch::zeros({2, 3})), vikcse::invalid_argument);
  BOOST_CHECK_THROW(clf.fit(torch::zeros({4, 3}), torch::tensor({0, 1, 2, 0}, torch::kLong), 0.5),
                    vikcse::invalid_argument);  // label 2 with 2 classes
  BOOST_CHECK_THROW(clf.fit(torch::zeros({4, 3}), torch::tensor({0, 1}, torch::kLong), 0.5), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::LogisticRegression(vikcse::ClassifierOptions().num_classes(1)), vikcse::invalid_argument);
}

// The classifier against SentEval's own (tests/eval/reference/senteval_classifier.py, run here): the
// same data, initial values and minibatches, a fixed number of passes; trained weights and
// probabilities must agree. SentEval's loss is the batch mean (the reference also reports the
// reduction its loss object really uses); a summed loss trains to clearly different weights.
//
// Bound. Both sides run the same float32 operations on the same inputs and differ only in how
// individual float32 roundings fall (summation order in matrix products). The reference trains the
// same trajectory in float64 too; E = max |w32 - w64| is how far float32 rounding moves this
// trajectory, and each float32 run lies about E from the exact one, so |ours - reference| <= 2E;
// 4E leaves a factor 2 for our roundings being larger, plus 8 float32 ulps of the largest weight
// for the final representation. Probabilities: the softmax Jacobian (diag p - p p^T) has inf-norm
// <= 1/2, so |dp| <= (max_i ||x_i||_1 * bound_w + bound_b) / 2, plus 8 ulps of 1.
BOOST_AUTO_TEST_CASE(training_matches_senteval_reference) {
  auto gen = at::detail::createCPUGenerator(2024);
  const std::int64_t n = 150, dim = 6, classes = 3;
  const auto x = torch::empty({n, dim}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto mix = torch::empty({dim, classes}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto noise = torch::empty({n, classes}, torch::kFloat).normal_(0.0, 1.0, gen);
  const auto y = (x.matmul(mix) + noise).argmax(1);  // overlapping classes: the optimum is finite
  const std::uint64_t seed = 1111;
  struct Config {
    vikcse::ClassifierOptimizer optimizer;
    const char* name;
    std::int64_t batch;
  };
  // 150 rows: batches of 64, 64, 22 (Adam, test mode) and 128, 22 (RMSprop, fast mode); 25 passes.
  const std::vector<Config> configs = {{vikcse::ClassifierOptimizer::adam, "adam", 64},
                                       {vikcse::ClassifierOptimizer::rmsprop, "rmsprop", 128}};
  nlohmann::json input = {{"x", to_json(x)}, {"y", to_json(y)}, {"seed", seed}, {"num_classes", classes}};
  for (const auto& c : configs) {
    input["configs"].push_back({{"optim", c.name},
                                {"l2", 1e-2},
                                {"batch_size", c.batch},
                                {"epoch_size", 25},
                                {"max_epoch", 0},
                                {"tenacity", 5}});
  }
  vikcse::testing::ScratchDir dir("vikcse-classifier-reference");
  const auto ref =
      vikcse::testing::run_python_reference("eval", "senteval_classifier.py", input, dir.path, "classifier");
  BOOST_TEST(ref.at("senteval_loss_reduction").get<std::string>() == "mean");
  {  // The reference's generator gives LibTorch's draws (else the two runs would not start alike).
    auto g = at::detail::createCPUGenerator(seed);
    const double bound = 1.0 / std::sqrt(static_cast<double>(dim));
    const auto w = torch::empty({classes, dim}, torch::kFloat).uniform_(-bound, bound, g);
    const auto b = torch::empty({classes}, torch::kFloat).uniform_(-bound, bound, g);
    const auto perm = torch::randperm(n, g, torch::kLong);
    const auto ref_perm = torch::tensor(ref.at("draws").at("perm").get<std::vector<std::int64_t>>());
    BOOST_REQUIRE_MESSAGE(torch::equal(w.to(torch::kDouble), from_json(ref.at("draws").at("weight"))) &&
                              torch::equal(b.to(torch::kDouble), from_json(ref.at("draws").at("bias"))) &&
                              torch::equal(perm, ref_perm),
                          "python torch " << ref.at("torch") << " draws differently from LibTorch");
  }
  const double eps = std::numeric_limits<float>::epsilon();
  const double x_l1 = x.abs().sum(1).max().item<double>();
  for (std::size_t k = 0; k < configs.size(); ++k) {
    BOOST_TEST_CONTEXT(configs[k].name) {
      const auto& r = ref.at("results").at(k);
      vikcse::LogisticRegression clf(vikcse::ClassifierOptions()
                                         .num_classes(classes)
                                         .l2(1e-2)
                                         .optimizer(configs[k].optimizer)
                                         .batch_size(configs[k].batch)
                                         .epoch_size(25)
                                         .max_epoch(0)
                                         .seed(seed));
      clf.fit(x, y, x, y);
      BOOST_TEST(clf.epochs() == r.at("mean32").at("nepoch").get<std::int64_t>());
      const auto [weight, bias] = clf.parameters();  // weight [D, C]
      const auto w = weight.t().to(torch::kDouble);
      const auto b = bias.to(torch::kDouble);
      const auto proba = torch::softmax(torch::addmm(bias, x, weight), 1).to(torch::kDouble);
      auto variant = [&](const char* v, const char* what) { return from_json(r.at(v).at(what)); };
      const double e = std::max(max_abs(variant("mean32", "weight") - variant("mean64", "weight")),
                                max_abs(variant("mean32", "bias") - variant("mean64", "bias")));
      const double bound_w = 4 * e + 8 * eps * max_abs(variant("mean32", "weight"));
      const double bound_b = 4 * e + 8 * eps * max_abs(variant("mean32", "bias"));
      const double bound_p = 0.5 * (x_l1 * bound_w + bound_b) + 8 * eps;
      const double dw = max_abs(w - variant("mean32", "weight"));
      const double db = max_abs(b - variant("mean32", "bias"));
      const double dp = max_abs(proba - variant("mean32", "proba"));
      BOOST_TEST_MESSAGE(configs[k].name << ": |dw| " << dw << " |db| " << db << " |dp| " << dp << " (bounds "
                                         << bound_w << ", " << bound_b << ", " << bound_p << "; float32 vs float64 "
                                         << e << ")");
      BOOST_TEST(dw <= bound_w);
      BOOST_TEST(db <= bound_b);
      BOOST_TEST(dp <= bound_p);
      // The comparison can tell the two reductions apart: the summed loss ends far outside the bound.
      const double sum_gap = max_abs(variant("sum32", "weight") - variant("mean32", "weight"));
      BOOST_TEST(sum_gap > 10 * bound_w, "sum vs mean reference weights differ by only " << sum_gap);
    }
  }
}
