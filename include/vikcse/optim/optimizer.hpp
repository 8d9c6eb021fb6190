// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file optimizer.hpp
/// AdamW with Hugging Face's weight-decay exclusions (no decay on biases and LayerNorm weights)
/// and the linear learning-rate schedule (optional warm-up, decay to 0).

#include <vikcse/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

namespace vikcse {

/// Options of `make_adamw`.
struct AdamWConfig {
  double learning_rate = 3e-5;  ///< peak learning rate
  double weight_decay = 0.0;    ///< decoupled weight decay on decayed parameters
  double beta1 = 0.9;           ///< Adam β1
  double beta2 = 0.999;         ///< Adam β2
  double eps = 1e-8;            ///< Adam ε
};

/// Whether Hugging Face's Trainer decays a parameter: not biases, not LayerNorm weights. The
/// Trainer tells LayerNorms by module type; here by the names checkpoints give them: BERT's
/// `LayerNorm`, CLIP's `layer_norm1`, `layer_norm2`, `final_layer_norm`, `pre_layrnorm` and
/// `post_layernorm`.
inline bool decays(const std::string& name) {
  if (name.find("bias") != std::string::npos) return false;
  const auto dot = name.rfind('.');
  std::string owner = name.substr(0, dot == std::string::npos ? 0 : dot);
  owner = owner.substr(owner.rfind('.') == std::string::npos ? 0 : owner.rfind('.') + 1);
  std::transform(owner.begin(), owner.end(), owner.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool layer_norm = owner.find("layernorm") != std::string::npos || owner.find("layer_norm") != std::string::npos ||
                          owner.find("layrnorm") != std::string::npos;
  return !(layer_norm && name.ends_with(".weight"));
}

/// AdamW over `module`'s trainable parameters in two groups: group 0 decayed, group 1 not.
/// @throws vikcse::invalid_argument for a non-positive learning rate or negative decay.
inline std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& module, const AdamWConfig& config) {
  if (!(config.learning_rate > 0.0)) {
    throw_error<invalid_argument>("AdamW: learning_rate must be > 0, got {}", config.learning_rate);
  }
  if (config.weight_decay < 0.0)
    throw_error<invalid_argument>("AdamW: weight_decay must be >= 0, got {}", config.weight_decay);
  std::vector<torch::Tensor> decay;
  std::vector<torch::Tensor> no_decay;
  for (const auto& item : module.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (decays(item.key()) ? decay : no_decay).push_back(item.value());
  }
  auto base = torch::optim::AdamWOptions(config.learning_rate)
                  .betas({config.beta1, config.beta2})
                  .eps(config.eps)
                  .weight_decay(config.weight_decay);
  auto none = base;
  none.weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(base));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(none));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), base);
}

/// Linear schedule: warm-up from 0 over `warmup` steps, then linear decay to 0 at `total`.
inline double linear_lr(double peak, std::int64_t step, std::int64_t total, std::int64_t warmup = 0) {
  if (step < warmup) return peak * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  return peak * std::max(0.0, static_cast<double>(total - step) /
                                  static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
}

/// Hugging Face's cosine schedule with warm-up (`get_cosine_schedule_with_warmup`, half a cycle):
/// `peak · step / warmup` during the warm-up, then `peak · ½ (1 + cos(π (step − warmup) / (total −
/// warmup)))`, never below 0. `step` counts from 0 (the learning rate of the first update is 0 with a
/// warm-up, as in the Trainer).
inline double cosine_lr(double peak, std::int64_t step, std::int64_t total, std::int64_t warmup = 0) {
  if (step < warmup) return peak * static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  const double progress =
      static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup));
  return peak * std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

/// Sets every group's learning rate.
inline void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

/// Scales the gradients of `parameters` so that their joint L2 norm is at most `max_norm`, and
/// returns that norm (before scaling) as a 0-d tensor on the gradients' device. The arithmetic of
/// LibTorch's `clip_grad_norm_` (per-gradient norms, the norm of their stack, the factor
/// max_norm / (norm + 1e-6) clamped at 1 and applied to every gradient), so the results are equal
/// bit for bit; but nothing is read on the host, so a CUDA step does not wait for the GPU here
/// (LibTorch's version returns a double, which does). Parameters without a gradient are left out;
/// none at all: norm 0.
inline torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return torch::zeros({});
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (const auto& g : grads) norms.push_back(g.detach().norm(2));
  const auto total = norms.size() == 1 ? norms.front() : torch::stack(norms).norm(2);
  const auto factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.detach().mul_(factor);
  return total;
}

}  // namespace vikcse
