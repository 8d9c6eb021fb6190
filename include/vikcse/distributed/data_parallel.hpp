// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file data_parallel.hpp
/// `ProcessGroupDataParallel`: the Trainer's `DataParallel` over a c10d `ProcessGroup` (Gloo on
/// CPU, NCCL on CUDA), and `data_parallel_from_env`, which joins the group torchrun's variables
/// describe. Link `vikcse::distributed`.
///
/// Example (each of N processes, started by torchrun or by hand with RANK, WORLD_SIZE,
/// MASTER_ADDR, MASTER_PORT set):
/// ```
/// auto dp = vikcse::data_parallel_from_env();   // nullptr when WORLD_SIZE is unset or 1
/// vikcse::Trainer trainer(vikcse::TrainerOptions().data_parallel(dp).output_dir("out"));
/// trainer.fit(model, source, evaluate);          // same call on every rank
/// ```

#include <vikcse/distributed/all_gather.hpp>
#include <vikcse/distributed/process_group.hpp>
#include <vikcse/model/data_parallel.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

namespace vikcse {

/// `DataParallel` over a `ProcessGroup`.
class ProcessGroupDataParallel final : public DataParallel {
public:
  /// @param group the process group; @param device where small control tensors travel (CPU for
  /// Gloo, this process's CUDA device for NCCL).
  explicit ProcessGroupDataParallel(ProcessGroup group, torch::Device device = torch::kCPU)
      : group_(std::move(group)), device_(device) {}

  [[nodiscard]] int rank() const override { return group_.rank(); }
  [[nodiscard]] int world_size() const override { return group_.world_size(); }
  [[nodiscard]] torch::Tensor all_gather_rows(const torch::Tensor& local) const override {
    return all_gather_with_local_grad(group_, local);
  }
  void all_reduce_gradients(const std::vector<torch::Tensor>& parameters, bool average) const override {
    vikcse::all_reduce_gradients(parameters, group_, average ? GradientReduction::mean : GradientReduction::sum);
  }
  void broadcast_from_rank0(const std::vector<torch::Tensor>& tensors) const override {
    broadcast_parameters(tensors, group_, 0);
  }
  [[nodiscard]] double all_reduce_max(double value) const override {
    const auto all = group_.all_gather(torch::full({1}, value, torch::TensorOptions(torch::kDouble).device(device_)));
    double out = value;
    for (const auto& t : all) out = std::max(out, t.item<double>());
    return out;
  }
  void barrier() const override { group_.barrier(); }
  /// The group.
  [[nodiscard]] const ProcessGroup& group() const { return group_; }

private:
  ProcessGroup group_;
  torch::Device device_;
};

/// Joins the process group of torchrun's variables (`process_group_options_from_env`) and wraps it
/// for `TrainerOptions::data_parallel`; nullptr for a world of one (WORLD_SIZE unset or 1).
/// Blocks until every rank has joined.
/// @throws vikcse::invalid_argument on malformed variables; c10::Error when the rendezvous fails.
[[nodiscard]] inline std::shared_ptr<const DataParallel> data_parallel_from_env(ProcessGroupOptions defaults = {}) {
  const auto options = process_group_options_from_env(std::move(defaults));
  if (options.world_size == 1) return nullptr;
  // NCCL moves CUDA tensors only: the small control tensors travel on this process's GPU.
  const auto device = options.backend == DistributedBackend::nccl
                          ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(options.local_rank))
                          : torch::Device(torch::kCPU);
  return std::make_shared<ProcessGroupDataParallel>(make_process_group(options), device);
}

}  // namespace vikcse
