// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file summary.hpp
/// The demo's statistics over seeds and its criteria: mean ± standard deviation cells, and a
/// difference judged against the spread of both rows.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace demo {

/// Mean and sample standard deviation (n − 1; 0 for one value) of a metric over seeds.
struct Stat {
  double mean = std::nan("");
  double sd = std::nan("");
  std::size_t n = 0;
};

inline Stat stat(const std::vector<double>& v) {
  Stat s;
  s.n = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

/// `mean ± sd` of `scale`·values (`mean` alone for one seed).
inline std::string cell(const Stat& s, double scale = 100.0, int digits = 2) {
  if (s.n == 0) return "-";
  if (s.n == 1) return fmt::format("{:.{}f}", scale * s.mean, digits);
  return fmt::format("{:.{}f} ± {:.{}f}", scale * s.mean, digits, scale * s.sd, digits);
}

/// One claim of the demo and whether this run met it.
struct Criterion {
  std::string claim;   ///< what must hold
  bool met = false;    ///< whether it held
  std::string detail;  ///< the numbers behind it
};

/// "`better` beats `worse` by at least 3 standard deviations", judged on matched runs: seed k of
/// both rows starts from the same initial encoder, data and batch order, so the claim is about the
/// per-seed differences d_k = better_k − worse_k: their mean must be at least 3 times their
/// standard deviation (and positive). With one seed there is no spread, and only the sign is judged.
inline Criterion beats(const std::string& claim, const std::vector<double>& better, const std::vector<double>& worse) {
  std::vector<double> d;
  for (std::size_t k = 0; k < std::min(better.size(), worse.size()); ++k) d.push_back(better[k] - worse[k]);
  const auto s = stat(d);
  Criterion c{claim, false, {}};
  if (s.n < 2) {
    c.met = s.n == 1 && s.mean > 0;
    c.detail = fmt::format("difference {:+.2f} points (one seed: the sign only)", 100 * s.mean);
  } else {
    c.met = s.mean > 0 && s.mean >= 3 * s.sd;
    c.detail = fmt::format("difference {:+.2f} ± {:.2f} points over {} seeds, {}", 100 * s.mean, 100 * s.sd, s.n,
                           s.sd > 0 ? fmt::format("{:.1f} sd", s.mean / s.sd) : std::string("no spread"));
  }
  return c;
}

}  // namespace demo
