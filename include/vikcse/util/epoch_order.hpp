// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file epoch_order.hpp
/// The seeded order of the items of one epoch, shared by every training loop (stage 2's batch
/// sources and stage 1's projector training), so that resuming at (epoch, step) continues it.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace vikcse {

/// The permutation of `n` items for `epoch` (seeded: `seed + epoch`).
inline std::vector<std::size_t> epoch_order(std::size_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed + static_cast<std::uint64_t>(epoch));
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace vikcse
