// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file correlation.hpp
/// Pearson and Spearman correlation as `scipy.stats.pearsonr` / `spearmanr` compute them
/// (Spearman = Pearson of average ranks, ties share the mean of their ranks). Torch-free.

#include <vikcse/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

namespace vikcse {

/// Ranks 1..n of `values`, tied values sharing the average of their ranks
/// (`scipy.stats.rankdata(method='average')`). NaN is not allowed.
/// @throws vikcse::invalid_argument when a value is NaN.
inline std::vector<double> average_ranks(std::span<const double> values) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) throw_error<invalid_argument>("average_ranks: value {} is NaN (ranks need an order)", i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && values[order[j]] == values[order[i]]) ++j;
    // Positions i..j-1 (0-based) hold equal values: ranks i+1..j, average (i+1+j)/2.
    const double rank = 0.5 * static_cast<double>(i + 1 + j);
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

/// Pearson's correlation coefficient of `x` and `y`, clipped to [-1, 1] as scipy does.
/// Returns NaN when either input is constant (scipy warns and returns NaN too).
/// @throws vikcse::invalid_argument when the sizes differ or fewer than 2 values are given.
inline double pearson(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw_error<invalid_argument>("pearson: x has {} values but y has {}", x.size(), y.size());
  if (x.size() < 2) throw_error<invalid_argument>("pearson: need at least 2 values, got {}", x.size());
  const auto n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0.0;
  double syy = 0.0;
  double sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x;
    const double dy = y[i] - mean_y;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return std::numeric_limits<double>::quiet_NaN();
  const double r = sxy / (std::sqrt(sxx) * std::sqrt(syy));
  return std::clamp(r, -1.0, 1.0);
}

/// Spearman's rank correlation of `x` and `y`: Pearson of their average ranks.
/// Returns NaN when either input is constant.
/// @throws vikcse::invalid_argument when the sizes differ, fewer than 2 values are given, or a value is NaN.
inline double spearman(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw_error<invalid_argument>("spearman: x has {} values but y has {}", x.size(), y.size());
  const auto rx = average_ranks(x);
  const auto ry = average_ranks(y);
  return pearson(rx, ry);
}

}  // namespace vikcse
