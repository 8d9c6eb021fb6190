// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file multimodal_loss.hpp
/// `MultimodalInfoNCELoss` (MCSE, README.md#mcse): `L_intra = InfoNCE(z_1, z_2; τ)` and, on
/// paired steps, `L = L_intra + λ · ½ [InfoNCE(g_t(h_1), g_v(x); τ_vl) + InfoNCE(g_t(h_2), g_v(x); τ_vl)]`
/// with the grounding heads `g_t`, `g_v` (Linear + tanh + L2-normalise) applied to the raw [CLS]
/// state and to the fixed image features.

#include <vikcse/concepts/context.hpp>
#include <vikcse/heads/tanh_projection.hpp>
#include <vikcse/loss/info_nce.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>

namespace vikcse {

/// Options of `MultimodalInfoNCELoss`.
struct MultimodalInfoNCELossOptions {
  /// @param hidden_size encoder H; @param image_dim image-feature size Dv (2048 for ResNet-50).
  MultimodalInfoNCELossOptions(std::int64_t hidden_size, std::int64_t image_dim = 2048)
      : hidden_size_(hidden_size), image_dim_(image_dim) {}
  /// Encoder hidden size H.
  TORCH_ARG(std::int64_t, hidden_size);
  /// Image-feature size Dv. Default: 2048.
  TORCH_ARG(std::int64_t, image_dim);
  /// Shared grounding-space size. Default: 256.
  TORCH_ARG(std::int64_t, proj_dim) = 256;
  /// Text–text temperature τ. Default: 0.05.
  TORCH_ARG(double, temperature) = 0.05;
  /// Text→image temperature τ_vl. Default: 0.05.
  TORCH_ARG(double, temperature_vl) = 0.05;
  /// Weight λ of the text→image term. Default: 0.01 (wiki+flickr / wiki+coco scripts).
  TORCH_ARG(double, lambda) = 0.01;
};

/// MCSE's loss. Submodules `text_head` (g_t) and `image_head` (g_v).
class MultimodalInfoNCELossImpl : public torch::nn::Cloneable<MultimodalInfoNCELossImpl> {
public:
  explicit MultimodalInfoNCELossImpl(const MultimodalInfoNCELossOptions& options) : options(options) { reset(); }

  void reset() override {
    text_head = register_module(
        "text_head", TanhProjection(TanhProjectionOptions(options.hidden_size(), options.proj_dim()).normalize(true)));
    image_head = register_module(
        "image_head", TanhProjection(TanhProjectionOptions(options.image_dim(), options.proj_dim()).normalize(true)));
  }

  /// Terms `intra` and, on paired steps, `inter`.
  LossOutput forward(const ContrastiveViews& views, const PairedImageContext& context) {
    auto intra = info_nce(views.first.z, views.second.z, {options.temperature()});
    LossOutput out{intra, {{"intra", intra.detach()}}};
    if (context.features.defined()) {
      const auto v = image_head(context.features.to(views.first.cls.dtype()));
      const auto inter = 0.5 * (info_nce(text_head(views.first.cls), v, {options.temperature_vl()}) +
                                info_nce(text_head(views.second.cls), v, {options.temperature_vl()}));
      out.total = intra + options.lambda() * inter;
      out.terms["inter"] = inter.detach();
    }
    return out;
  }
  /// τ.
  [[nodiscard]] double temperature() const { return options.temperature(); }

  MultimodalInfoNCELossOptions options;
  TanhProjection text_head{nullptr};
  TanhProjection image_head{nullptr};
};
/// Holder of `MultimodalInfoNCELossImpl`.
TORCH_MODULE(MultimodalInfoNCELoss);

}  // namespace vikcse
