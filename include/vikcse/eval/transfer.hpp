// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file transfer.hpp
/// SentEval's transfer-task protocols (`tools/validation.py`) around `LogisticRegression`:
/// stratified k-fold selection of the L2 weight, inner k-fold (MR, CR, SUBJ, MPQA), k-fold on train
/// then test (TREC, MRPC with `[|u-v|, u*v]` features, accuracy and F1), and dev-split selection
/// (SST). Accuracies are in percent rounded to 2 decimals, as SentEval reports them.

#include <vikcse/error.hpp>
#include <vikcse/eval/classifier.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/senteval_data.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse {

/// SentEval's two classifier configurations.
enum class TransferMode {
  test,  ///< 10-fold, Adam, batch 64, tenacity 5, epoch_size 4 (SimCSE's "test" mode)
  fast,  ///< 5-fold, RMSprop, batch 128, tenacity 3, epoch_size 2 (SimCSE's "dev"/"fast" mode)
};

/// Options of the transfer evaluation.
struct TransferOptions {
  TransferMode mode = TransferMode::test;                  ///< the SentEval configuration these settings follow
  std::int64_t kfold = 10;                                 ///< folds for the k-fold protocols
  ClassifierOptions classifier = {};                       ///< classifier settings (num_classes/l2 are set per task)
  std::vector<double> l2_grid = {1e-5, 1e-4, 1e-3, 1e-2};  ///< SentEval's PyTorch grid 10^-5..10^-2
  std::uint64_t seed = 1111;          ///< seed of the fold splits and of every classifier (SentEval's 1111)
  double validation_fraction = 0.05;  ///< held-out share when refitting on a whole train set

  /// SentEval's settings for `mode`.
  static TransferOptions for_mode(TransferMode mode) {
    TransferOptions o;
    o.mode = mode;
    if (mode == TransferMode::test) {
      o.kfold = 10;
      o.classifier.optimizer(ClassifierOptimizer::adam).batch_size(64).tenacity(5).epoch_size(4);
    } else {
      o.kfold = 5;
      o.classifier.optimizer(ClassifierOptimizer::rmsprop).batch_size(128).tenacity(3).epoch_size(2);
    }
    return o;
  }
};

/// The name of a transfer mode (`test`, `fast`).
inline std::string_view to_string(TransferMode mode) { return mode == TransferMode::test ? "test" : "fast"; }

/// Result of one transfer task.
struct TransferTaskResult {
  std::string name;          ///< task name
  double devacc = 0.0;       ///< cross-validation (or dev) accuracy, percent
  double acc = 0.0;          ///< test accuracy, percent (SimCSE's reported number)
  std::optional<double> f1;  ///< test F1 of class 1, percent (MRPC only)
  std::size_t ndev = 0;      ///< examples used for selection
  std::size_t ntest = 0;     ///< test examples
  double best_l2 = 0.0;      ///< selected L2 weight (last outer fold for inner k-fold)
};

/// Python's `round(x, 2)` for the values SentEval rounds.
inline double round2(double x) { return std::round(x * 100.0) / 100.0; }

/// Stratified k folds of `labels` (each class shuffled with `seed`, then dealt round-robin so every
/// fold gets its share of each class). Returns (train, test) index lists with ascending indices.
/// @throws vikcse::invalid_argument when k < 2 or k exceeds the number of examples.
inline std::vector<std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>> stratified_kfold(
    const std::vector<std::int64_t>& labels, std::int64_t k, std::uint64_t seed) {
  if (k < 2 || static_cast<std::size_t>(k) > labels.size()) {
    throw_error<invalid_argument>("stratified_kfold: need 2 <= k <= {} examples, got k = {}", labels.size(), k);
  }
  std::vector<std::int64_t> fold_of(labels.size());
  std::vector<std::int64_t> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  std::mt19937_64 rng(seed);
  std::int64_t next = 0;
  for (const auto c : classes) {
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == c) members.push_back(i);
    }
    for (std::size_t i = members.size(); i > 1; --i) {  // Fisher-Yates with a portable draw
      std::swap(members[i - 1], members[rng() % i]);
    }
    for (const auto i : members) fold_of[i] = (next++) % k;
  }
  std::vector<std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>> folds(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (std::int64_t f = 0; f < k; ++f) {
      (f == fold_of[i] ? folds[f].second : folds[f].first).push_back(static_cast<std::int64_t>(i));
    }
  }
  return folds;
}

namespace detail::eval {

inline std::vector<std::int64_t> to_vector(const torch::Tensor& y) {
  const auto c = y.to(torch::kLong).contiguous();
  return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

inline torch::Tensor take(const torch::Tensor& t, const std::vector<std::int64_t>& idx) {
  return t.index_select(0, torch::tensor(idx, torch::kLong));
}

inline ClassifierOptions classifier_for(const TransferOptions& o, std::int64_t classes, double l2) {
  auto c = o.classifier;
  return c.num_classes(classes).l2(l2).seed(o.seed);
}

/// Mean accuracy (percent, rounded) of each L2 value over `folds` of (x, y); returns the scores.
inline std::vector<double> scan_l2(const torch::Tensor& x, const torch::Tensor& y, std::int64_t classes,
                                   const TransferOptions& o) {
  const auto folds = stratified_kfold(to_vector(y), o.kfold, o.seed);
  std::vector<double> scores;
  for (const double l2 : o.l2_grid) {
    double sum = 0.0;
    for (const auto& [train, test] : folds) {
      LogisticRegression clf(classifier_for(o, classes, l2));
      clf.fit(take(x, train), take(y, train), take(x, test), take(y, test));
      sum += clf.score(take(x, test), take(y, test));
    }
    scores.push_back(round2(100.0 * sum / static_cast<double>(folds.size())));
  }
  return scores;
}

inline std::size_t argmax(const std::vector<double>& v) {
  return static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin());  // first maximum, like np.argmax
}

}  // namespace detail::eval

/// SentEval `InnerKFoldClassifier`: k outer folds; in each, an inner k-fold over the outer training
/// part picks L2, then a classifier trained on the whole outer training part (5% held out for early
/// stopping) is tested on the outer test fold. Returns (devacc, acc) in percent.
inline TransferTaskResult inner_kfold_evaluate(const torch::Tensor& x, const torch::Tensor& y, std::int64_t classes,
                                               const TransferOptions& o) {
  if (o.l2_grid.empty()) throw_error<invalid_argument>("transfer: the L2 grid is empty");
  TransferTaskResult r;
  std::vector<double> dev, test;
  for (const auto& [train, held] : stratified_kfold(detail::eval::to_vector(y), o.kfold, o.seed)) {
    const auto xt = detail::eval::take(x, train);
    const auto yt = detail::eval::take(y, train);
    const auto scores = detail::eval::scan_l2(xt, yt, classes, o);
    const auto best = detail::eval::argmax(scores);
    dev.push_back(scores[best]);
    r.best_l2 = o.l2_grid[best];
    LogisticRegression clf(detail::eval::classifier_for(o, classes, r.best_l2));
    clf.fit(xt, yt, o.validation_fraction);
    test.push_back(round2(100.0 * clf.score(detail::eval::take(x, held), detail::eval::take(y, held))));
  }
  r.devacc = round2(std::accumulate(dev.begin(), dev.end(), 0.0) / static_cast<double>(dev.size()));
  r.acc = round2(std::accumulate(test.begin(), test.end(), 0.0) / static_cast<double>(test.size()));
  r.ndev = r.ntest = static_cast<std::size_t>(x.size(0));
  return r;
}

/// SentEval `KFoldClassifier`: k-fold on train picks L2; a classifier trained on all of train (5%
/// held out) is tested on test. Also returns the test predictions through `predictions` if given.
inline TransferTaskResult kfold_evaluate(const torch::Tensor& train_x, const torch::Tensor& train_y,
                                         const torch::Tensor& test_x, const torch::Tensor& test_y, std::int64_t classes,
                                         const TransferOptions& o, torch::Tensor* predictions = nullptr) {
  if (o.l2_grid.empty()) throw_error<invalid_argument>("transfer: the L2 grid is empty");
  TransferTaskResult r;
  const auto scores = detail::eval::scan_l2(train_x, train_y, classes, o);
  const auto best = detail::eval::argmax(scores);
  r.devacc = scores[best];
  r.best_l2 = o.l2_grid[best];
  LogisticRegression clf(detail::eval::classifier_for(o, classes, r.best_l2));
  clf.fit(train_x, train_y, o.validation_fraction);
  r.acc = round2(100.0 * clf.score(test_x, test_y));
  if (predictions != nullptr) *predictions = clf.predict(test_x);
  r.ndev = static_cast<std::size_t>(train_x.size(0));
  r.ntest = static_cast<std::size_t>(test_x.size(0));
  return r;
}

/// SentEval `SplitClassifier`: the dev split picks L2 (accuracy of a classifier early-stopped on
/// dev), then that classifier setting is retrained and tested.
inline TransferTaskResult split_evaluate(const torch::Tensor& train_x, const torch::Tensor& train_y,
                                         const torch::Tensor& dev_x, const torch::Tensor& dev_y,
                                         const torch::Tensor& test_x, const torch::Tensor& test_y, std::int64_t classes,
                                         const TransferOptions& o) {
  if (o.l2_grid.empty()) throw_error<invalid_argument>("transfer: the L2 grid is empty");
  TransferTaskResult r;
  std::vector<double> scores;
  for (const double l2 : o.l2_grid) {
    LogisticRegression clf(detail::eval::classifier_for(o, classes, l2));
    clf.fit(train_x, train_y, dev_x, dev_y);
    scores.push_back(round2(100.0 * clf.score(dev_x, dev_y)));
  }
  const auto best = detail::eval::argmax(scores);
  r.devacc = scores[best];
  r.best_l2 = o.l2_grid[best];
  LogisticRegression clf(detail::eval::classifier_for(o, classes, r.best_l2));
  clf.fit(train_x, train_y, dev_x, dev_y);
  r.acc = round2(100.0 * clf.score(test_x, test_y));
  r.ndev = static_cast<std::size_t>(dev_x.size(0));
  r.ntest = static_cast<std::size_t>(test_x.size(0));
  return r;
}

/// F1 (percent, rounded) of class 1 for binary predictions.
inline double binary_f1(const torch::Tensor& predicted, const torch::Tensor& truth) {
  const auto p = predicted.to(torch::kLong).eq(1);
  const auto t = truth.to(torch::kLong).eq(1);
  const double tp = (p & t).sum().item<double>();
  const double fp = (p & ~t).sum().item<double>();
  const double fn = (~p & t).sum().item<double>();
  const double denom = 2 * tp + fp + fn;
  return denom == 0 ? 0.0 : round2(100.0 * 2 * tp / denom);
}

/// Embeds the sentences of one part of a task (`part` is e.g. `train`, `test`, `train/second`);
/// returns `[N, D]` rows in the given order. Lets callers add caching around `encode_sentences`.
using PartEmbedder = std::function<torch::Tensor(const std::vector<std::string>& sentences, const std::string& part)>;

/// Runs one transfer task: embeds each split with `embed` and applies the task's protocol.
inline TransferTaskResult evaluate_transfer(const TransferTaskData& task, const PartEmbedder& embed,
                                            const TransferOptions& o = {}) {
  auto labels = [](const TransferSplit& s) { return torch::tensor(s.labels, torch::kLong); };
  auto features = [&](const TransferSplit& s, const std::string& part) {
    if (!task.pairs) return embed(s.first, part);
    const auto u = embed(s.first, part + "-first");
    const auto v = embed(s.second, part + "-second");
    return torch::cat({(u - v).abs(), u * v}, 1);
  };
  TransferTaskResult r;
  switch (task.protocol) {
    case TransferProtocol::inner_kfold:
      r = inner_kfold_evaluate(features(task.train, "all"), labels(task.train), task.num_classes, o);
      break;
    case TransferProtocol::kfold: {
      torch::Tensor predictions;
      const auto test_y = labels(task.test);
      r = kfold_evaluate(features(task.train, "train"), labels(task.train), features(task.test, "test"), test_y,
                         task.num_classes, o, &predictions);
      if (task.pairs) r.f1 = binary_f1(predictions, test_y);
      break;
    }
    case TransferProtocol::split:
      r = split_evaluate(features(task.train, "train"), labels(task.train), features(task.dev, "dev"), labels(task.dev),
                         features(task.test, "test"), labels(task.test), task.num_classes, o);
      break;
  }
  r.name = task.name;
  return r;
}

/// Runs one transfer task, encoding its sentences with `embedder` (batched as `encode` says).
inline TransferTaskResult evaluate_transfer(const TransferTaskData& task, const Embedder& embedder,
                                            const EncodeOptions& encode = {}, const TransferOptions& o = {}) {
  return evaluate_transfer(task, PartEmbedder([&](const std::vector<std::string>& s, const std::string&) {
                             return encode_sentences(embedder, s, encode);
                           }),
                           o);
}

}  // namespace vikcse
