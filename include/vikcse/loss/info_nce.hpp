// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file info_nce.hpp
/// The InfoNCE loss every method shares (README.md#infonce): cosine logits over a temperature,
/// cross-entropy with the diagonal as labels, one direction only, optional extra negatives; and
/// `InfoNCELoss`, the loss policy of the text-only methods (SimCSE, PromptBERT) built on it.
///
/// Under mixed precision these functions still compute in float32: they switch autocast off for
/// their device and take bf16/fp16 inputs up to float32. With τ = 0.05 the logits span ±20, where
/// bf16's 8-bit significand would round each one by up to 0.06 and the loss with it.

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <cstdint>

namespace vikcse {

/// Options of `info_nce`.
struct InfoNCEOptions {
  /// Temperature τ. Default: 0.05 (every method, every term).
  double temperature = 0.05;
  /// Additive logit bias on each row's own hard-negative column (SimCSE `hard_negative_weight`).
  /// Only used with `hard_negatives`. Default: 0.
  double hard_negative_weight = 0.0;
};

namespace detail {

/// Rows scaled to unit norm as `torch.nn.CosineSimilarity` guards them (norm clamped at 1e-8).
inline torch::Tensor unit_rows(const torch::Tensor& x) { return x / x.norm(2, -1, /*keepdim=*/true).clamp_min(1e-8); }

inline void check_rows(const torch::Tensor& t, const char* what, std::int64_t dim) {
  TORCH_CHECK(t.defined() && t.dim() == 2, "info_nce: ", what, " must be a [rows, dim] tensor, got ",
              t.defined() ? t.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(t.size(1) == dim, "info_nce: ", what, " has dimension ", t.size(1), ", anchors have ", dim);
}

}  // namespace detail

/// Cosine logits `S_ij = cos(a_i, c_j) / τ`, `[N, M]`.
inline torch::Tensor cosine_logits(const torch::Tensor& anchors, const torch::Tensor& candidates, double temperature) {
  const detail::AutocastGuard float32(anchors.device().type(), /*enabled=*/false);
  return torch::mm(detail::unit_rows(detail::at_least_float32(anchors)),
                   detail::unit_rows(detail::at_least_float32(candidates)).t()) /
         temperature;
}

/// InfoNCE of anchors `[N, d]` against positives `[N, d]` (row i is row i's positive) and the
/// other rows as negatives, plus optional `hard_negatives` `[N, d]` (row i is row i's hard
/// negative; every row is a negative for every anchor) and optional `extra_negatives` `[K, d]`
/// shared by all anchors (VIKCSE "Test3").
///
/// `L = mean_i [ -S_ii + log sum_j exp(S_ij) ]`.
/// @throws c10::Error (TORCH_CHECK) on shape mismatches, with the sizes found.
inline torch::Tensor info_nce(const torch::Tensor& anchors, const torch::Tensor& positives,
                              const InfoNCEOptions& options = {}, const torch::Tensor& hard_negatives = {},
                              const torch::Tensor& extra_negatives = {}) {
  TORCH_CHECK(anchors.defined() && anchors.dim() == 2, "info_nce: anchors must be a [rows, dim] tensor, got ",
              anchors.defined() ? anchors.sizes() : torch::IntArrayRef{});
  const auto n = anchors.size(0);
  const auto d = anchors.size(1);
  TORCH_CHECK(n > 0, "info_nce: the batch is empty");
  if (!(options.temperature > 0.0)) {
    throw_error<invalid_argument>("info_nce: temperature must be > 0, got {}", options.temperature);
  }
  const detail::AutocastGuard float32(anchors.device().type(), /*enabled=*/false);
  detail::check_rows(positives, "positives", d);
  TORCH_CHECK(positives.size(0) == n, "info_nce: ", n, " anchors but ", positives.size(0), " positives");
  auto candidates = detail::at_least_float32(positives);
  if (hard_negatives.defined()) {
    detail::check_rows(hard_negatives, "hard_negatives", d);
    TORCH_CHECK(hard_negatives.size(0) == n, "info_nce: ", n, " anchors but ", hard_negatives.size(0),
                " hard negatives");
    candidates = torch::cat({candidates, detail::at_least_float32(hard_negatives)}, 0);
  }
  if (extra_negatives.defined() && extra_negatives.size(0) > 0) {
    detail::check_rows(extra_negatives, "extra_negatives", d);
    candidates = torch::cat({candidates, detail::at_least_float32(extra_negatives)}, 0);
  }
  auto logits = cosine_logits(anchors, candidates, options.temperature);
  if (hard_negatives.defined() && options.hard_negative_weight != 0.0) {
    auto bias = torch::zeros_like(logits);
    const auto rows = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
    bias.index_put_({rows, rows + n}, options.hard_negative_weight);
    logits = logits + bias;
  }
  const auto labels = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(logits.device()));
  return torch::nn::functional::cross_entropy(logits, labels);
}

/// CLIP's symmetric InfoNCE of paired rows `a` `[N, D]`, `b` `[N, D]` (row i ↔ row i):
/// `½ [CE(S, 0..N−1) + CE(Sᵀ, 0..N−1)]` with `S = â b̂ᵀ / τ`.
inline torch::Tensor symmetric_info_nce(const torch::Tensor& a, const torch::Tensor& b, double temperature) {
  namespace F = torch::nn::functional;
  const detail::AutocastGuard float32(a.device().type(), /*enabled=*/false);
  const auto an = F::normalize(detail::at_least_float32(a), F::NormalizeFuncOptions().dim(-1));
  const auto bn = F::normalize(detail::at_least_float32(b), F::NormalizeFuncOptions().dim(-1));
  const auto logits = torch::mm(an, bn.t()) / temperature;
  const auto labels = torch::arange(a.size(0), torch::TensorOptions().dtype(torch::kLong).device(a.device()));
  return 0.5 * (F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels));
}

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
