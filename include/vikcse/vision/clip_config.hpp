// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file clip_config.hpp
/// The hyper-parameters of Hugging Face's `CLIPModel`, read from its `config.json`: the compact
/// form transformers saves today and the Hub's older verbose form (`text_config_dict: null`,
/// `num_channels: null`, ...) both load. Missing or null keys take the defaults of
/// `CLIPTextConfig` / `CLIPVisionConfig` (openai/clip-vit-base-patch32's shape).

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace vikcse {

/// What CLIP's text and vision towers share: a pre-LayerNorm transformer encoder.
struct ClipTowerConfig {
  std::int64_t hidden_size = 512;
  std::int64_t intermediate_size = 2048;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 8;
  std::string hidden_act = "quick_gelu";  ///< quick_gelu (x * sigmoid(1.702 x)), gelu, gelu_new or relu
  double layer_norm_eps = 1e-5;

  /// The size of one attention head.
  [[nodiscard]] std::int64_t head_size() const { return hidden_size / num_attention_heads; }
};

/// `CLIPTextConfig`.
struct ClipTextConfig : ClipTowerConfig {
  std::int64_t vocab_size = 49408;
  std::int64_t max_position_embeddings = 77;
  /// The config's eos_token_id. openai's checkpoints carry the placeholder 2, and then the text is
  /// pooled at the highest token id (CLIP's <|endoftext|> is the last id of the vocabulary), as
  /// transformers does; any other value pools at the first position holding that id.
  std::int64_t eos_token_id = 2;
};

/// `CLIPVisionConfig`.
struct ClipVisionConfig : ClipTowerConfig {
  ClipVisionConfig() {
    hidden_size = 768;
    intermediate_size = 3072;
    num_attention_heads = 12;
  }
  std::int64_t image_size = 224;
  std::int64_t patch_size = 32;
  std::int64_t num_channels = 3;

  /// Patches per image side.
  [[nodiscard]] std::int64_t grid() const { return image_size / patch_size; }
};

/// `CLIPConfig`: both towers and the shared projection width.
///
/// Example: `auto c = vikcse::ClipConfig::from_json_file("clip-vit-base-patch32/config.json");`
struct ClipConfig {
  ClipTextConfig text;
  ClipVisionConfig vision;
  std::int64_t projection_dim = 512;
  double logit_scale_init_value = 2.6592;  ///< log(1 / 0.07)

  /// Reads a parsed `config.json`; `source` names it in errors.
  /// @throws vikcse::config_error for a wrong type, a non-positive size, a hidden size that is not
  ///         a multiple of the head count, an image size that is not a multiple of the patch size, or
  ///         an unsupported activation.
  static ClipConfig from_json(const nlohmann::json& json, const std::string& source = "config.json") {
    if (!json.is_object()) throw_error<config_error>("{}: expected a JSON object, got {}", source, json.type_name());
    if (auto it = json.find("model_type"); it != json.end() && it->is_string() && *it != "clip") {
      throw_error<config_error>("{}: model_type is {}, expected \"clip\"", source, it->dump());
    }
    ClipConfig c;
    detail::read_optional_key<config_error>(json, source, "projection_dim", c.projection_dim);
    detail::read_optional_key<config_error>(json, source, "logit_scale_init_value", c.logit_scale_init_value);
    const auto tower = [&](const char* key) -> nlohmann::json {
      // the verbose form may hold the tower under "<key>_dict" with "<key>" null, or the reverse
      for (const std::string& k : {std::string(key), std::string(key) + "_dict"}) {
        if (auto it = json.find(k); it != json.end() && !it->is_null()) {
          if (!it->is_object())
            throw_error<config_error>("{}: '{}' must be an object, got {}", source, k, it->type_name());
          return *it;
        }
      }
      return nlohmann::json::object();
    };
    const auto t = tower("text_config");
    const auto v = tower("vision_config");
    const std::string ts = source + " text_config";
    const std::string vs = source + " vision_config";
    read_tower(t, ts, c.text);
    detail::read_optional_key<config_error>(t, ts, "vocab_size", c.text.vocab_size);
    detail::read_optional_key<config_error>(t, ts, "max_position_embeddings", c.text.max_position_embeddings);
    detail::read_optional_key<config_error>(t, ts, "eos_token_id", c.text.eos_token_id);
    read_tower(v, vs, c.vision);
    detail::read_optional_key<config_error>(v, vs, "image_size", c.vision.image_size);
    detail::read_optional_key<config_error>(v, vs, "patch_size", c.vision.patch_size);
    detail::read_optional_key<config_error>(v, vs, "num_channels", c.vision.num_channels);
    c.validate(source);
    return c;
  }

  /// Reads `config.json` from a file.
  static ClipConfig from_json_file(const std::filesystem::path& path) {
    return from_json(detail::read_config_file(path), path.string());
  }

  /// Checks every size; `source` names the file in the message.
  void validate(const std::string& source = "config") const {
    auto positive = [&](const std::string& key, std::int64_t value) {
      if (value <= 0) throw_error<config_error>("{}: '{}' must be positive, got {}", source, key, value);
    };
    positive("projection_dim", projection_dim);
    for (const auto* tower :
         {static_cast<const ClipTowerConfig*>(&text), static_cast<const ClipTowerConfig*>(&vision)}) {
      const std::string name = tower == &text ? "text_config." : "vision_config.";
      positive(name + "hidden_size", tower->hidden_size);
      positive(name + "intermediate_size", tower->intermediate_size);
      positive(name + "num_hidden_layers", tower->num_hidden_layers);
      positive(name + "num_attention_heads", tower->num_attention_heads);
      if (tower->hidden_size % tower->num_attention_heads != 0) {
        throw_error<config_error>("{}: {}hidden_size ({}) is not a multiple of num_attention_heads ({})", source, name,
                                  tower->hidden_size, tower->num_attention_heads);
      }
      const auto& act = tower->hidden_act;
      if (act != "quick_gelu" && act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "relu") {
        throw_error<config_error>(
            "{}: {}hidden_act '{}' is not supported (expected quick_gelu, gelu, gelu_new, "
            "gelu_pytorch_tanh or relu)",
            source, name, act);
      }
    }
    positive("text_config.vocab_size", text.vocab_size);
    positive("text_config.max_position_embeddings", text.max_position_embeddings);
    positive("vision_config.image_size", vision.image_size);
    positive("vision_config.patch_size", vision.patch_size);
    positive("vision_config.num_channels", vision.num_channels);
    if (vision.image_size % vision.patch_size != 0) {
      throw_error<config_error>("{}: vision_config.image_size ({}) is not a multiple of patch_size ({})", source,
                                vision.image_size, vision.patch_size);
    }
  }

  /// The compact `config.json` transformers writes for this configuration.
  [[nodiscard]] nlohmann::json to_json() const {
    auto tower = [this](const ClipTowerConfig& t) {
      return nlohmann::json{{"hidden_size", t.hidden_size},
                            {"intermediate_size", t.intermediate_size},
                            {"num_hidden_layers", t.num_hidden_layers},
                            {"num_attention_heads", t.num_attention_heads},
                            {"hidden_act", t.hidden_act},
                            {"layer_norm_eps", t.layer_norm_eps},
                            {"projection_dim", projection_dim}};
    };
    auto t = tower(text);
    t["vocab_size"] = text.vocab_size;
    t["max_position_embeddings"] = text.max_position_embeddings;
    t["eos_token_id"] = text.eos_token_id;
    t["model_type"] = "clip_text_model";
    auto v = tower(vision);
    v["image_size"] = vision.image_size;
    v["patch_size"] = vision.patch_size;
    v["num_channels"] = vision.num_channels;
    v["model_type"] = "clip_vision_model";
    return {{"architectures", {"CLIPModel"}},
            {"model_type", "clip"},
            {"projection_dim", projection_dim},
            {"logit_scale_init_value", logit_scale_init_value},
            {"text_config", t},
            {"vision_config", v}};
  }

  /// Writes `config.json` atomically.
  void save(const std::filesystem::path& path) const {
    detail::write_text_atomically<checkpoint_error>(path, to_json().dump(2) + "\n");
  }

private:
  static void read_tower(const nlohmann::json& json, const std::string& source, ClipTowerConfig& t) {
    detail::read_optional_key<config_error>(json, source, "hidden_size", t.hidden_size);
    detail::read_optional_key<config_error>(json, source, "intermediate_size", t.intermediate_size);
    detail::read_optional_key<config_error>(json, source, "num_hidden_layers", t.num_hidden_layers);
    detail::read_optional_key<config_error>(json, source, "num_attention_heads", t.num_attention_heads);
    detail::read_optional_key<config_error>(json, source, "hidden_act", t.hidden_act);
    detail::read_optional_key<config_error>(json, source, "layer_norm_eps", t.layer_norm_eps);
  }
};

}  // namespace vikcse
