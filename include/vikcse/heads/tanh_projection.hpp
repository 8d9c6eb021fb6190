// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file heads.hpp
/// Small trainable heads: the `tanh(W h + b)` projection used as SimCSE's MLP head, MCSE's
/// grounding heads and VIKCSE's Dim-Projectors (README.md#poolers-and-heads).

#include <torch/torch.h>

#include <cstdint>

namespace vikcse {

/// Options of a `TanhProjection`.
struct TanhProjectionOptions {
  TanhProjectionOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  /// Input size. Example: 768.
  TORCH_ARG(std::int64_t, in_features);
  /// Output size. Example: 768 (MLP head), 512 (VIKCSE projector), 256 (MCSE grounding).
  TORCH_ARG(std::int64_t, out_features);
  /// L2-normalise the output rows (MCSE grounding heads). Default: false.
  TORCH_ARG(bool, normalize) = false;
  /// Standard deviation of the weight initialisation (Hugging Face `initializer_range`). Default: 0.02.
  TORCH_ARG(double, init_std) = 0.02;
};

/// `y = tanh(W x + b)` (optionally L2-normalised), weights `N(0, init_std²)`, bias 0.
/// The registered submodule is `dense` (keys `dense.weight`, `dense.bias`).
class TanhProjectionImpl : public torch::nn::Cloneable<TanhProjectionImpl> {
public:
  explicit TanhProjectionImpl(const TanhProjectionOptions& options) : options(options) { reset(); }

  void reset() override {
    dense = register_module("dense", torch::nn::Linear(options.in_features(), options.out_features()));
    torch::NoGradGuard no_grad;
    dense->weight.normal_(0.0, options.init_std());
    dense->bias.zero_();
  }

  /// `[N, in] -> [N, out]`.
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::tanh(dense(x));
    if (options.normalize())
      y = torch::nn::functional::normalize(y, torch::nn::functional::NormalizeFuncOptions().dim(-1));
    return y;
  }

  TanhProjectionOptions options;
  torch::nn::Linear dense{nullptr};
};
/// Holder of `TanhProjectionImpl`.
TORCH_MODULE(TanhProjection);

}  // namespace vikcse
