// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file module_device.hpp
/// Where a module computes, so callers can bring their inputs to it (the Trainer moves each step's
/// batch there; the host's embedder each evaluation batch).

#include <torch/nn/module.h>

namespace vikcse {

/// The device of `module`'s first parameter, else of its first buffer, else the CPU.
inline torch::Device module_device(const torch::nn::Module& module) {
  if (const auto p = module.parameters(); !p.empty()) return p.front().device();
  if (const auto b = module.buffers(); !b.empty()) return b.front().device();
  return torch::kCPU;
}

}  // namespace vikcse
