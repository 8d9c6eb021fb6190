// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file bert.hpp
/// `BertModel` and `RobertaModel`: Hugging Face's encoders as LibTorch modules whose parameter
/// names are the checkpoint keys (`embeddings.word_embeddings.weight`,
/// `encoder.layer.3.attention.self.query.weight`, `pooler.dense.weight`, ...).

#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/encoder/bert_layers.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

namespace vikcse {

/// Options of a BERT-family encoder beyond its `config.json`.
struct BertModelOptions {
  /// Whether the model has BERT's pretrained pooler (`pooler.dense`). Default: true.
  bool add_pooling_layer = true;
};

/// A BERT encoder: embeddings, post-LN transformer layers, optional pooler.
///
/// Example: `vikcse::BertModel model(vikcse::BertConfig{});`
///          `auto out = model->forward(batch, /*output_hidden_states=*/true);`
class BertModelImpl : public torch::nn::Module {
public:
  explicit BertModelImpl(BertConfig config, BertModelOptions options = {})
      : BertModelImpl(std::move(config), options, /*offset_positions=*/false) {}

  /// Encodes a batch. Dropout is active in train mode only.
  /// @param output_hidden_states also return the embedding output and every layer's output
  EncoderOutput forward(const TokenBatch& batch, bool output_hidden_states = false) {
    TORCH_CHECK(batch.input_ids.defined() && batch.input_ids.dim() == 2,
                "input_ids must be a [batch, length] tensor, got ",
                batch.input_ids.defined() ? batch.input_ids.sizes() : torch::IntArrayRef{});
    auto mask = batch.attention_mask.defined() ? batch.attention_mask : torch::ones_like(batch.input_ids);
    TORCH_CHECK(mask.sizes() == batch.input_ids.sizes(), "attention_mask sizes ", mask.sizes(),
                " differ from input_ids sizes ", batch.input_ids.sizes());
    EncoderOutput out;
    auto x = embeddings(batch);
    const auto dtype = x.scalar_type();
    // Additive mask: 0 where attended, the dtype's lowest value on padding (as Hugging Face does).
    auto bias = (1.0 - mask.to(dtype)).mul(detail::lowest_value(dtype)).view({mask.size(0), 1, 1, mask.size(1)});
    if (output_hidden_states) out.hidden_states.push_back(x);
    x = encoder(x, bias, output_hidden_states ? &out.hidden_states : nullptr);
    out.last_hidden_state = x;
    if (pooler) out.pooler_output = pooler(x);
    out.attention_mask = mask;
    return out;
  }

  /// Re-initialises every weight as Hugging Face's `_init_weights` does: linear and embedding
  /// weights from N(0, initializer_range²), biases 0, the padding embedding row 0, LayerNorm 1/0.
  void init_weights() {
    torch::NoGradGuard no_grad;
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* linear = module->as<torch::nn::Linear>()) {
        linear->weight.normal_(0.0, config_.initializer_range);
        if (linear->bias.defined()) linear->bias.zero_();
      } else if (auto* embedding = module->as<torch::nn::Embedding>()) {
        embedding->weight.normal_(0.0, config_.initializer_range);
        if (auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
      } else if (auto* norm = module->as<torch::nn::LayerNorm>()) {
        norm->weight.fill_(1.0);
        norm->bias.zero_();
      }
    }
  }

  /// The configuration this model was built from.
  [[nodiscard]] const BertConfig& config() const { return config_; }

  /// Whether the model has the `pooler.dense` head.
  [[nodiscard]] bool has_pooler() const { return static_cast<bool>(pooler); }

  /// The position id the model gives the first token when the caller passes no position ids (0 for
  /// BERT, `pad_token_id + 1` for RoBERTa). Explicit position ids are used as given, as Hugging Face
  /// does, so a caller that builds them (template denoising) adds this offset itself.
  [[nodiscard]] std::int64_t first_position_id() const { return embeddings->first_position_id(); }

  /// Hidden size H of every output.
  [[nodiscard]] std::int64_t hidden_size() const { return config_.hidden_size; }

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};

protected:
  BertModelImpl(BertConfig config, BertModelOptions options, bool offset_positions) : config_(std::move(config)) {
    config_.validate();
    embeddings = register_module("embeddings", BertEmbeddings(config_, offset_positions));
    encoder = register_module("encoder", BertEncoder(config_));
    if (options.add_pooling_layer) pooler = register_module("pooler", BertPooler(config_));
    init_weights();
  }

private:
  BertConfig config_;
};
TORCH_MODULE(BertModel);

/// A RoBERTa encoder: BERT's structure and keys, with position ids that start at
/// `pad_token_id + 1` and count only non-padding tokens (padding gets `pad_token_id`).
class RobertaModelImpl : public BertModelImpl {
public:
  explicit RobertaModelImpl(BertConfig config, BertModelOptions options = {})
      : BertModelImpl(std::move(config), options, /*offset_positions=*/true) {}
};
TORCH_MODULE(RobertaModel);

}  // namespace vikcse
