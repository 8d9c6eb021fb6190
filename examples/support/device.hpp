// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file device.hpp
/// The device a program's `--device` names (checked first by cli_checks.hpp's `device_name`).

#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <string>

namespace vikcse::cli {

/// `cpu`, `cuda` (GPU `cuda_index`: 0, or the local rank under torchrun) or `cuda:N`.
/// @throws vikcse::invalid_argument when this LibTorch sees no CUDA device, or not GPU N.
inline torch::Device resolve_device(const std::string& name, int cuda_index = 0) {
  if (name == "cpu") return torch::kCPU;
  if (!torch::cuda::is_available()) {
    throw vikcse::invalid_argument(fmt::format(
        "--device {}: this LibTorch sees no CUDA device (a CPU-only build, or no GPU or driver here); use --device cpu",
        name));
  }
  int index = cuda_index;
  if (name != "cuda") index = std::stoi(name.substr(5));  // "cuda:N", checked by the option's validator
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw vikcse::invalid_argument(fmt::format("--device {}: GPU {} asked for, but this machine has {} (0..{})", name,
                                               index, count, count - 1));
  }
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(index)};
}

}  // namespace vikcse::cli
