// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_classifier
#include <boost/test/unit_test.hpp>

#include <vikcse/eval/transfer.hpp>

#include <torch/torch.h>

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
