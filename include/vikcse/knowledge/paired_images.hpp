// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file paired_images.hpp
/// `PairedImageFeatures` (MCSE): the knowledge of a step is the image-feature row of each caption,
/// supplied with the batch (`TrainingBatch::image_features`); text-only steps carry none.

#include <vikcse/concepts/context.hpp>
#include <vikcse/error.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>

namespace vikcse {

/// Options of `PairedImageFeatures`.
struct PairedImageFeaturesOptions {
  /* implicit */ PairedImageFeaturesOptions(std::int64_t feature_dim = 2048) : feature_dim_(feature_dim) {}
  /// Image-feature dimension Dv. Default: 2048 (ResNet-50 pooled features).
  TORCH_ARG(std::int64_t, feature_dim);
};

/// Image features paired with captions (MCSE). No parameters; it only checks the batch's features.
class PairedImageFeaturesImpl : public torch::nn::Cloneable<PairedImageFeaturesImpl> {
public:
  using context_type = PairedImageContext;
  explicit PairedImageFeaturesImpl(PairedImageFeaturesOptions options = {}) : options(options) {}
  void reset() override {}

  /// The batch's image features (validated: `[N, Dv]`, finite); undefined on text-only steps.
  /// @throws vikcse::invalid_argument on a wrong shape or non-finite values.
  PairedImageContext context(const TrainingBatch& batch) const {
    const auto& f = batch.image_features;
    if (!f.defined()) return {};
    const auto n = batch.first.input_ids.size(0);
    if (f.dim() != 2 || f.size(0) != n || f.size(1) != options.feature_dim()) {
      throw_error<invalid_argument>("paired image features: expected [{}, {}] for a batch of {} captions, got [{}]", n,
                                    options.feature_dim(), n, fmt::join(f.sizes(), ", "));
    }
    if (!torch::isfinite(f).all().item<bool>()) {
      throw_error<invalid_argument>("paired image features: the batch's features contain NaN or Inf");
    }
    return {f};
  }
  /// Dv.
  [[nodiscard]] std::int64_t feature_dim() const { return options.feature_dim(); }

  PairedImageFeaturesOptions options;
};
/// Holder of `PairedImageFeaturesImpl`.
TORCH_MODULE(PairedImageFeatures);

}  // namespace vikcse
