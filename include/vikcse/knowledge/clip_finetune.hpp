// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file clip_finetune.hpp
/// VIKCSE stage 1's optional CLIP fine-tuning (README.md#vikcse-1; METHODS.md §5.1), as the
/// reference runs it with Hugging Face's Trainer:
///
///  - loss: CLIP's symmetric image–text contrastive loss (transformers' `clip_loss`): the mean of the
///    cross-entropies of `logits_per_text` and `logits_per_image` with the diagonal as targets, where
///    the logits are `exp(logit_scale) * text · image` of the L2-normalised embeddings and
///    `logit_scale` is a trained parameter (not clamped, as in transformers' `CLIPModel`);
///  - AdamW, lr 3e-6, weight decay 1e-6, batch 128, at most 20 epochs, a cosine schedule after 50
///    linear warm-up steps, gradient clipping at norm 1 (the Trainer's default);
///  - validation every 50 steps: the loss on held-out pairs in eval mode without gradient, in batches
///    in row order, each batch's loss weighted by its size (the Trainer's `eval_loss`);
///  - early stopping after `patience` (10) consecutive validations that do not beat the best loss, and
///    the weights of the best validation loaded back at the end (`load_best_model_at_end`). The best
///    weights are kept as an in-memory copy of the state on the model's device (no files written).
///
/// The images and captions come from the caller as one function of row indices, so that this header
/// does not depend on image decoding or tokenising: `batch(rows)` returns the pixel values and token
/// ids of those rows (e.g. stacked `vikcse::preprocess_clip` images and a CLIP tokenizer's ids).
///
/// Example:
/// ```
/// vikcse::ClipFinetuner tuner(vikcse::ClipFinetuneOptions().max_steps(2000));
/// tuner.on_progress([&](const vikcse::ClipFinetuneProgress& p) { bar.set(p.step); });
/// auto report = tuner.fit(*clip, [&](const std::vector<std::int64_t>& rows) { return load(rows); },
///                         train_rows, val_rows);
/// clip->save_pretrained("clip-finetuned");
/// ```

#include <vikcse/error.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/util/epoch_order.hpp>
#include <vikcse/vision/clip_model.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vikcse {

/// transformers' `clip_loss`: `½ [CE(L, 0..N−1) + CE(Lᵀ, 0..N−1)]` of `logits_per_text` `L`
/// `[N, N]` (row i: caption i against every image; its transpose is `logits_per_image`), computed in
/// float32 at least.
/// @throws vikcse::invalid_argument for logits that are not a non-empty square matrix.
inline torch::Tensor clip_contrastive_loss(const torch::Tensor& logits_per_text) {
  if (!logits_per_text.defined() || logits_per_text.dim() != 2 || logits_per_text.size(0) == 0 ||
      logits_per_text.size(0) != logits_per_text.size(1)) {
    throw_error<invalid_argument>(
        "clip_contrastive_loss: expected square [N, N] logits with N > 0, got {}",
        logits_per_text.defined() ? c10::str(logits_per_text.sizes()) : std::string("an undefined tensor"));
  }
  namespace F = torch::nn::functional;
  const auto logits =
      logits_per_text.scalar_type() == torch::kDouble ? logits_per_text : logits_per_text.to(torch::kFloat);
  const auto labels = torch::arange(logits.size(0), torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
  return (F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels)) / 2.0;
}

/// Options of `ClipFinetuner`; the defaults are the reference's (METHODS.md §5.1).
struct ClipFinetuneOptions {
  /// Peak AdamW learning rate. Default: 3e-6.
  TORCH_ARG(double, learning_rate) = 3e-6;
  /// AdamW decoupled weight decay (not on biases and LayerNorm weights, see `make_adamw`).
  /// Default: 1e-6.
  TORCH_ARG(double, weight_decay) = 1e-6;
  /// Image–caption pairs per training step (a last, smaller batch of an epoch is trained too).
  /// Default: 128.
  TORCH_ARG(std::int64_t, batch_size) = 128;
  /// Pairs per validation batch. The reference does not record its evaluation batch size; the
  /// loss depends on it (in-batch negatives). Default: 128.
  TORCH_ARG(std::int64_t, validation_batch_size) = 128;
  /// Passes over the training rows. Default: 20.
  TORCH_ARG(std::int64_t, epochs) = 20;
  /// Steps in all when > 0 (the schedule then spans them); otherwise `epochs` passes. Default: -1.
  TORCH_ARG(std::int64_t, max_steps) = -1;
  /// Linear warm-up steps before the cosine decay. Default: 50.
  TORCH_ARG(std::int64_t, warmup_steps) = 50;
  /// Validate after every step that is a multiple of N (only then, as the Trainer does); <= 0: never
  /// (no early stopping, the final weights are kept). Default: 50.
  TORCH_ARG(std::int64_t, eval_steps) = 50;
  /// Stop after this many consecutive validations without a lower loss than the best (> 0).
  /// Default: 10.
  TORCH_ARG(std::int64_t, patience) = 10;
  /// Gradient-norm clipping (<= 0: off). Default: 1.0 (the Trainer's `max_grad_norm`).
  TORCH_ARG(double, max_grad_norm) = 1.0;
  /// Seed of torch (dropout) and of the order of the training rows. Default: 42.
  TORCH_ARG(std::uint64_t, seed) = 42;
  /// Where to train: the model is moved there and every batch follows. Default: unset (the device
  /// the model is on).
  TORCH_ARG(std::optional<torch::Device>, device) = std::nullopt;
};

/// The pixels and token ids of some image–caption pairs (row i of each belongs to the same pair).
struct ClipBatch {
  torch::Tensor pixel_values;    ///< `[B, 3, S, S]` float, S = the vision tower's image size
  torch::Tensor input_ids;       ///< `[B, T]` integer token ids
  torch::Tensor attention_mask;  ///< `[B, T]`, 1 on tokens, 0 on padding; may be undefined
};

/// What `ClipFinetuner::fit` asks for: the batch of the given rows, in their order.
using ClipBatchFunction = std::function<ClipBatch(const std::vector<std::int64_t>& rows)>;

/// One progress report, given to the progress callback after every step (and its validation).
struct ClipFinetuneProgress {
  std::int64_t step = 0;                             ///< steps done
  std::int64_t total = 0;                            ///< steps planned
  double loss = 0.0;                                 ///< training loss of this step
  double learning_rate = 0.0;                        ///< learning rate of this step, read from the optimizer
  std::optional<double> validation_loss;             ///< set when this step was followed by a validation
  std::int64_t best_step = -1;                       ///< step of the best validation so far (-1: none)
  std::int64_t validations_without_improvement = 0;  ///< the early-stopping counter
  double elapsed_seconds = 0.0;                      ///< since the start of `fit`
  double eta_seconds = 0.0;                          ///< estimated time left (to the planned total)
};

/// The outcome of `ClipFinetuner::fit`.
struct ClipFinetuneReport {
  std::vector<std::int64_t> validation_steps;  ///< the step after which each validation ran
  std::vector<double> validation_losses;       ///< the validation loss of each, in order
  std::int64_t best_step = -1;                 ///< the step whose weights the model holds (-1: final weights)
  /// The validation loss of `best_step` (NaN: no validation).
  double best_validation_loss = std::numeric_limits<double>::quiet_NaN();
  bool stopped_early = false;           ///< ended by early stopping, before the planned steps
  std::int64_t steps = 0;               ///< steps run
  std::int64_t total_steps = 0;         ///< steps planned
  std::vector<double> training_losses;  ///< the training loss of every step
};

/// Fine-tunes a CLIP model on image–caption pairs with CLIP's own loss (see the file's comment).
class ClipFinetuner {
public:
  /// A fine-tuner with these options.
  explicit ClipFinetuner(ClipFinetuneOptions options = {}) : options_(std::move(options)) {}

  /// Called after every step with its `ClipFinetuneProgress`; the model holds that step's weights.
  void on_progress(std::function<void(const ClipFinetuneProgress&)> callback) { progress_ = std::move(callback); }

  /// Trains `model` on `train_rows`, validating on `validation_rows`, and leaves it holding the
  /// weights of the best validation (or the final ones when it never validated), in the training
  /// mode it had before. Deterministic given the options' seed and a deterministic `batch`.
  /// @throws vikcse::invalid_argument for bad options, no training rows, no validation rows while
  ///         `eval_steps > 0`, or no `batch` function; vikcse::data_error for a batch of the wrong
  ///         shape (naming it); vikcse::error when a training loss is not finite.
  ClipFinetuneReport fit(ClipModelImpl& model, const ClipBatchFunction& batch,
                         const std::vector<std::int64_t>& train_rows,
                         const std::vector<std::int64_t>& validation_rows) {
    const auto& o = options_;
    validate(batch, train_rows, validation_rows);
    if (o.device()) model.to(*o.device());
    const auto device = model.logit_scale.device();
    const bool validating = o.eval_steps() > 0;
    const auto n = static_cast<std::int64_t>(train_rows.size());
    const auto steps_per_epoch = (n + o.batch_size() - 1) / o.batch_size();
    ClipFinetuneReport report;
    report.total_steps = o.max_steps() > 0 ? o.max_steps() : o.epochs() * steps_per_epoch;

    torch::manual_seed(o.seed());
    auto optimizer = make_adamw(model, {o.learning_rate(), o.weight_decay()});
    std::vector<torch::Tensor> parameters;
    for (const auto& p : model.parameters()) {
      if (p.requires_grad()) parameters.push_back(p);
    }
    const bool was_training = model.is_training();
    std::vector<std::pair<std::string, torch::Tensor>> best_state;
    std::int64_t without_improvement = 0;
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::size_t> order;
    model.train();
    for (std::int64_t step = 0; step < report.total_steps; ++step) {
      const auto epoch = step / steps_per_epoch;
      const auto in_epoch = step % steps_per_epoch;
      if (in_epoch == 0) order = epoch_order(train_rows.size(), o.seed(), epoch);
      const auto begin = in_epoch * o.batch_size();
      std::vector<std::int64_t> rows;
      for (auto i = begin; i < std::min(n, begin + o.batch_size()); ++i) {
        rows.push_back(train_rows[order[static_cast<std::size_t>(i)]]);
      }

      set_learning_rate(*optimizer, cosine_lr(o.learning_rate(), step, report.total_steps, o.warmup_steps()));
      optimizer->zero_grad();
      const auto loss = batch_loss(model, batch, rows, device, "training");
      loss.backward();
      if (o.max_grad_norm() > 0) clip_grad_norm(parameters, o.max_grad_norm());
      optimizer->step();
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        throw_error<error>("CLIP fine-tuning: the training loss became non-finite ({}) at step {}", loss_value,
                           step + 1);
      }
      report.training_losses.push_back(loss_value);
      report.steps = step + 1;

      ClipFinetuneProgress progress;
      progress.step = step + 1;
      progress.total = report.total_steps;
      progress.loss = loss_value;
      progress.learning_rate =
          static_cast<const torch::optim::AdamWOptions&>(optimizer->param_groups().front().options()).lr();
      bool stop = false;
      if (validating && (step + 1) % o.eval_steps() == 0) {
        const double value = validation_loss(model, batch, validation_rows, device);
        model.train();
        report.validation_steps.push_back(step + 1);
        report.validation_losses.push_back(value);
        progress.validation_loss = value;
        if (report.best_step < 0 || value < report.best_validation_loss) {
          report.best_step = step + 1;
          report.best_validation_loss = value;
          without_improvement = 0;
          best_state = copy_state(model);
        } else {
          ++without_improvement;
        }
        stop = without_improvement >= o.patience() && step + 1 < report.total_steps;
      }
      progress.best_step = report.best_step;
      progress.validations_without_improvement = without_improvement;
      progress.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      progress.eta_seconds =
          progress.elapsed_seconds / static_cast<double>(step + 1) * static_cast<double>(report.total_steps - step - 1);
      if (progress_) progress_(progress);
      if (stop) {
        report.stopped_early = true;
        break;
      }
    }
    if (!best_state.empty()) load_state(model, best_state);
    model.train(was_training);
    return report;
  }

  /// The validation loss of `model` on `rows` as `fit` computes it: eval mode, no gradient, batches
  /// of `validation_batch_size` rows in order, the mean of their losses weighted by their sizes. The
  /// model is left in eval mode.
  /// @throws vikcse::invalid_argument for no rows or a non-positive batch size; vikcse::data_error
  ///         for a batch of the wrong shape.
  double validation_loss(ClipModelImpl& model, const ClipBatchFunction& batch, const std::vector<std::int64_t>& rows,
                         std::optional<torch::Device> device = std::nullopt) const {
    if (rows.empty()) throw_error<invalid_argument>("CLIP fine-tuning: there are no validation rows");
    if (options_.validation_batch_size() <= 0) {
      throw_error<invalid_argument>("CLIP fine-tuning: validation_batch_size must be > 0, got {}",
                                    options_.validation_batch_size());
    }
    if (!batch) throw_error<invalid_argument>("CLIP fine-tuning: no batch function");
    const auto on = device.value_or(model.logit_scale.device());
    torch::NoGradGuard no_grad;
    model.eval();
    double sum = 0;
    const auto n = static_cast<std::int64_t>(rows.size());
    for (std::int64_t begin = 0; begin < n; begin += options_.validation_batch_size()) {
      const auto end = std::min(n, begin + options_.validation_batch_size());
      const std::vector<std::int64_t> part(rows.begin() + begin, rows.begin() + end);
      sum += batch_loss(model, batch, part, on, "validation").item<double>() * static_cast<double>(end - begin);
    }
    return sum / static_cast<double>(n);
  }

  /// The options.
  [[nodiscard]] const ClipFinetuneOptions& options() const { return options_; }

private:
  void validate(const ClipBatchFunction& batch, const std::vector<std::int64_t>& train_rows,
                const std::vector<std::int64_t>& validation_rows) const {
    const auto& o = options_;
    if (!batch) throw_error<invalid_argument>("CLIP fine-tuning: no batch function");
    if (train_rows.empty()) throw_error<invalid_argument>("CLIP fine-tuning: there are no training rows");
    if (o.batch_size() <= 0)
      throw_error<invalid_argument>("CLIP fine-tuning: batch_size must be > 0, got {}", o.batch_size());
    if (o.validation_batch_size() <= 0) {
      throw_error<invalid_argument>("CLIP fine-tuning: validation_batch_size must be > 0, got {}",
                                    o.validation_batch_size());
    }
    if (o.epochs() <= 0 && o.max_steps() <= 0) {
      throw_error<invalid_argument>("CLIP fine-tuning: epochs ({}) or max_steps ({}) must be > 0", o.epochs(),
                                    o.max_steps());
    }
    if (o.warmup_steps() < 0)
      throw_error<invalid_argument>("CLIP fine-tuning: warmup_steps must be >= 0, got {}", o.warmup_steps());
    if (o.patience() <= 0)
      throw_error<invalid_argument>("CLIP fine-tuning: patience must be > 0, got {}", o.patience());
    if (o.eval_steps() > 0 && validation_rows.empty()) {
      throw_error<invalid_argument>(
          "CLIP fine-tuning: there are no validation rows (eval_steps {}; set eval_steps 0 to train without "
          "validation)",
          o.eval_steps());
    }
  }

  // CLIP's loss of the pairs `rows`, on `device`.
  static torch::Tensor batch_loss(ClipModelImpl& model, const ClipBatchFunction& batch,
                                  const std::vector<std::int64_t>& rows, torch::Device device, const char* split) {
    const auto b = batch(rows);
    const auto count = static_cast<std::int64_t>(rows.size());
    const auto image_size = model.config().vision.image_size;
    if (!b.pixel_values.defined() || b.pixel_values.dim() != 4 || b.pixel_values.size(0) != count ||
        b.pixel_values.size(2) != image_size || b.pixel_values.size(3) != image_size) {
      throw_error<data_error>("CLIP fine-tuning: the {} batch of {} rows has pixel_values {}, expected [{}, C, {}, {}]",
                              split, count, shape(b.pixel_values), count, image_size, image_size);
    }
    if (!b.input_ids.defined() || b.input_ids.dim() != 2 || b.input_ids.size(0) != count) {
      throw_error<data_error>("CLIP fine-tuning: the {} batch of {} rows has input_ids {}, expected [{}, T]", split,
                              count, shape(b.input_ids), count);
    }
    if (b.attention_mask.defined() && b.attention_mask.sizes() != b.input_ids.sizes()) {
      throw_error<data_error>("CLIP fine-tuning: the {} batch has attention_mask {} but input_ids {}", split,
                              shape(b.attention_mask), shape(b.input_ids));
    }
    const auto mask = b.attention_mask.defined() ? b.attention_mask.to(device) : torch::Tensor();
    const auto out = model.forward(b.input_ids.to(device), mask, b.pixel_values.to(device));
    return clip_contrastive_loss(out.logits_per_text);
  }

  static std::string shape(const torch::Tensor& t) {
    return t.defined() ? c10::str(t.sizes()) : std::string("undefined");
  }

  // A copy of every parameter and buffer, on the model's device.
  static std::vector<std::pair<std::string, torch::Tensor>> copy_state(const torch::nn::Module& model) {
    std::vector<std::pair<std::string, torch::Tensor>> state;
    for (const auto& item : model.named_parameters()) state.emplace_back(item.key(), item.value().detach().clone());
    for (const auto& item : model.named_buffers()) state.emplace_back(item.key(), item.value().detach().clone());
    return state;
  }

  static void load_state(torch::nn::Module& model, const std::vector<std::pair<std::string, torch::Tensor>>& state) {
    torch::NoGradGuard no_grad;
    auto parameters = model.named_parameters();
    auto buffers = model.named_buffers();
    for (const auto& [name, value] : state) {
      if (auto* p = parameters.find(name)) {
        p->copy_(value);
      } else if (auto* b = buffers.find(name)) {
        b->copy_(value);
      }
    }
  }

  ClipFinetuneOptions options_;
  std::function<void(const ClipFinetuneProgress&)> progress_;
};

}  // namespace vikcse
