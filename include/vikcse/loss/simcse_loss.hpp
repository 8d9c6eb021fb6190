// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file simcse_loss.hpp
/// `InfoNCELoss`: the text-only contrastive loss of SimCSE (unsupervised and supervised) and
/// PromptBERT: `InfoNCE(z_1, z_2 [, z_hard]; τ)` on the views' training representations.

#include <vikcse/loss/info_nce.hpp>
#include <vikcse/model/views.hpp>

#include <torch/torch.h>

namespace vikcse {

/// Options of `InfoNCELoss`.
struct InfoNCELossOptions {
  /// Temperature τ. Default: 0.05.
  TORCH_ARG(double, temperature) = 0.05;
  /// Logit bias on each anchor's own hard negative (supervised SimCSE). Default: 0.
  TORCH_ARG(double, hard_negative_weight) = 0.0;
};

/// In-batch InfoNCE over the two views (plus hard negatives when the batch has them). It ignores
/// any knowledge context, so it composes with every knowledge policy.
class InfoNCELossImpl : public torch::nn::Cloneable<InfoNCELossImpl> {
public:
  explicit InfoNCELossImpl(InfoNCELossOptions options = {}) : options(options) {}
  void reset() override {}

  /// `L = InfoNCE(first.z, second.z [, hard_negative.z])`; term `text`.
  /// @tparam Context any knowledge context (ignored).
  template <typename Context>
  LossOutput forward(const ContrastiveViews& views, const Context& /*context*/) {
    auto loss = info_nce(views.first.z, views.second.z, {options.temperature(), options.hard_negative_weight()},
                         views.hard_negative ? views.hard_negative->z : torch::Tensor{});
    return {loss, {{"text", loss.detach()}}};
  }
  /// τ.
  [[nodiscard]] double temperature() const { return options.temperature(); }

  InfoNCELossOptions options;
};
/// Holder of `InfoNCELossImpl`.
TORCH_MODULE(InfoNCELoss);

}  // namespace vikcse
