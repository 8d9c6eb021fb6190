// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file classifier.hpp
/// SentEval's PyTorch logistic regression (`tools/classifier.py`, `MLP` with nhid = 0) on frozen
/// embeddings: a linear layer trained with batch-mean cross-entropy, Adam or RMSprop with the L2 weight
/// as the optimiser's weight decay, `epoch_size` passes per epoch over fresh permutations, early
/// stopping on validation accuracy after `tenacity` non-improving epochs, the best model kept.
/// Deterministic under `seed`: all randomness comes from a private generator (the global torch
/// generator is neither read nor changed).
///
/// Why the mean: SentEval builds `nn.CrossEntropyLoss()` (reduction fixed to 'mean' at construction)
/// and then assigns `loss_fn.size_average = False`. Since PyTorch 0.4.1 that attribute is read only by
/// the constructor, so the assignment changes nothing and SentEval as it runs averages the loss over
/// each minibatch. Under Adam/RMSprop the difference to a sum shows through the L2 weight decay
/// (its weight relative to the data term) and through the smaller last minibatch of a pass.

#include <vikcse/error.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>

namespace vikcse {

/// Optimiser of the classifier (PyTorch defaults, as SentEval's `get_optimizer` uses them).
enum class ClassifierOptimizer {
  adam,     ///< Adam, lr 1e-3 (SentEval test mode)
  rmsprop,  ///< RMSprop, lr 1e-2, alpha 0.99 (SentEval fast mode)
};

/// Options of `LogisticRegression`. Defaults are SentEval's test-mode settings.
struct ClassifierOptions {
  /// Number of classes.
  TORCH_ARG(std::int64_t, num_classes) = 2;
  /// L2 regularisation, applied as the optimiser's weight decay (SentEval `l2reg`).
  TORCH_ARG(double, l2) = 0.0;
  /// Optimiser. Default: adam.
  TORCH_ARG(ClassifierOptimizer, optimizer) = ClassifierOptimizer::adam;
  /// Minibatch size. Default: 64.
  TORCH_ARG(std::int64_t, batch_size) = 64;
  /// Epochs without improvement of validation accuracy before stopping. Default: 5.
  TORCH_ARG(std::int64_t, tenacity) = 5;
  /// Passes over the training set per epoch. Default: 4.
  TORCH_ARG(std::int64_t, epoch_size) = 4;
  /// Upper bound on epochs. Default: 200.
  TORCH_ARG(std::int64_t, max_epoch) = 200;
  /// Seed of the private generator (initialisation, permutations, validation split). Default: 1111.
  TORCH_ARG(std::uint64_t, seed) = 1111;
};

/// Logistic regression on `[N, D]` float features with labels `[N]` int64 in 0..num_classes-1.
///
/// Example:
/// ```
/// vikcse::LogisticRegression clf(vikcse::ClassifierOptions().num_classes(2).l2(1e-4));
/// clf.fit(train_x, train_y, dev_x, dev_y);
/// double acc = clf.score(test_x, test_y);
/// ```
class LogisticRegression {
public:
  /// A classifier with the given options.
  explicit LogisticRegression(ClassifierOptions options = {}) : options_(options) {
    if (options_.num_classes() < 2)
      throw_error<invalid_argument>("classifier: num_classes must be >= 2, got {}", options_.num_classes());
    if (options_.batch_size() <= 0)
      throw_error<invalid_argument>("classifier: batch_size must be > 0, got {}", options_.batch_size());
    if (options_.epoch_size() <= 0)
      throw_error<invalid_argument>("classifier: epoch_size must be > 0, got {}", options_.epoch_size());
  }

  /// Trains on (x, y), selecting the epoch with the best accuracy on (dev_x, dev_y).
  /// Returns that accuracy in [0, 1].
  double fit(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& dev_x, const torch::Tensor& dev_y) {
    auto generator = at::detail::createCPUGenerator(options_.seed());
    return fit_impl(features(x), labels(y, x.size(0)), features(dev_x), labels(dev_y, dev_x.size(0)), generator);
  }

  /// Trains on (x, y), holding out a random `validation_fraction` of it for early stopping
  /// (SentEval's `validation_split`, 0.05 in its k-fold protocols).
  double fit(const torch::Tensor& x, const torch::Tensor& y, double validation_fraction = 0.05) {
    auto generator = at::detail::createCPUGenerator(options_.seed());
    const auto fx = features(x);
    const auto fy = labels(y, x.size(0));
    const auto n = fx.size(0);
    const auto n_dev = static_cast<std::int64_t>(validation_fraction * static_cast<double>(n));
    if (n_dev <= 0 || n_dev >= n) {
      throw_error<invalid_argument>("classifier: validation fraction {} of {} rows leaves {} validation rows",
                                    validation_fraction, n, n_dev);
    }
    const auto perm = torch::randperm(n, generator, torch::kLong);
    const auto dev_idx = perm.narrow(0, 0, n_dev);
    const auto train_idx = perm.narrow(0, n_dev, n - n_dev);
    return fit_impl(fx.index_select(0, train_idx), fy.index_select(0, train_idx), fx.index_select(0, dev_idx),
                    fy.index_select(0, dev_idx), generator);
  }

  /// Predicted class per row (`[N]` int64).
  [[nodiscard]] torch::Tensor predict(const torch::Tensor& x) const {
    if (!weight_.defined()) throw_error<invalid_argument>("classifier: predict() called before fit()");
    torch::NoGradGuard no_grad;
    return torch::addmm(bias_, features(x), weight_).argmax(1);
  }

  /// Accuracy in [0, 1] on (x, y).
  [[nodiscard]] double score(const torch::Tensor& x, const torch::Tensor& y) const {
    const auto pred = predict(x);
    return pred.eq(labels(y, x.size(0))).to(torch::kDouble).mean().item<double>();
  }

  /// Epochs trained by the last `fit` (SentEval's `nepoch`).
  [[nodiscard]] std::int64_t epochs() const { return epochs_; }

  /// The trained weight `[D, C]` and bias `[C]` (undefined before `fit`).
  [[nodiscard]] std::pair<torch::Tensor, torch::Tensor> parameters() const { return {weight_, bias_}; }

  /// The options.
  [[nodiscard]] const ClassifierOptions& options() const { return options_; }

private:
  torch::Tensor features(const torch::Tensor& x) const {
    if (x.dim() != 2 || x.size(0) == 0) {
      throw_error<invalid_argument>("classifier: expected features [N>0, D], got {} dims", x.dim());
    }
    if (weight_.defined() && x.size(1) != weight_.size(0)) {
      throw_error<invalid_argument>("classifier: expected {} features per row, got {}", weight_.size(0), x.size(1));
    }
    return x.detach().to(torch::kCPU, torch::kFloat).contiguous();
  }

  torch::Tensor labels(const torch::Tensor& y, std::int64_t n) const {
    if (y.dim() != 1 || y.size(0) != n)
      throw_error<invalid_argument>("classifier: expected labels [{}], got {} dims / {} rows", n, y.dim(),
                                    y.dim() > 0 ? y.size(0) : 0);
    auto out = y.detach().to(torch::kCPU, torch::kLong).contiguous();
    const auto lo = out.min().item<std::int64_t>();
    const auto hi = out.max().item<std::int64_t>();
    if (lo < 0 || hi >= options_.num_classes()) {
      throw_error<invalid_argument>("classifier: labels must be in 0..{}, got range {}..{}", options_.num_classes() - 1,
                                    lo, hi);
    }
    return out;
  }

  double fit_impl(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& dev_x,
                  const torch::Tensor& dev_y, at::Generator& generator) {
    torch::AutoGradMode grad_mode(true);
    const auto dim = x.size(1);
    const auto classes = options_.num_classes();
    // nn.Linear's default initialisation: U(-1/sqrt(D), 1/sqrt(D)) for weight and bias.
    const double bound = 1.0 / std::sqrt(static_cast<double>(dim));
    auto weight = torch::empty({classes, dim}, torch::kFloat).uniform_(-bound, bound, generator).t().contiguous();
    auto bias = torch::empty({classes}, torch::kFloat).uniform_(-bound, bound, generator);
    weight.set_requires_grad(true);
    bias.set_requires_grad(true);
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    if (options_.optimizer() == ClassifierOptimizer::adam) {
      optimizer = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{weight, bias},
                                                       torch::optim::AdamOptions(1e-3).weight_decay(options_.l2()));
    } else {
      optimizer = std::make_unique<torch::optim::RMSprop>(
          std::vector<torch::Tensor>{weight, bias}, torch::optim::RMSpropOptions(1e-2).weight_decay(options_.l2()));
    }
    const auto n = x.size(0);
    const auto bs = options_.batch_size();
    double best = -1.0;
    torch::Tensor best_weight, best_bias;
    std::int64_t stale = 0;
    bool stop = false;
    epochs_ = 0;
    weight_ = weight.detach();
    bias_ = bias.detach();
    while (!stop && epochs_ <= options_.max_epoch()) {
      for (std::int64_t pass = 0; pass < options_.epoch_size(); ++pass) {
        const auto perm = torch::randperm(n, generator, torch::kLong);
        for (std::int64_t start = 0; start < n; start += bs) {
          const auto idx = perm.narrow(0, start, std::min(bs, n - start));
          const auto logits = torch::addmm(bias, x.index_select(0, idx), weight);
          const auto loss = torch::nn::functional::cross_entropy(
              logits, y.index_select(0, idx), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kMean));
          optimizer->zero_grad();
          loss.backward();
          optimizer->step();
        }
      }
      epochs_ += options_.epoch_size();
      weight_ = weight.detach();
      bias_ = bias.detach();
      const double accuracy = score(dev_x, dev_y);
      if (accuracy > best) {
        best = accuracy;
        best_weight = weight.detach().clone();
        best_bias = bias.detach().clone();
      } else {
        if (stale >= options_.tenacity()) stop = true;
        ++stale;
      }
    }
    weight_ = best_weight;
    bias_ = best_bias;
    return best;
  }

  ClassifierOptions options_;
  torch::Tensor weight_;  // [D, C]
  torch::Tensor bias_;    // [C]
  std::int64_t epochs_ = 0;
};

}  // namespace vikcse
