// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file similarity.hpp
/// Pairwise scores of two embedding matrices, as sentence-transformers' `util.cos_sim` and
/// `util.dot_score`: `[N, D] x [M, D] -> [N, M]`.
///
/// Example:
/// ```
/// auto s = vikcse::cos_sim(a, b);  // s[i][j] = cos(a[i], b[j])
/// ```

#include <vikcse/error.hpp>
#include <vikcse/loss/info_nce.hpp>

#include <torch/torch.h>

#include <string_view>

namespace vikcse {

/// How two embeddings are scored.
enum class ScoreFunction {
  cosine,  ///< `a·b / (‖a‖ ‖b‖)` (a zero row scores 0)
  dot,     ///< `a·b`
};

namespace detail::search {
/// Checks that `a` `[N, D]` and `b` `[M, D]` can be scored against each other.
inline void check_pair(const torch::Tensor& a, const torch::Tensor& b, std::string_view what) {
  for (const auto* t : {&a, &b}) {
    if (!t->defined() || t->dim() != 2) {
      throw_error<invalid_argument>("{}: expected two [rows, dim] matrices, got a tensor with {} dimensions", what,
                                    t->defined() ? t->dim() : 0);
    }
  }
  if (a.size(1) != b.size(1)) {
    throw_error<invalid_argument>("{}: the embeddings have dimensions {} and {}", what, a.size(1), b.size(1));
  }
}
}  // namespace detail::search

/// `[N, M]` cosine similarities of the rows of `a` `[N, D]` and `b` `[M, D]`.
/// @throws vikcse::invalid_argument for non-2-D inputs or different widths.
inline torch::Tensor cos_sim(const torch::Tensor& a, const torch::Tensor& b) {
  detail::search::check_pair(a, b, "cos_sim");
  return torch::mm(detail::unit_rows(a), detail::unit_rows(b.to(a.dtype())).t());
}

/// `[N, M]` dot products of the rows of `a` `[N, D]` and `b` `[M, D]`.
/// @throws vikcse::invalid_argument for non-2-D inputs or different widths.
inline torch::Tensor dot_score(const torch::Tensor& a, const torch::Tensor& b) {
  detail::search::check_pair(a, b, "dot_score");
  return torch::mm(a, b.to(a.dtype()).t());
}

}  // namespace vikcse
