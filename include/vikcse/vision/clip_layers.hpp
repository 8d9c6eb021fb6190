// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file clip_layers.hpp
/// The pre-LayerNorm transformer both CLIP towers use. Registered names are Hugging Face's
/// checkpoint keys (`layers.0.self_attn.q_proj`, `layer_norm1`, `mlp.fc1`, ...):
///
///     h = x + out_proj(attention(layer_norm1(x)))
///     y = h + fc2(act(fc1(layer_norm2(h))))
///
/// with attention softmax(q kᵀ / sqrt(head_size) + mask) v, an additive mask
/// (the text tower's causal mask plus padding) of the dtype's lowest value, not -inf, so a row
/// that sees nothing gives a uniform softmax instead of NaN (as transformers does).

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>
#include <vikcse/vision/clip_config.hpp>

#include <torch/torch.h>

#include <limits>
#include <string>

namespace vikcse {

namespace detail {

/// CLIP's activations: quick_gelu is x * sigmoid(1.702 x), OpenAI's approximation of GELU.
inline torch::Tensor clip_activation(const torch::Tensor& x, const std::string& name) {
  if (name == "quick_gelu") return x * torch::sigmoid(1.702 * x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  throw_error<config_error>("unsupported hidden_act '{}'", name);
}

/// A LayerNorm over the tower's width.
inline torch::nn::LayerNorm clip_layer_norm(const ClipTowerConfig& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps));
}

}  // namespace detail

/// Multi-head self-attention. Keys: `q_proj`, `k_proj`, `v_proj`, `out_proj`.
class ClipAttentionImpl : public torch::nn::Module {
public:
  explicit ClipAttentionImpl(const ClipTowerConfig& config)
      : heads_(config.num_attention_heads), head_size_(config.head_size()) {
    const auto d = config.hidden_size;
    q_proj = register_module("q_proj", torch::nn::Linear(d, d));
    k_proj = register_module("k_proj", torch::nn::Linear(d, d));
    v_proj = register_module("v_proj", torch::nn::Linear(d, d));
    out_proj = register_module("out_proj", torch::nn::Linear(d, d));
  }

  /// `x` [B, T, D]; `mask` undefined or additive, broadcastable to [B, heads, T, T].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {}) {
    const auto b = x.size(0);
    const auto t = x.size(1);
    auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads_, head_size_}).transpose(1, 2); };
    auto context = detail::attention(split(q_proj(x)), split(k_proj(x)), split(v_proj(x)), mask, 0.0, false);
    return out_proj(context.transpose(1, 2).reshape({b, t, heads_ * head_size_}));
  }

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

private:
  std::int64_t heads_;
  std::int64_t head_size_;
};
TORCH_MODULE(ClipAttention);

/// The feed-forward block. Keys: `fc1`, `fc2`.
class ClipMlpImpl : public torch::nn::Module {
public:
  explicit ClipMlpImpl(const ClipTowerConfig& config) : act_(config.hidden_act) {
    fc1 = register_module("fc1", torch::nn::Linear(config.hidden_size, config.intermediate_size));
    fc2 = register_module("fc2", torch::nn::Linear(config.intermediate_size, config.hidden_size));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(detail::clip_activation(fc1(x), act_)); }

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

private:
  std::string act_;
};
TORCH_MODULE(ClipMlp);

/// One pre-LayerNorm block. Keys: `self_attn`, `layer_norm1`, `mlp`, `layer_norm2`.
class ClipEncoderLayerImpl : public torch::nn::Module {
public:
  explicit ClipEncoderLayerImpl(const ClipTowerConfig& config) {
    self_attn = register_module("self_attn", ClipAttention(config));
    layer_norm1 = register_module("layer_norm1", detail::clip_layer_norm(config));
    mlp = register_module("mlp", ClipMlp(config));
    layer_norm2 = register_module("layer_norm2", detail::clip_layer_norm(config));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask = {}) {
    auto h = x + self_attn(layer_norm1(x), mask);
    return h + mlp(layer_norm2(h));
  }

  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr};
  ClipMlp mlp{nullptr};
  torch::nn::LayerNorm layer_norm2{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

/// The stack of blocks. Key: `layers.<i>`.
class ClipEncoderImpl : public torch::nn::Module {
public:
  explicit ClipEncoderImpl(const ClipTowerConfig& config) {
    layers = register_module("layers", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) layers->push_back(ClipEncoderLayer(config));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask = {}) {
    for (const auto& layer : *layers) x = layer->as<ClipEncoderLayerImpl>()->forward(x, mask);
    return x;
  }

  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(ClipEncoder);

}  // namespace vikcse
