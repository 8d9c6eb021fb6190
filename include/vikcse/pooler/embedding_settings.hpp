// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedding_settings.hpp
/// How a saved model turns a sentence into its embedding: the pooler, the prompt layout around the
/// sentence, whether the trained MLP head follows, the text preparation (lower-casing, a final
/// period) and normalisation. `save_model_checkpoint` writes them to `vikcse_embedding.json` next to
/// the weights, and `SentenceEncoder` reads them back, so a checkpoint trained by this library
/// embeds as it was evaluated without the user repeating its settings.
///
///     {"format": "vikcse-embedding", "version": 1, "pooler": "mask", "first_layer": "embeddings",
///      "head": false, "layout": {"prefix": [101, ...], "suffix": [..., 103, 999, 102],
///      "mask_id": 103, "sentence_space": false}, "template": "This sentence : \"[X]\" means [MASK] .",
///      "lowercase": false, "append_period": false, "normalize": false, "max_length": 512}
///
/// The layout is stored as token ids, the exact input the model was trained on; `template` is only
/// shown to people.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/prompt/layout.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// The file `save_model_checkpoint` writes the embedding settings to.
inline constexpr const char* embedding_settings_file_name = "vikcse_embedding.json";

/// How a model embeds a sentence (see the file comment for the JSON form).
struct EmbeddingSettings {
  PoolerKind pooler = PoolerKind::cls_before_pooler;  ///< the pooler
  FirstLayer first = FirstLayer::embeddings;          ///< `avg_first_last` only
  /// Apply the trained MLP head (`pooler.mlp.dense` of `vikcse_heads.safetensors`) to the pooled
  /// vector. For `cls` it replaces BERT's pretrained pooler; false with `cls` means BERT's pooler.
  bool head = false;
  std::optional<PromptLayout> layout;  ///< the prompt around the sentence (`mask` needs one)
  std::string template_text;           ///< the template the layout was made from (for people)
  bool lowercase = false;              ///< lower-case the sentence before it is templated
  bool append_period = false;          ///< append '.' unless the sentence ends with . ? " or '
  bool normalize = false;              ///< L2-normalise the embeddings
  std::int64_t max_length = 512;       ///< tokens per row, template and special tokens included
};

namespace detail::settings {

template <typename T>
T required(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw_error<checkpoint_error>("{}: missing key '{}'", where, key);
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw_error<checkpoint_error>("{}: key '{}' has the wrong type ({})", where, key, j.at(key).dump());
  }
}

template <typename T>
T optional_value(const nlohmann::json& j, const char* key, T fallback, const std::string& where) {
  return j.contains(key) ? required<T>(j, key, where) : fallback;
}

}  // namespace detail::settings

/// The JSON form of `settings`.
inline nlohmann::json to_json(const EmbeddingSettings& settings) {
  nlohmann::json j = {{"format", "vikcse-embedding"},
                      {"version", 1},
                      {"pooler", std::string(to_string(settings.pooler))},
                      {"first_layer", settings.first == FirstLayer::layer1 ? "layer1" : "embeddings"},
                      {"head", settings.head},
                      {"template", settings.template_text},
                      {"lowercase", settings.lowercase},
                      {"append_period", settings.append_period},
                      {"normalize", settings.normalize},
                      {"max_length", settings.max_length}};
  if (settings.layout) {
    j["layout"] = {{"prefix", settings.layout->prefix},
                   {"suffix", settings.layout->suffix},
                   {"mask_id", settings.layout->mask_id},
                   {"sentence_space", settings.layout->sentence_space}};
  }
  return j;
}

/// Reads settings from their JSON form; `where` names the source in errors.
/// @throws vikcse::checkpoint_error naming `where` and the key that is missing, mistyped or invalid.
inline EmbeddingSettings embedding_settings_from_json(const nlohmann::json& j, const std::string& where) {
  using detail::settings::optional_value;
  using detail::settings::required;
  if (!j.is_object()) throw_error<checkpoint_error>("{}: expected a JSON object, found {}", where, j.type_name());
  if (const auto format = required<std::string>(j, "format", where); format != "vikcse-embedding") {
    throw_error<checkpoint_error>("{}: 'format' is '{}', expected 'vikcse-embedding'", where, format);
  }
  if (const auto version = required<int>(j, "version", where); version != 1) {
    throw_error<checkpoint_error>("{}: version {} is not supported (this library reads version 1)", where, version);
  }
  EmbeddingSettings s;
  try {
    s.pooler = parse_pooler_kind(required<std::string>(j, "pooler", where));
  } catch (const config_error& e) {
    throw_error<checkpoint_error>("{}: {}", where, e.what());
  }
  const auto first = optional_value<std::string>(j, "first_layer", "embeddings", where);
  if (first != "embeddings" && first != "layer1") {
    throw_error<checkpoint_error>("{}: 'first_layer' is '{}', expected embeddings or layer1", where, first);
  }
  s.first = first == "layer1" ? FirstLayer::layer1 : FirstLayer::embeddings;
  s.head = optional_value<bool>(j, "head", false, where);
  s.template_text = optional_value<std::string>(j, "template", "", where);
  s.lowercase = optional_value<bool>(j, "lowercase", false, where);
  s.append_period = optional_value<bool>(j, "append_period", false, where);
  s.normalize = optional_value<bool>(j, "normalize", false, where);
  s.max_length = optional_value<std::int64_t>(j, "max_length", 512, where);
  if (s.max_length < 0) throw_error<checkpoint_error>("{}: 'max_length' is {}, expected >= 0", where, s.max_length);
  if (j.contains("layout") && !j.at("layout").is_null()) {
    const auto& l = j.at("layout");
    const auto at = where + ": layout";
    if (!l.is_object()) throw_error<checkpoint_error>("{}: expected an object, found {}", at, l.type_name());
    PromptLayout layout;
    layout.prefix = required<std::vector<std::int64_t>>(l, "prefix", at);
    layout.suffix = required<std::vector<std::int64_t>>(l, "suffix", at);
    layout.mask_id = required<std::int64_t>(l, "mask_id", at);
    layout.sentence_space = optional_value<bool>(l, "sentence_space", false, at);
    if (std::count(layout.suffix.begin(), layout.suffix.end(), layout.mask_id) != 1) {
      throw_error<checkpoint_error>("{}: the suffix must hold the mask id {} exactly once", at, layout.mask_id);
    }
    s.layout = std::move(layout);
  }
  if (s.pooler == PoolerKind::mask && !s.layout) {
    throw_error<checkpoint_error>("{}: pooler 'mask' needs a 'layout' (the prompt template's token ids)", where);
  }
  return s;
}

/// Writes `settings` to `dir/vikcse_embedding.json` (atomically).
inline void write_embedding_settings(const std::filesystem::path& dir, const EmbeddingSettings& settings) {
  detail::write_text_atomically<checkpoint_error>(dir / embedding_settings_file_name, to_json(settings).dump(2) + "\n");
}

/// The settings in `dir/vikcse_embedding.json`, or nullopt when the file does not exist.
/// @throws vikcse::checkpoint_error naming the file when it is not valid JSON or not valid settings.
inline std::optional<EmbeddingSettings> read_embedding_settings(const std::filesystem::path& dir) {
  const auto path = dir / embedding_settings_file_name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path);
  if (!in) throw_error<checkpoint_error>("{}: cannot open for reading", path.string());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw_error<checkpoint_error>("{}: not valid JSON: {}", path.string(), e.what());
  }
  return embedding_settings_from_json(j, path.string());
}

}  // namespace vikcse
