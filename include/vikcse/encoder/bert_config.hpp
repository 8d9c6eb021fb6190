// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file bert_config.hpp
/// Hyper-parameters of a BERT or RoBERTa encoder, with the field names of Hugging Face's
/// `BertConfig` / `RobertaConfig`, read from and written to `config.json`.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace vikcse {

/// Encoder hyper-parameters. Defaults are those of `bert-base-uncased`.
///
/// Example: `BertConfig c = BertConfig::from_json_file("model/config.json");`
struct BertConfig {
  std::string model_type = "bert";  ///< "bert" or "roberta" (RoBERTa offsets position ids)
  std::int64_t vocab_size = 30522;
  std::int64_t hidden_size = 768;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 12;
  std::int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  ///< gelu (exact erf), gelu_new / gelu_pytorch_tanh, relu, silu
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t pad_token_id = 0;
  double initializer_range = 0.02;

  /// The head size; throws config_error when hidden_size is not a multiple of the head count.
  [[nodiscard]] std::int64_t head_size() const {
    if (num_attention_heads <= 0 || hidden_size % num_attention_heads != 0) {
      throw_error<config_error>("config: hidden_size ({}) must be a positive multiple of num_attention_heads ({})",
                                hidden_size, num_attention_heads);
    }
    return hidden_size / num_attention_heads;
  }

  /// Checks every field's range; `source` names the file in the message.
  void validate(const std::string& source = "config") const {
    if (model_type != "bert" && model_type != "roberta") {
      throw_error<config_error>("{}: unsupported model_type '{}' (expected \"bert\" or \"roberta\")", source,
                                model_type);
    }
    auto positive = [&](const char* key, std::int64_t value) {
      if (value <= 0) throw_error<config_error>("{}: '{}' must be positive, got {}", source, key, value);
    };
    positive("vocab_size", vocab_size);
    positive("hidden_size", hidden_size);
    positive("num_hidden_layers", num_hidden_layers);
    positive("num_attention_heads", num_attention_heads);
    positive("intermediate_size", intermediate_size);
    positive("max_position_embeddings", max_position_embeddings);
    positive("type_vocab_size", type_vocab_size);
    if (hidden_size % num_attention_heads != 0) {
      throw_error<config_error>("{}: hidden_size ({}) is not a multiple of num_attention_heads ({})", source,
                                hidden_size, num_attention_heads);
    }
    if (pad_token_id < 0 || pad_token_id >= vocab_size) {
      throw_error<config_error>("{}: pad_token_id {} is outside the vocabulary [0, {})", source, pad_token_id,
                                vocab_size);
    }
    for (const char* key : {"hidden_dropout_prob", "attention_probs_dropout_prob"}) {
      const double p = std::string(key) == "hidden_dropout_prob" ? hidden_dropout_prob : attention_probs_dropout_prob;
      if (p < 0.0 || p >= 1.0) throw_error<config_error>("{}: '{}' must be in [0, 1), got {}", source, key, p);
    }
    if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" && hidden_act != "relu" &&
        hidden_act != "silu" && hidden_act != "swish") {
      throw_error<config_error>(
          "{}: unsupported hidden_act '{}' (expected gelu, gelu_new, gelu_pytorch_tanh, relu "
          "or silu)",
          source, hidden_act);
    }
  }

  /// Reads a parsed `config.json`; `source` names it in errors. Unknown keys are ignored (Hugging
  /// Face configs carry many that do not affect the encoder); known keys of the wrong type throw.
  /// Checks that a tokenizer with `tokenizer_ids` ids fits this model's embedding matrix
  /// (`vocab_size` rows), so that a tokenizer of another model is refused with a message instead of
  /// an index error inside LibTorch; `tokenizer` names it in the message.
  /// @throws vikcse::config_error when the tokenizer has more ids than the matrix has rows.
  void require_tokenizer_fits(std::int64_t tokenizer_ids, std::string_view tokenizer) const {
    if (tokenizer_ids > vocab_size) {
      throw_error<config_error>(
          "the tokenizer {} has {} ids but the model's embedding matrix has {} rows (vocab_size): they are not one "
          "model's",
          tokenizer, tokenizer_ids, vocab_size);
    }
  }

  static BertConfig from_json(const nlohmann::json& json, const std::string& source = "config.json") {
    if (!json.is_object()) throw_error<config_error>("{}: expected a JSON object, got {}", source, json.type_name());
    const auto read = [&](const char* key, auto& out) {
      detail::read_optional_key<config_error>(json, source, key, out);
    };
    BertConfig config;
    if (!json.contains("model_type")) {
      throw_error<config_error>("{}: missing key 'model_type' (expected \"bert\" or \"roberta\")", source);
    }
    read("model_type", config.model_type);
    if (config.model_type == "roberta") {  // RobertaConfig defaults
      config.vocab_size = 50265;
      config.max_position_embeddings = 514;
      config.type_vocab_size = 1;
      config.layer_norm_eps = 1e-5;
      config.pad_token_id = 1;
    }
    read("vocab_size", config.vocab_size);
    read("hidden_size", config.hidden_size);
    read("num_hidden_layers", config.num_hidden_layers);
    read("num_attention_heads", config.num_attention_heads);
    read("intermediate_size", config.intermediate_size);
    read("hidden_act", config.hidden_act);
    read("max_position_embeddings", config.max_position_embeddings);
    read("type_vocab_size", config.type_vocab_size);
    read("layer_norm_eps", config.layer_norm_eps);
    read("hidden_dropout_prob", config.hidden_dropout_prob);
    read("attention_probs_dropout_prob", config.attention_probs_dropout_prob);
    read("pad_token_id", config.pad_token_id);
    read("initializer_range", config.initializer_range);
    if (json.contains("position_embedding_type") && json["position_embedding_type"] != "absolute") {
      throw_error<config_error>("{}: unsupported position_embedding_type {} (only \"absolute\")", source,
                                json["position_embedding_type"].dump());
    }
    config.validate(source);
    return config;
  }

  /// Reads `config.json` from a file.
  static BertConfig from_json_file(const std::filesystem::path& path) {
    return from_json(detail::read_config_file(path), path.string());
  }

  /// The Hugging Face `config.json` content for this configuration.
  [[nodiscard]] nlohmann::json to_json() const {
    const bool roberta = model_type == "roberta";
    return {
        {"architectures", {roberta ? "RobertaModel" : "BertModel"}},
        {"model_type", model_type},
        {"vocab_size", vocab_size},
        {"hidden_size", hidden_size},
        {"num_hidden_layers", num_hidden_layers},
        {"num_attention_heads", num_attention_heads},
        {"intermediate_size", intermediate_size},
        {"hidden_act", hidden_act},
        {"max_position_embeddings", max_position_embeddings},
        {"type_vocab_size", type_vocab_size},
        {"layer_norm_eps", layer_norm_eps},
        {"hidden_dropout_prob", hidden_dropout_prob},
        {"attention_probs_dropout_prob", attention_probs_dropout_prob},
        {"pad_token_id", pad_token_id},
        {"initializer_range", initializer_range},
        {"position_embedding_type", "absolute"},
        {"torch_dtype", "float32"},
    };
  }

  /// Writes `config.json` atomically.
  void save(const std::filesystem::path& path) const {
    detail::write_text_atomically<checkpoint_error>(path, to_json().dump(2) + "\n");
  }
};

}  // namespace vikcse
