// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file bert_layers.hpp
/// The building blocks of a BERT/RoBERTa encoder. Each registered submodule and parameter name is
/// the Hugging Face checkpoint key (`attention.self.query`, `output.LayerNorm`, ...), so a state
/// dict maps one to one.

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/encoder/int8_linear.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <limits>
#include <string>

namespace vikcse {

namespace detail {

/// The activation named by `hidden_act`.
inline torch::Tensor activation(const torch::Tensor& x, const std::string& name) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  throw_error<config_error>("unsupported hidden_act '{}'", name);
}

/// A LayerNorm over the last dimension with Hugging Face's `weight`/`bias` names.
inline torch::nn::LayerNorm make_layer_norm(const BertConfig& config) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps).elementwise_affine(true));
}

}  // namespace detail

/// Word, position and token-type embeddings, summed, then LayerNorm and dropout.
/// Keys: `word_embeddings`, `position_embeddings`, `token_type_embeddings`, `LayerNorm`.
class BertEmbeddingsImpl : public torch::nn::Module {
public:
  /// @param offset_positions true for RoBERTa: positions start at pad_token_id + 1 and count only
  ///        non-padding tokens; padding tokens get position pad_token_id.
  BertEmbeddingsImpl(const BertConfig& config, bool offset_positions)
      : config_(config), offset_positions_(offset_positions) {
    word_embeddings = register_module(
        "word_embeddings",
        torch::nn::Embedding(
            torch::nn::EmbeddingOptions(config.vocab_size, config.hidden_size).padding_idx(config.pad_token_id)));
    position_embeddings = register_module("position_embeddings",
                                          torch::nn::Embedding(config.max_position_embeddings, config.hidden_size));
    token_type_embeddings =
        register_module("token_type_embeddings", torch::nn::Embedding(config.type_vocab_size, config.hidden_size));
    LayerNorm = register_module("LayerNorm", detail::make_layer_norm(config));
    dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  }

  /// The position id of the first token when the caller gives none: `pad_token_id + 1` for
  /// RoBERTa, 0 for BERT.
  [[nodiscard]] std::int64_t first_position_id() const { return offset_positions_ ? config_.pad_token_id + 1 : 0; }

  /// The position ids the model uses for `batch` when the caller gives none.
  [[nodiscard]] torch::Tensor default_position_ids(const TokenBatch& batch) const {
    const auto& ids = batch.input_ids;
    if (offset_positions_) {
      auto not_pad = ids.ne(config_.pad_token_id).to(torch::kLong);
      return torch::cumsum(not_pad, 1) * not_pad + config_.pad_token_id;
    }
    return torch::arange(ids.size(1), ids.options()).unsqueeze(0).expand_as(ids);
  }

  torch::Tensor forward(const TokenBatch& batch) {
    const auto& ids = batch.input_ids;
    TORCH_CHECK(ids.dim() == 2, "input_ids must be [batch, length], got sizes ", ids.sizes());
    auto positions = batch.position_ids.defined() ? batch.position_ids : default_position_ids(batch);
    if (positions.is_cpu()) {  // on accelerators this check would cost a host sync
      const auto largest = positions.max().item<std::int64_t>();
      TORCH_CHECK(largest < config_.max_position_embeddings, "sequence too long: position id ", largest,
                  " needs max_position_embeddings > ", largest, ", the model has ", config_.max_position_embeddings);
    }
    auto types = batch.token_type_ids.defined() ? batch.token_type_ids : torch::zeros_like(ids);
    auto x = word_embeddings(ids) + token_type_embeddings(types) + position_embeddings(positions);
    return dropout(LayerNorm(x));
  }

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the Hugging Face key is capitalised
  torch::nn::Dropout dropout{nullptr};

private:
  BertConfig config_;
  bool offset_positions_;
};
TORCH_MODULE(BertEmbeddings);

/// Multi-head self-attention projections. Keys: `query`, `key`, `value`.
class BertSelfAttentionImpl : public torch::nn::Module {
public:
  explicit BertSelfAttentionImpl(const BertConfig& config)
      : heads_(config.num_attention_heads),
        head_size_(config.head_size()),
        dropout_(config.attention_probs_dropout_prob) {
    query = register_module("query", torch::nn::Linear(config.hidden_size, config.hidden_size));
    key = register_module("key", torch::nn::Linear(config.hidden_size, config.hidden_size));
    value = register_module("value", torch::nn::Linear(config.hidden_size, config.hidden_size));
  }

  /// @param x [B, T, H]; @param bias additive mask [B, 1, 1, T]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) {
    return attend(query(x), key(x), value(x), bias);
  }

  /// Attention of already projected queries, keys and values [B, T, H] → context [B, T, H].
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& bias) {
    const auto batch = q.size(0), length = q.size(1);
    auto split = [&](const torch::Tensor& t) { return t.reshape({batch, length, heads_, head_size_}).transpose(1, 2); };
    auto context = detail::attention(split(q), split(k), split(v), bias, dropout_, is_training());
    return context.transpose(1, 2).reshape({batch, length, heads_ * head_size_});
  }

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};

private:
  std::int64_t heads_, head_size_;
  double dropout_;
};
TORCH_MODULE(BertSelfAttention);

/// Projection, dropout and residual LayerNorm after attention or the feed-forward block.
/// Keys: `dense`, `LayerNorm`.
class BertResidualOutputImpl : public torch::nn::Module {
public:
  BertResidualOutputImpl(const BertConfig& config, std::int64_t in_features) {
    dense = register_module("dense", torch::nn::Linear(in_features, config.hidden_size));
    LayerNorm = register_module("LayerNorm", detail::make_layer_norm(config));
    dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual) {
    return LayerNorm(dropout(dense(x)) + residual);
  }

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the Hugging Face key is capitalised
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidualOutput);

/// Self-attention plus its output block. Keys: `self`, `output`.
class BertAttentionImpl : public torch::nn::Module {
public:
  explicit BertAttentionImpl(const BertConfig& config) {
    self = register_module("self", BertSelfAttention(config));
    output = register_module("output", BertResidualOutput(config, config.hidden_size));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) { return output(self(x, bias), x); }

  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

/// The first feed-forward projection and activation. Key: `dense`.
class BertIntermediateImpl : public torch::nn::Module {
public:
  explicit BertIntermediateImpl(const BertConfig& config) : activation_(config.hidden_act) {
    dense = register_module("dense", torch::nn::Linear(config.hidden_size, config.intermediate_size));
  }

  torch::Tensor forward(const torch::Tensor& x) { return detail::activation(dense(x), activation_); }

  torch::nn::Linear dense{nullptr};

private:
  std::string activation_;
};
TORCH_MODULE(BertIntermediate);

/// A layer's four projections packed for int8 inference (`BertEncoderImpl::quantize_int8`).
struct Int8LayerWeights {
  Int8Linear qkv;               ///< query, key and value stacked: [3H, H]
  Int8Linear attention_output;  ///< attention.output.dense
  Int8Linear intermediate;      ///< intermediate.dense
  Int8Linear output;            ///< output.dense
};

/// One post-LayerNorm transformer layer. Keys: `attention`, `intermediate`, `output`.
class BertLayerImpl : public torch::nn::Module {
public:
  explicit BertLayerImpl(const BertConfig& config) {
    attention = register_module("attention", BertAttention(config));
    intermediate = register_module("intermediate", BertIntermediate(config));
    output = register_module("output", BertResidualOutput(config, config.intermediate_size));
  }

  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) {
    auto attended = attention(x, bias);
    return output(intermediate(attended), attended);
  }

  /// The same layer through LibTorch's fused inference kernel (`at::_transformer_encoder_layer_fwd`,
  /// which `nn.TransformerEncoderLayer`'s fast path calls): post-LayerNorm, exact GELU or ReLU, no
  /// dropout. Inference only (no autograd formula).
  /// @param key_padding_mask [B, T] bool, true at padding; nullopt: no padding.
  torch::Tensor forward_fused(const torch::Tensor& x, const c10::optional<torch::Tensor>& key_padding_mask,
                              std::int64_t num_heads, bool gelu, double eps) {
    const auto& self = attention->self;
    const auto qkv_weight = torch::cat({self->query->weight, self->key->weight, self->value->weight});
    const auto qkv_bias = torch::cat({self->query->bias, self->key->bias, self->value->bias});
    return at::_transformer_encoder_layer_fwd(
        x, x.size(-1), num_heads, qkv_weight, qkv_bias, attention->output->dense->weight,
        attention->output->dense->bias, gelu, /*norm_first=*/false, eps, attention->output->LayerNorm->weight,
        attention->output->LayerNorm->bias, output->LayerNorm->weight, output->LayerNorm->bias,
        intermediate->dense->weight, intermediate->dense->bias, output->dense->weight, output->dense->bias,
        key_padding_mask, key_padding_mask ? c10::optional<std::int64_t>(1) : c10::nullopt);
  }

  /// This layer's projections packed for int8 (see `Int8Linear`).
  [[nodiscard]] Int8LayerWeights pack_int8() const {
    const auto& self = attention->self;
    return {Int8Linear::pack(torch::cat({self->query->weight, self->key->weight, self->value->weight}),
                             torch::cat({self->query->bias, self->key->bias, self->value->bias})),
            Int8Linear::pack(attention->output->dense->weight, attention->output->dense->bias),
            Int8Linear::pack(intermediate->dense->weight, intermediate->dense->bias),
            Int8Linear::pack(output->dense->weight, output->dense->bias)};
  }

  /// The same layer with the projections in int8 (`w` from `pack_int8`); attention, GELU, the
  /// residual sums and the LayerNorms stay float32. Inference only (no dropout).
  torch::Tensor forward_int8(const torch::Tensor& x, const torch::Tensor& bias, const Int8LayerWeights& w,
                             const std::string& activation) {
    const auto qkv = w.qkv(x).chunk(3, -1);
    auto attended =
        attention->output->LayerNorm(w.attention_output(attention->self->attend(qkv[0], qkv[1], qkv[2], bias)) + x);
    return output->LayerNorm(w.output(detail::activation(w.intermediate(attended), activation)) + attended);
  }

  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

/// The stack of layers. Key: `layer` (so parameters read `layer.3.attention.self.query.weight`).
class BertEncoderImpl : public torch::nn::Module {
public:
  explicit BertEncoderImpl(const BertConfig& config)
      : num_heads_(config.num_attention_heads), eps_(config.layer_norm_eps), activation_(config.hidden_act) {
    layer = register_module("layer", torch::nn::ModuleList());
    for (std::int64_t i = 0; i < config.num_hidden_layers; ++i) layer->push_back(BertLayer(config));
  }

  /// Runs every layer; appends each layer's output to `hidden_states` when it is given. Takes the
  /// int8 projections when `uses_int8(x)`, else the fused kernel (`BertLayerImpl::forward_fused`)
  /// when `uses_fused_kernel(x)`.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& bias, std::vector<torch::Tensor>* hidden_states) {
    if (uses_int8(x)) {
      for (std::size_t i = 0; i < layer->size(); ++i) {
        x = (*layer)[i]->as<BertLayerImpl>()->forward_int8(x, bias, int8_[i], activation_);
        if (hidden_states != nullptr) hidden_states->push_back(x);
      }
      return x;
    }
    const bool fused = uses_fused_kernel(x);
    c10::optional<torch::Tensor> key_padding_mask;
    if (fused) {
      auto padding = bias.reshape({x.size(0), x.size(1)}) < 0;
      if (padding.any().item<bool>()) key_padding_mask = std::move(padding);
    }
    for (const auto& module : *layer) {
      auto* l = module->as<BertLayerImpl>();
      x = fused ? l->forward_fused(x, key_padding_mask, num_heads_, activation_ == "gelu", eps_) : l->forward(x, bias);
      if (hidden_states != nullptr) hidden_states->push_back(x);
    }
    return x;
  }

  /// True when the fused inference kernel computes the layers: `fused_inference` on, eval mode,
  /// autograd off (`torch::NoGradGuard` or `c10::InferenceMode`), float32, and `hidden_act` exact
  /// GELU or ReLU. Training, gradients and other dtypes take the op-by-op path.
  [[nodiscard]] bool uses_fused_kernel(const torch::Tensor& x) const {
    return fused_inference && !is_training() && !torch::GradMode::is_enabled() && x.scalar_type() == torch::kFloat &&
           (activation_ == "gelu" || activation_ == "relu");
  }

  /// Packs every layer's projections for int8 dynamic quantization (`Int8Linear`), from the
  /// weights as they are now: eval-mode CPU float32 inference without autograd then runs them in
  /// int8 (`uses_int8`); training and gradients still use the float weights. Call it again after
  /// changing the weights, `clear_int8` to go back to float32.
  void quantize_int8() {
    std::vector<Int8LayerWeights> packed;
    for (const auto& module : *layer) packed.push_back(module->as<BertLayerImpl>()->pack_int8());
    int8_ = std::move(packed);
  }
  /// Drops the int8 weights of `quantize_int8`.
  void clear_int8() { int8_.clear(); }
  /// Whether `quantize_int8` has packed the layers.
  [[nodiscard]] bool is_int8() const { return !int8_.empty(); }
  /// True when the int8 projections compute the layers: packed, eval mode, autograd off, float32 on the CPU.
  [[nodiscard]] bool uses_int8(const torch::Tensor& x) const {
    return is_int8() && !is_training() && !torch::GradMode::is_enabled() && x.scalar_type() == torch::kFloat &&
           x.device().is_cpu();
  }

  torch::nn::ModuleList layer{nullptr};
  /// Use the fused inference kernel where it applies (`uses_fused_kernel`). Default: true.
  bool fused_inference = true;

private:
  std::int64_t num_heads_;
  double eps_;
  std::string activation_;
  std::vector<Int8LayerWeights> int8_;
};
TORCH_MODULE(BertEncoder);

/// tanh(dense(h[:, 0])). Key: `dense`.
class BertPoolerImpl : public torch::nn::Module {
public:
  explicit BertPoolerImpl(const BertConfig& config) {
    dense = register_module("dense", torch::nn::Linear(config.hidden_size, config.hidden_size));
  }

  torch::Tensor forward(const torch::Tensor& hidden) { return torch::tanh(dense(hidden.select(1, 0))); }

  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

}  // namespace vikcse
