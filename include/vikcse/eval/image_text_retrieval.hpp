// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file image_text_retrieval.hpp
/// The zero-shot retrieval check of stage 1: image i and caption i are a pair; every caption ranks
/// all images (text→image) and every image ranks all captions (image→text) by cosine similarity, and
/// Recall@k is the share of queries whose partner is among the first k. Ties are broken by row
/// order (a stable sort of the scores, descending), so the ranks equal numpy's
/// `argsort(-scores, kind="stable")`.

#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <vector>

namespace vikcse {

/// Recall@k in both directions, in percent.
struct ImageTextRecall {
  std::int64_t pairs = 0;
  std::map<std::int64_t, double> image_to_text;  ///< k -> R@k (%)
  std::map<std::int64_t, double> text_to_image;  ///< k -> R@k (%)
};

namespace detail {

/// The 0-based rank of each row's diagonal entry among its row, ties broken by column order.
inline torch::Tensor diagonal_ranks(const torch::Tensor& scores) {
  const auto n = scores.size(0);
  const auto diag = scores.diagonal().unsqueeze(1);
  const auto cols = torch::arange(n, torch::kLong).unsqueeze(0);
  const auto rows = torch::arange(n, torch::kLong).unsqueeze(1);
  return (scores > diag).sum(1) + ((scores == diag) & (cols < rows)).sum(1);
}

}  // namespace detail

/// Recall@`ks` of the pairs (image[i], text[i]); rows are L2-normalised here.
/// @throws vikcse::invalid_argument for matrices that are not [N, D] with the same N and D, N > 0.
inline ImageTextRecall image_text_recall(const torch::Tensor& image, const torch::Tensor& text,
                                         const std::vector<std::int64_t>& ks = {1, 5, 10}) {
  if (!image.defined() || !text.defined() || image.dim() != 2 || text.dim() != 2 || image.sizes() != text.sizes() ||
      image.size(0) == 0) {
    throw_error<invalid_argument>("image_text_recall: expected two [N, D] matrices of the same shape, N > 0");
  }
  namespace F = torch::nn::functional;
  const auto i = F::normalize(image.to(torch::kCPU, torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const auto t = F::normalize(text.to(torch::kCPU, torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const auto scores = torch::matmul(t, i.t());  // [texts, images]
  const auto t2i = detail::diagonal_ranks(scores);
  const auto i2t = detail::diagonal_ranks(scores.t().contiguous());
  ImageTextRecall r;
  r.pairs = image.size(0);
  for (auto k : ks) {
    r.text_to_image[k] = 100.0 * (t2i < k).to(torch::kDouble).mean().item<double>();
    r.image_to_text[k] = 100.0 * (i2t < k).to(torch::kDouble).mean().item<double>();
  }
  return r;
}

}  // namespace vikcse
