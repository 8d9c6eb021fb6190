// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file all_gather.hpp
/// Data-parallel pieces of contrastive training (README.md#infonce, last bullet):
/// `all_gather_with_local_grad` (every rank sees the global batch of embeddings; its own shard
/// keeps its gradient, the other ranks' shards are constants, as SimCSE does on several GPUs),
/// `all_reduce_gradients` and `broadcast_parameters`.
///
/// ## Which gradient reduction makes data-parallel training equal single-process training
///
/// Let W ranks hold shards B_0..B_{W-1} of a global batch B of N rows, and let every rank compute
/// the embeddings Z_r = f_θ(B_r) of its shard. With `all_gather_with_local_grad` every rank builds
/// the same global matrix Z = [Z_0; ...; Z_{W-1}] and the same loss value L(Z) (for InfoNCE the
/// mean over all N anchors, with negatives from the whole global batch) — exactly the loss a single
/// process computes on B. The only difference is where the gradient flows: on rank r the other
/// shards are constants, so backward yields
///
///     g_r = Σ_{j ∈ B_r} (∂L/∂z_j) (∂z_j/∂θ),
///
/// the part of the chain rule that passes through rank r's rows. Each row belongs to exactly one
/// shard and L depends on θ only through the rows, hence the single-process gradient is
///
///     ∇_θ L = Σ_r g_r        (a SUM over ranks, no division by W).
///
/// So with the all-gather trick use `GradientReduction::sum`. Averaging (`mean`, what PyTorch DDP
/// and therefore SimCSE's multi-GPU runs through the Hugging Face Trainer do) gives ∇L / W: for
/// SGD the same as a learning rate divided by W; Adam(W) is nearly invariant to the scale (up to
/// its ε), which is why it goes unnoticed there. Equivalently one may average after multiplying
/// the loss by W.
///
/// `GradientReduction::mean` is right for the other common case, a loss computed from the LOCAL
/// shard only (each rank's L_r is a mean over its n rows, equal shard sizes): then the global mean
/// loss is (1/W) Σ_r L_r and its gradient is the average of the ranks' gradients. Either way the
/// result is exact only if every rank starts from the same parameters (`broadcast_parameters`) and
/// runs the same optimizer on the reduced gradients; dropout masks differ from a single-process run
/// unless dropout is off or the random streams are aligned.

#include <vikcse/distributed/process_group.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace vikcse {

/// How `all_reduce_gradients` combines the ranks' gradients (see the file comment).
enum class GradientReduction {
  sum,   ///< Σ_r g_r: the loss is global on every rank (all-gathered contrastive loss).
  mean,  ///< (1/W) Σ_r g_r: each rank's loss is a mean over its own equal-sized shard (plain DDP).
};

namespace detail {

/// Maximum tensor rank `all_gather_with_local_grad` accepts.
inline constexpr std::int64_t kMaxGatherDims = 8;

/// "d1,d2,..." from a metadata row of `gathered_rows` (the sizes after dim 0).
inline std::string sizes_after_first(const torch::Tensor& meta) {
  std::string out;
  const auto ndim = meta[0].item<std::int64_t>();
  for (std::int64_t d = 1; d < ndim && d < kMaxGatherDims; ++d) {
    if (!out.empty()) out += ',';
    out += std::to_string(meta[2 + d].item<std::int64_t>());
  }
  return out.empty() ? "none" : out;
}

/// Sizes (and dtype) of `local` on every rank, validated for concatenation along dim 0.
inline std::vector<std::int64_t> gathered_rows(const ProcessGroup& group, const torch::Tensor& local) {
  // [ndim, dtype, size_0, ..., size_{kMaxGatherDims-1}] per rank, -1 padded.
  auto meta = torch::full({2 + kMaxGatherDims}, -1, torch::TensorOptions().dtype(torch::kLong));
  meta[0] = local.dim();
  meta[1] = static_cast<std::int64_t>(local.scalar_type());
  for (std::int64_t d = 0; d < local.dim(); ++d) meta[2 + d] = local.size(d);
  const auto all = group.all_gather(meta.to(local.device()));
  std::vector<std::int64_t> rows;
  rows.reserve(all.size());
  const auto mine = meta.index({torch::indexing::Slice(0, 2)});
  const auto trailing = meta.index({torch::indexing::Slice(3, torch::indexing::None)});
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto other = all[r].to(torch::kCPU);
    if (!other.index({torch::indexing::Slice(0, 2)}).equal(mine) ||
        !other.index({torch::indexing::Slice(3, torch::indexing::None)}).equal(trailing)) {
      throw_error<invalid_argument>(
          "all_gather_with_local_grad: rank {} holds a tensor of {} dims (dtype code {}, sizes after dim 0 {}), "
          "rank {} one of {} dims (dtype code {}); all but dim 0 must match",
          r, other[0].item<std::int64_t>(), other[1].item<std::int64_t>(), sizes_after_first(other), group.rank(),
          local.dim(), static_cast<std::int64_t>(local.scalar_type()));
    }
    rows.push_back(other[2].item<std::int64_t>());
  }
  return rows;
}

}  // namespace detail

/// The concatenation along dim 0 of every rank's `local` tensor, in rank order. The rows of this
/// rank are `local` itself (autograd flows into it); the other ranks' rows are constants.
/// Shards may differ in dim 0 (they are padded for the transport); all other sizes and the dtype
/// must match across ranks. With a world of one, returns `local`.
/// @throws vikcse::invalid_argument when `local` is undefined, a scalar, has more than 8
///         dimensions, or the ranks' shapes/dtypes are incompatible.
[[nodiscard]] inline torch::Tensor all_gather_with_local_grad(const ProcessGroup& group, const torch::Tensor& local) {
  if (!local.defined() || local.dim() < 1 || local.dim() > detail::kMaxGatherDims) {
    throw_error<invalid_argument>("all_gather_with_local_grad: expected a tensor with 1..{} dimensions, got {}",
                                  detail::kMaxGatherDims, local.defined() ? local.dim() : 0);
  }
  if (group.world_size() == 1) return local;
  const auto rows = detail::gathered_rows(group, local);
  const auto max_rows = *std::max_element(rows.begin(), rows.end());
  auto padded = local.detach();
  if (padded.size(0) < max_rows) {
    auto sizes = padded.sizes().vec();
    sizes[0] = max_rows - padded.size(0);
    padded = torch::cat({padded, torch::zeros(sizes, padded.options())}, 0);
  }
  auto gathered = group.all_gather(padded);
  std::vector<torch::Tensor> parts;
  parts.reserve(gathered.size());
  for (std::size_t r = 0; r < gathered.size(); ++r) {
    if (static_cast<int>(r) == group.rank()) {
      parts.push_back(local);
    } else {
      parts.push_back(gathered[r].narrow(0, 0, rows[r]));
    }
  }
  return torch::cat(parts, 0);
}

/// All-reduces the `.grad()` of `parameters` over the group, in place, combined as `reduction`
/// says (see the file comment for which one reproduces single-process training). Parameters that
/// do not require grad are left alone; a missing gradient takes part as zeros (and is then
/// defined), so every rank sends the same buffers. Gradients are flattened into one buffer per
/// dtype and device (one collective each).
/// @tparam Parameters a range of `torch::Tensor` (e.g. `module->parameters()`).
template <typename Parameters>
void all_reduce_gradients(const Parameters& parameters, const ProcessGroup& group, GradientReduction reduction) {
  if (group.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::map<std::tuple<int, int, int>, std::vector<torch::Tensor>> buckets;
  for (const torch::Tensor& p : parameters) {
    if (!p.requires_grad()) continue;
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    const auto& g = p.grad();
    buckets[{static_cast<int>(g.scalar_type()), static_cast<int>(g.device().type()), g.device().index()}].push_back(g);
  }
  const double scale = reduction == GradientReduction::mean ? 1.0 / group.world_size() : 1.0;
  for (auto& [key, grads] : buckets) {
    std::vector<torch::Tensor> flat;
    flat.reserve(grads.size());
    for (const auto& g : grads) flat.push_back(g.reshape(-1));
    std::vector<torch::Tensor> buffer{torch::cat(flat, 0)};
    group.all_reduce_sum_(buffer);
    if (scale != 1.0) buffer.front().mul_(scale);
    std::int64_t offset = 0;
    for (auto& g : grads) {
      g.copy_(buffer.front().narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
  }
}

/// Overwrites `tensors` (parameters and buffers) on every rank with rank `root`'s values, so that
/// all ranks start identical. Flattened into one buffer per dtype and device.
/// @tparam Tensors a range of `torch::Tensor` (e.g. `module->parameters()` or `->buffers()`).
template <typename Tensors>
void broadcast_parameters(const Tensors& tensors, const ProcessGroup& group, int root = 0) {
  if (group.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::map<std::tuple<int, int, int>, std::vector<torch::Tensor>> buckets;
  for (const torch::Tensor& t : tensors) {
    buckets[{static_cast<int>(t.scalar_type()), static_cast<int>(t.device().type()), t.device().index()}].push_back(t);
  }
  for (auto& [key, list] : buckets) {
    std::vector<torch::Tensor> flat;
    flat.reserve(list.size());
    for (const auto& t : list) flat.push_back(t.reshape(-1));
    std::vector<torch::Tensor> buffer{torch::cat(flat, 0)};
    group.broadcast_(buffer, root);
    std::int64_t offset = 0;
    for (auto& t : list) {
      auto target = t;  // shares storage
      target.copy_(buffer.front().narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

}  // namespace vikcse
