// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file alignment_uniformity.hpp
/// Alignment and uniformity (Wang & Isola, 2020) as MCSE's SentEval copy computes them per batch:
/// `align = mean_i ||x_i - y_i||^2` over L2-normalised positive pairs, and
/// `uniform = log mean_{i<j} exp(-2 ||z_i - z_j||^2)` over all normalised rows of the batch.

#include <torch/torch.h>

namespace vikcse {

/// Alignment of paired rows `x`, `y` (`[N, D]`): mean squared distance after L2 normalisation
/// (`F.normalize`, eps 1e-12). Computed in float64. Returns 0 for an empty batch, as MCSE does.
inline double alignment(const torch::Tensor& x, const torch::Tensor& y) {
  if (x.numel() == 0 || y.numel() == 0) return 0.0;
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  const auto nx = F::normalize(x.to(torch::kDouble), F::NormalizeFuncOptions().p(2).dim(1));
  const auto ny = F::normalize(y.to(torch::kDouble), F::NormalizeFuncOptions().p(2).dim(1));
  return (nx - ny).norm(2, 1).pow(2).mean().item<double>();
}

/// Uniformity of the rows of `z` (`[N, D]`): `log mean_{i<j} exp(-t ||z_i - z_j||^2)` after L2
/// normalisation, t = 2. Computed in float64. Returns 0 for an empty input, as MCSE does
/// (a single row has no pairs: NaN, as torch's mean of an empty tensor).
inline double uniformity(const torch::Tensor& z, double t = 2.0) {
  if (z.numel() == 0) return 0.0;
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  const auto nz = F::normalize(z.to(torch::kDouble), F::NormalizeFuncOptions().p(2).dim(1));
  return torch::pdist(nz, 2).pow(2).mul(-t).exp().mean().log().item<double>();
}

}  // namespace vikcse
