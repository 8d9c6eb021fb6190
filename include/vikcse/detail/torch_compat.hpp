// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file torch_compat.hpp
/// The one place where differences between LibTorch versions (Debian's 1.13, pip's 2.x) are guarded.

#include <vikcse/error.hpp>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <limits>

/// True when the LibTorch being compiled against is at least `major`.`minor`.
#define VIKCSE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace vikcse::detail {

/// The most negative finite value of a floating dtype: the additive attention mask's "blocked"
/// entry (finite, so a row that sees nothing gives a uniform softmax instead of NaN).
inline double lowest_value(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kHalf: return -65504.0;
    case torch::kBFloat16: return -3.3895313892515355e38;
    case torch::kDouble: return std::numeric_limits<double>::lowest();
    default: return std::numeric_limits<float>::lowest();
  }
}

/// True where LibTorch has at::scaled_dot_product_attention (2.0 and later).
inline constexpr bool has_sdpa = TORCH_VERSION_MAJOR >= 2;

/// softmax(q k^T / sqrt(d) + bias) v with dropout on the probabilities. Uses the fused kernel where
/// the LibTorch version has one.
/// @param query, key, value [B, heads, T, d]
/// @param bias additive attention bias broadcastable to [B, heads, T, T] (0 keep, large negative drop), or
///        undefined for none
inline torch::Tensor attention(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                               const torch::Tensor& bias, double dropout, bool training) {
#if TORCH_VERSION_MAJOR >= 2
  const auto mask = bias.defined() ? c10::optional<torch::Tensor>(bias) : c10::nullopt;
  return at::scaled_dot_product_attention(query, key, value, mask, training ? dropout : 0.0);
#else
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
  auto scores = torch::matmul(query, key.transpose(-1, -2)) * scale;
  if (bias.defined()) scores = scores + bias;
  auto probs = torch::softmax(scores, -1);
  probs = torch::dropout(probs, dropout, training);
  return torch::matmul(probs, value);
#endif
}

/// Switches autocast on (with `dtype`) or off for one device type (CPU or CUDA) for its lifetime,
/// then restores what was there. Like Python's `torch.autocast`, leaving the outermost enabled
/// region clears autocast's cache of low-precision weight copies, so that the next region casts
/// the weights as the optimizer left them.
class AutocastGuard {
public:
  AutocastGuard(torch::DeviceType device, bool enabled, torch::ScalarType dtype = torch::kBFloat16) : device_(device) {
    if (device != torch::kCPU && device != torch::kCUDA) {
      if (!enabled) return;  // autocast cannot be on there: nothing to switch off
      throw_error<invalid_argument>("autocast: only CPU and CUDA are supported, got device type {}",
                                    c10::DeviceTypeName(device));
    }
    active_ = true;
    was_enabled_ = is_enabled(device);
    was_dtype_ = get_dtype(device);
    set(device, enabled, enabled ? dtype : was_dtype_);
    if (enabled) at::autocast::increment_nesting();
    counted_ = enabled;
  }
  ~AutocastGuard() {
    if (!active_) return;
    if (counted_ && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set(device_, was_enabled_, was_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

  /// Whether autocast is on for `device` in this thread.
  static bool is_enabled(torch::DeviceType device) {
#if VIKCSE_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(device);
#else
    return device == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
  }

private:
  static torch::ScalarType get_dtype(torch::DeviceType device) {
#if VIKCSE_TORCH_AT_LEAST(2, 4)
    return at::autocast::get_autocast_dtype(device);
#else
    return device == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
  }
  static void set(torch::DeviceType device, bool enabled, torch::ScalarType dtype) {
#if VIKCSE_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_dtype(device, dtype);
    at::autocast::set_autocast_enabled(device, enabled);
#else
    if (device == torch::kCUDA) {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(enabled);
    } else {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(enabled);
    }
#endif
  }

  torch::DeviceType device_;
  bool active_ = false;
  bool was_enabled_ = false;
  torch::ScalarType was_dtype_ = torch::kBFloat16;
  bool counted_ = false;
};

/// LibTorch 2.4 and later default `c10d::TCPStoreOptions::useLibUV` to true, and a build without
/// libuv (Debian 13's 2.6) then refuses to create the store; the classic TCP store every version
/// has is used instead. A template, so that this header needs no c10d include.
template <typename TcpStoreOptions>
void use_classic_tcp_store(TcpStoreOptions& options) {
  if constexpr (requires { options.useLibUV; }) options.useLibUV = false;
}

/// `x` in float32 when it is a lower-precision float (bf16, fp16); otherwise `x` itself.
inline torch::Tensor at_least_float32(const torch::Tensor& x) {
  return x.defined() && (x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf) ? x.to(torch::kFloat)
                                                                                                 : x;
}

}  // namespace vikcse::detail
