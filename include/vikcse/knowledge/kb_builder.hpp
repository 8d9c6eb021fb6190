// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file kb_builder.hpp
/// VIKCSE stage 1 (README.md#vikcse-1): the visual knowledge base from image features (e.g. CLIP
/// `image_embeds`, one row per image) and, optionally, the text features of their captions (row i
/// describes image i). Without projectors the bank is the L2-normalised image features (the
/// stored BERT-base run). With `projection_dim > 0`, new bias-free projectors image→D and text→D
/// (the reference's "768x768" variant, which maps the KB into the encoder's width) are trained with
/// CLIP's symmetric image–text InfoNCE and the bank is the projected, L2-normalised image rows.
/// The bank is written as `.npy` or `.safetensors` and read by stage 2 with `load_features`.
///
/// Example:
/// ```
/// vikcse::KnowledgeBaseBuilder builder(vikcse::KnowledgeBaseBuilderOptions().projection_dim(768));
/// auto kb = builder.build(vikcse::load_features("img.npy"), vikcse::load_features("txt.npy"));
/// vikcse::save_knowledge_base("kb.safetensors", kb);
/// ```

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/error.hpp>
#include <vikcse/knowledge/feature_file.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/util/epoch_order.hpp>

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vikcse {

/// Options of `KnowledgeBaseBuilder`.
struct KnowledgeBaseBuilderOptions {
  /// Output width D of the trained projectors; 0: no projectors (the bank is the normalised image
  /// features). Example: 768 (BERT-base width). Default: 0.
  TORCH_ARG(std::int64_t, projection_dim) = 0;
  /// Temperature of the symmetric InfoNCE (CLIP's initial logit scale is 1/0.07). Default: 0.07.
  TORCH_ARG(double, temperature) = 0.07;
  /// Image–caption pairs per step. Default: 128 (the reference fine-tuning batch).
  TORCH_ARG(std::int64_t, batch_size) = 128;
  /// Passes over the pairs. Default: 20 (the reference maximum).
  TORCH_ARG(std::int64_t, epochs) = 20;
  /// AdamW learning rate of the fresh projectors (the reference's 3e-6 is for fine-tuning all of
  /// CLIP; new linear layers need a larger one). Default: 1e-3.
  TORCH_ARG(double, learning_rate) = 1e-3;
  /// AdamW weight decay. Default: 1e-6 (reference).
  TORCH_ARG(double, weight_decay) = 1e-6;
  /// Seed of the initialisation and of the pair order. Default: 42.
  TORCH_ARG(std::uint64_t, seed) = 42;
};

/// The outcome of stage 1.
struct BuiltKnowledgeBase {
  torch::Tensor bank;                ///< `[M, D]` unit rows: the visual knowledge base
  torch::Tensor text_bank;           ///< `[M, D]` unit rows of the (projected) captions; undefined without text
  std::vector<double> epoch_losses;  ///< mean symmetric InfoNCE per epoch (empty without projectors)
  torch::Tensor image_projection;    ///< `[D, Di]` weight of the image projector (undefined without)
  torch::Tensor text_projection;     ///< `[D, Dt]` weight of the text projector (undefined without)
};

/// Builds the knowledge base of stage 1.
class KnowledgeBaseBuilder {
public:
  explicit KnowledgeBaseBuilder(KnowledgeBaseBuilderOptions options = {}) : options_(std::move(options)) {}

  /// Called after each epoch with (epoch, mean loss).
  void on_epoch(std::function<void(std::int64_t, double)> callback) { on_epoch_ = std::move(callback); }

  /// The bank of `image_features` `[M, Di]` (and `text_features` `[M, Dt]`, row-aligned).
  /// @throws vikcse::data_error for empty, non-2-D or non-finite features, or a row-count mismatch;
  ///         vikcse::invalid_argument when projectors are asked for without text features or with
  ///         bad options.
  BuiltKnowledgeBase build(const torch::Tensor& image_features, const torch::Tensor& text_features = {}) {
    validate_features(image_features, "stage 1: image features");
    if (image_features.size(0) == 0) throw_error<data_error>("stage 1: the image features have no rows");
    const bool has_text = text_features.defined();
    if (has_text) {
      validate_features(text_features, "stage 1: text features",
                        {.key = {}, .expected_rows = image_features.size(0), .expected_dim = std::nullopt});
    }
    const auto& o = options_;
    if (o.projection_dim() < 0)
      throw_error<invalid_argument>("stage 1: projection_dim must be >= 0, got {}", o.projection_dim());
    BuiltKnowledgeBase kb;
    const auto images = image_features.detach().to(torch::kFloat);
    if (o.projection_dim() == 0) {
      kb.bank = unit(images);
      if (has_text) kb.text_bank = unit(text_features.detach().to(torch::kFloat));
      return kb;
    }
    if (!has_text) {
      throw_error<invalid_argument>(
          "stage 1: training projectors (projection_dim {}) needs the captions' text features", o.projection_dim());
    }
    if (o.batch_size() < 2 || o.epochs() <= 0 || !(o.temperature() > 0) || !(o.learning_rate() > 0)) {
      throw_error<invalid_argument>(
          "stage 1: need batch_size >= 2 (got {}), epochs > 0 (got {}), temperature > 0 (got {}), learning_rate > 0 "
          "(got {})",
          o.batch_size(), o.epochs(), o.temperature(), o.learning_rate());
    }
    const auto texts = text_features.detach().to(torch::kFloat);
    torch::manual_seed(o.seed());
    Projectors proj(images.size(1), texts.size(1), o.projection_dim());
    auto optimizer = make_adamw(proj, {o.learning_rate(), o.weight_decay()});
    const auto m = images.size(0);
    const auto steps_per_epoch = (m + o.batch_size() - 1) / o.batch_size();
    for (std::int64_t epoch = 0; epoch < o.epochs(); ++epoch) {
      const auto order = epoch_order(static_cast<std::size_t>(m), o.seed(), epoch);
      const auto perm = torch::tensor(std::vector<std::int64_t>(order.begin(), order.end()), torch::kLong);
      double sum = 0;
      std::int64_t batches = 0;
      for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
        const auto idx = perm.narrow(0, s * o.batch_size(), std::min(o.batch_size(), m - s * o.batch_size()));
        if (idx.size(0) < 2) continue;  // a last batch of one pair has no negative
        optimizer->zero_grad();
        const auto loss = symmetric_info_nce(proj.image(images.index_select(0, idx)),
                                             proj.text(texts.index_select(0, idx)), o.temperature());
        loss.backward();
        optimizer->step();
        sum += loss.item<double>();
        ++batches;
      }
      kb.epoch_losses.push_back(sum / static_cast<double>(std::max<std::int64_t>(1, batches)));
      if (on_epoch_) on_epoch_(epoch + 1, kb.epoch_losses.back());
    }
    torch::NoGradGuard no_grad;
    kb.bank = unit(proj.image(images));
    kb.text_bank = unit(proj.text(texts));
    kb.image_projection = proj.image->weight.detach().clone();
    kb.text_projection = proj.text->weight.detach().clone();
    return kb;
  }

  /// The options.
  [[nodiscard]] const KnowledgeBaseBuilderOptions& options() const { return options_; }

private:
  struct Projectors : torch::nn::Module {
    Projectors(std::int64_t di, std::int64_t dt, std::int64_t d)
        : image(register_module("image", torch::nn::Linear(torch::nn::LinearOptions(di, d).bias(false)))),
          text(register_module("text", torch::nn::Linear(torch::nn::LinearOptions(dt, d).bias(false)))) {}
    torch::nn::Linear image;
    torch::nn::Linear text;
  };

  static torch::Tensor unit(const torch::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

  KnowledgeBaseBuilderOptions options_;
  std::function<void(std::int64_t, double)> on_epoch_;
};

/// Writes the bank (`.npy`: the bank only; `.safetensors`: tensor `features`, plus `text_features`
/// and the projector weights when present), readable by `load_features`.
/// @throws vikcse::data_error for another extension or an undefined bank.
inline void save_knowledge_base(const std::filesystem::path& path, const BuiltKnowledgeBase& kb) {
  if (!kb.bank.defined()) throw_error<data_error>("{}: the knowledge base is empty", path.string());
  const auto ext = path.extension().string();
  if (ext == ".npy") {
    save_npy(path, kb.bank);
  } else if (ext == ".safetensors") {
    std::map<std::string, torch::Tensor> tensors{{"features", kb.bank.contiguous()}};
    if (kb.text_bank.defined()) tensors["text_features"] = kb.text_bank.contiguous();
    if (kb.image_projection.defined()) tensors["image_projection.weight"] = kb.image_projection.contiguous();
    if (kb.text_projection.defined()) tensors["text_projection.weight"] = kb.text_projection.contiguous();
    save_safetensors(path, tensors);
  } else {
    throw_error<data_error>("{}: unknown knowledge-base file type '{}' (expected .npy or .safetensors)", path.string(),
                            ext);
  }
}

}  // namespace vikcse
