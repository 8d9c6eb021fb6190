// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file data_parallel.hpp
/// What `Trainer` needs to train data-parallel, as an interface free of c10d: `DataParallel`
/// (rank, world size and five collectives) and the sharding of a step's global batch over the
/// ranks (the host gathers the pooled views back into the global batch: `model/row_gather.hpp`).
/// `vikcse/distributed/data_parallel.hpp` implements the interface over LibTorch's c10d (Gloo on
/// CPU, NCCL on CUDA); the Trainer and the umbrella header never need c10d or Gloo.
///
/// How a step runs on W ranks (the reasoning is in `vikcse/distributed/all_gather.hpp`):
/// 1. every rank builds the same global batch (same seed, same order) and keeps its rows
///    `[r·N/W, (r+1)·N/W)` (`shard_rows`);
/// 2. the encoder and pooler embed the local rows; the views (and MCSE's image features) are
///    all-gathered in rank order, this rank's rows keeping their gradient (`gather_views`, through
///    the host's `forward(batch, gather)`);
/// 3. every rank computes the same global loss, the one a single process computes on the whole
///    batch, with negatives from every rank;
/// 4. gradients are summed over ranks for the parameters that saw only local rows (encoder,
///    pooler, knowledge policy) and averaged for the loss policy's own parameters (VIKCSE's
///    projectors, MCSE's heads), which saw every row on every rank; the sum of the first kind and
///    the (identical) value of the second are single-process training's gradient.

#include <vikcse/error.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace vikcse {

/// The collectives of data-parallel training. Every rank must call each in the same order.
class DataParallel {
public:
  virtual ~DataParallel() = default;
  /// This process's rank, `0..world_size()-1`.
  [[nodiscard]] virtual int rank() const = 0;
  /// Number of processes.
  [[nodiscard]] virtual int world_size() const = 0;
  /// Every rank's `local` rows concatenated along dim 0 in rank order; this rank's rows are `local`
  /// itself (autograd flows into it), the others are constants. Dim 0 may differ between ranks.
  [[nodiscard]] virtual torch::Tensor all_gather_rows(const torch::Tensor& local) const = 0;
  /// Sums (`average` false) or averages the gradients of `parameters` over the ranks, in place.
  virtual void all_reduce_gradients(const std::vector<torch::Tensor>& parameters, bool average) const = 0;
  /// Overwrites `tensors` on every rank with rank 0's values, in place.
  virtual void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) const = 0;
  /// The largest `value` over the ranks (how the ranks agree to stop together).
  [[nodiscard]] virtual double all_reduce_max(double value) const = 0;
  /// Returns when every rank has called it.
  virtual void barrier() const = 0;
};

namespace detail {

/// Rank `rank`'s rows `[begin, end)` of a batch of `rows` rows over `world` ranks: the first
/// `rows % world` ranks take one row more.
inline std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t rows, int rank, int world) {
  const auto base = rows / world;
  const auto extra = rows % world;
  const auto begin = rank * base + std::min<std::int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace detail

/// Rank `rank`'s share of a step's global batch (of `world` ranks): rows `shard_range` of every
/// view, of the image features, and of `mask_rows` (renumbered from the shard's first row).
/// @throws vikcse::invalid_argument when the batch has fewer rows than there are ranks.
inline TrainingBatch shard_rows(const TrainingBatch& batch, int rank, int world) {
  if (world == 1) return batch;
  const auto rows = batch.first.input_ids.size(0);
  if (rows < world) {
    throw_error<invalid_argument>(
        "data-parallel training: a batch of {} rows cannot feed {} ranks (each needs at least one row); use a "
        "batch size of at least the number of ranks, and a corpus whose last batch is not smaller",
        rows, world);
  }
  const auto [begin, end] = detail::shard_range(rows, rank, world);
  const auto slice = [begin = begin, end = end](const torch::Tensor& t) { return t.slice(0, begin, end); };
  TrainingBatch out;
  out.first = batch.first.map(slice);
  out.second = batch.second.map(slice);
  if (batch.hard_negative) out.hard_negative = batch.hard_negative->map(slice);
  if (batch.image_features.defined()) out.image_features = slice(batch.image_features);
  if (batch.mask_rows.defined()) {
    const auto keep = (batch.mask_rows >= begin).logical_and(batch.mask_rows < end);
    out.mask_rows = batch.mask_rows.masked_select(keep) - begin;
  }
  return out;
}

}  // namespace vikcse
