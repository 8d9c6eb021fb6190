// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file torch_compat.hpp
/// The one place where differences between LibTorch versions (Debian's 1.13, pip's 2.x) are guarded.

#include <torch/torch.h>
#include <torch/version.h>

namespace vikcse::detail {

/// True where LibTorch has at::scaled_dot_product_attention (2.0 and later).
inline constexpr bool has_sdpa = TORCH_VERSION_MAJOR >= 2;

/// softmax(q k^T / sqrt(d) + bias) v with dropout on the probabilities. Uses the fused kernel where
/// the LibTorch version has one.
/// @param query, key, value [B, heads, T, d]
/// @param bias additive attention bias broadcastable to [B, heads, T, T] (0 keep, large negative drop)
inline torch::Tensor attention(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                               const torch::Tensor& bias, double dropout, bool training) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(query, key, value, bias, training ? dropout : 0.0);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
  auto scores = torch::matmul(query, key.transpose(-1, -2)) * scale + bias;
  auto probs = torch::softmax(scores, -1);
  probs = torch::dropout(probs, dropout, training);
  return torch::matmul(probs, value);
#endif
}

}  // namespace vikcse::detail
