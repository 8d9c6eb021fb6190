// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file sentence_transformers.hpp
/// The sentence-transformers directory layout, read and written with the field names that library
/// uses:
///
///     modules.json                 [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
///                                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
///                                   {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
///                                   {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}]
///     sentence_bert_config.json    {"max_seq_length": 128, "do_lower_case": false}     (in the Transformer's path)
///     1_Pooling/config.json        {"word_embedding_dimension": 768, "pooling_mode_cls_token": false,
///                                   "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false,
///                                   "pooling_mode_mean_sqrt_len_tokens": false,
///                                   "pooling_mode_weightedmean_tokens": false, "pooling_mode_lasttoken": false, ...}
///     2_Dense/config.json          {"in_features": 768, "out_features": 768, "bias": true,
///                                   "activation_function": "torch.nn.modules.activation.Tanh"}
///     2_Dense/model.safetensors    linear.weight [out, in], linear.bias [out]   (or pytorch_model.bin)
///
/// The Transformer's weights and tokenizer files are the Hugging Face checkpoint in its path. One
/// pooling mode per model is supported (sentence-transformers can concatenate several; such a
/// model is refused by name); Dense layers with a Tanh or Identity activation; Normalize.

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>
#include <vikcse/pooler/pooler.hpp>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// A sentence-transformers `Dense` module: `activation(x Wᵀ + b)`.
struct SentenceTransformersDense {
  torch::Tensor weight;  ///< `linear.weight` `[out, in]`
  torch::Tensor bias;    ///< `linear.bias` `[out]`, undefined without bias
  bool tanh = true;      ///< activation: Tanh (true) or Identity (false)

  /// Applies the layer in the input's dtype and device.
  [[nodiscard]] torch::Tensor operator()(const torch::Tensor& x) const {
    const auto w = weight.to(x.device(), x.scalar_type());
    auto y = bias.defined() ? torch::addmm(bias.to(x.device(), x.scalar_type()), x, w.t()) : x.matmul(w.t());
    return tanh ? torch::tanh(y) : y;
  }
};

/// What a sentence-transformers directory describes (the modules this library runs).
struct SentenceTransformersModel {
  std::filesystem::path transformer_dir;         ///< the Hugging Face checkpoint (the Transformer's path)
  std::int64_t max_seq_length = 512;             ///< `sentence_bert_config.json`
  bool do_lower_case = false;                    ///< `sentence_bert_config.json`
  std::int64_t word_embedding_dimension = 0;     ///< `1_Pooling/config.json`
  PoolerKind pooling = PoolerKind::avg;          ///< the one pooling mode
  std::vector<SentenceTransformersDense> dense;  ///< Dense modules after the pooling, in order
  bool normalize = false;                        ///< a Normalize module ends the pipeline
};

namespace detail::st {

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw_error<checkpoint_error>("{}: cannot open for reading", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw_error<checkpoint_error>("{}: not valid JSON: {}", path.string(), e.what());
  }
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::filesystem::path& file) {
  if (!j.is_object() || !j.contains(key)) throw_error<checkpoint_error>("{}: missing key '{}'", file.string(), key);
  return detail::json_as<T, checkpoint_error>(j.at(key),
                                              fmt::format("{}: key '{}' has the wrong type", file.string(), key));
}

inline constexpr const char* transformer_type = "sentence_transformers.models.Transformer";
inline constexpr const char* pooling_type = "sentence_transformers.models.Pooling";
inline constexpr const char* dense_type = "sentence_transformers.models.Dense";
inline constexpr const char* normalize_type = "sentence_transformers.models.Normalize";
inline constexpr const char* tanh_name = "torch.nn.modules.activation.Tanh";
inline constexpr const char* identity_name = "torch.nn.modules.linear.Identity";

/// The pooling keys in the order sentence-transformers concatenates them.
inline constexpr std::array<PoolerKind, 6> pooling_kinds = {
    PoolerKind::cls_before_pooler, PoolerKind::max,           PoolerKind::avg,
    PoolerKind::mean_sqrt_len,     PoolerKind::weighted_mean, PoolerKind::last_token};

inline PoolerKind read_pooling(const std::filesystem::path& dir, std::int64_t& dimension) {
  const auto file = dir / "config.json";
  const auto j = read_json(file);
  dimension = field<std::int64_t>(j, "word_embedding_dimension", file);
  std::vector<PoolerKind> on;
  for (const auto kind : pooling_kinds) {
    const std::string key(sentence_transformers_pooling_key(kind));
    if (j.contains(key) && field<bool>(j, key.c_str(), file)) on.push_back(kind);
  }
  if (on.size() != 1) {
    std::vector<std::string> names;
    for (const auto kind : on) names.emplace_back(sentence_transformers_pooling_key(kind));
    throw_error<checkpoint_error>(
        "{}: {} pooling modes are on ({}); this library runs models with exactly one (cls, mean, max, "
        "mean_sqrt_len_tokens, weightedmean or lasttoken)",
        file.string(), on.size(), names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
  }
  return on.front();
}

inline SentenceTransformersDense read_dense(const std::filesystem::path& dir) {
  const auto file = dir / "config.json";
  const auto j = read_json(file);
  const auto in = field<std::int64_t>(j, "in_features", file);
  const auto out = field<std::int64_t>(j, "out_features", file);
  const bool has_bias = j.contains("bias") ? field<bool>(j, "bias", file) : true;
  const auto activation =
      j.contains("activation_function") ? field<std::string>(j, "activation_function", file) : std::string(tanh_name);
  if (activation != tanh_name && activation != identity_name) {
    throw_error<checkpoint_error>("{}: activation_function '{}' is not supported (expected {} or {})", file.string(),
                                  activation, tanh_name, identity_name);
  }
  std::map<std::string, torch::Tensor> tensors;
  std::filesystem::path weights = dir / "model.safetensors";
  if (std::filesystem::exists(weights)) {
    tensors = SafetensorsFile::open(weights).load_all();
  } else if (weights = dir / "pytorch_model.bin"; std::filesystem::exists(weights)) {
    tensors = read_torch_pickle(weights);
  } else {
    throw_error<checkpoint_error>("{}: no weights (expected model.safetensors or pytorch_model.bin)", dir.string());
  }
  SentenceTransformersDense dense;
  dense.tanh = activation == tanh_name;
  const auto w = tensors.find("linear.weight");
  if (w == tensors.end()) throw_error<checkpoint_error>("{}: missing tensor 'linear.weight'", weights.string());
  if (w->second.dim() != 2 || w->second.size(0) != out || w->second.size(1) != in) {
    throw_error<checkpoint_error>("{}: 'linear.weight' has shape [{}], config.json says [{}, {}]", weights.string(),
                                  fmt::join(w->second.sizes(), ", "), out, in);
  }
  dense.weight = w->second.to(torch::kFloat);
  if (has_bias) {
    const auto b = tensors.find("linear.bias");
    if (b == tensors.end()) throw_error<checkpoint_error>("{}: missing tensor 'linear.bias'", weights.string());
    if (b->second.dim() != 1 || b->second.size(0) != out) {
      throw_error<checkpoint_error>("{}: 'linear.bias' has shape [{}], expected [{}]", weights.string(),
                                    fmt::join(b->second.sizes(), ", "), out);
    }
    dense.bias = b->second.to(torch::kFloat);
  }
  return dense;
}

}  // namespace detail::st

/// True when `dir` holds a sentence-transformers `modules.json`.
inline bool is_sentence_transformers_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / "modules.json", ec);
}

/// Reads the sentence-transformers model in `dir`: a Transformer, one Pooling, then Dense and
/// Normalize modules.
/// @throws vikcse::checkpoint_error naming the file and the key or module that is missing, of an
///         unsupported type, or in an unsupported order.
inline SentenceTransformersModel read_sentence_transformers(const std::filesystem::path& dir) {
  using namespace detail::st;
  const auto modules_file = dir / "modules.json";
  const auto modules = read_json(modules_file);
  if (!modules.is_array() || modules.empty()) {
    throw_error<checkpoint_error>("{}: expected a non-empty array of modules", modules_file.string());
  }
  SentenceTransformersModel model;
  bool transformer = false;
  bool pooling = false;
  for (const auto& m : modules) {
    const auto type = field<std::string>(m, "type", modules_file);
    const auto path = dir / field<std::string>(m, "path", modules_file);
    if (type == transformer_type && !transformer) {
      transformer = true;
      model.transformer_dir = path;
      const auto st_file = path / "sentence_bert_config.json";
      if (std::filesystem::exists(st_file)) {
        const auto st = read_json(st_file);
        if (st.contains("max_seq_length") && !st["max_seq_length"].is_null())
          model.max_seq_length = field<std::int64_t>(st, "max_seq_length", st_file);
        if (st.contains("do_lower_case")) model.do_lower_case = field<bool>(st, "do_lower_case", st_file);
      }
    } else if (type == pooling_type && transformer && !pooling) {
      pooling = true;
      model.pooling = read_pooling(path, model.word_embedding_dimension);
    } else if (type == dense_type && pooling && !model.normalize) {
      model.dense.push_back(read_dense(path));
    } else if (type == normalize_type && pooling && !model.normalize) {
      model.normalize = true;
    } else {
      throw_error<checkpoint_error>(
          "{}: module '{}' ({}) is not supported here: this library runs Transformer, then one Pooling, then Dense "
          "and Normalize modules, in that order",
          modules_file.string(), field<std::string>(m, "path", modules_file), type);
    }
  }
  if (!transformer || !pooling) {
    throw_error<checkpoint_error>("{}: needs a {} and a {} module", modules_file.string(), transformer_type,
                                  pooling_type);
  }
  return model;
}

/// Writes the sentence-transformers module files of `model` into `dir` (its Transformer is the
/// Hugging Face checkpoint at `dir` itself, written separately): `modules.json`,
/// `sentence_bert_config.json`, `1_Pooling/config.json`, a `k_Dense` folder per Dense module (weights
/// as `model.safetensors`) and `k_Normalize`, and `config_sentence_transformers.json`. Every file is
/// written atomically.
/// @throws vikcse::config_error when the pooling has no sentence-transformers mode;
///         vikcse::checkpoint_error when a file cannot be written.
inline void write_sentence_transformers(const std::filesystem::path& dir, const SentenceTransformersModel& model) {
  using namespace detail::st;
  const auto key = sentence_transformers_pooling_key(model.pooling);
  if (key.empty()) {
    throw_error<config_error>(
        "pooler '{}' has no sentence-transformers Pooling mode (it has cls, mean, max, "
        "mean_sqrt_len_tokens, weightedmean and lasttoken)",
        to_string(model.pooling));
  }
  auto make_dir = [](const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::create_directories(p, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot create directory: {}", p.string(), ec.message());
  };
  auto write = [](const std::filesystem::path& p, const nlohmann::json& j) {
    detail::write_text_atomically<checkpoint_error>(p, j.dump(2) + "\n");
  };
  nlohmann::json modules = nlohmann::json::array();
  auto add = [&](const std::string& path, const char* type) {
    const auto idx = static_cast<int>(modules.size());
    modules.push_back({{"idx", idx}, {"name", std::to_string(idx)}, {"path", path}, {"type", type}});
  };
  add("", transformer_type);
  add("1_Pooling", pooling_type);
  nlohmann::json pooling = {{"word_embedding_dimension", model.word_embedding_dimension}};
  for (const auto kind : pooling_kinds)
    pooling[std::string(sentence_transformers_pooling_key(kind))] = kind == model.pooling;
  pooling["include_prompt"] = true;
  make_dir(dir / "1_Pooling");
  write(dir / "1_Pooling" / "config.json", pooling);
  for (const auto& d : model.dense) {
    const auto path = fmt::format("{}_Dense", modules.size());
    make_dir(dir / path);
    write(dir / path / "config.json", {{"in_features", d.weight.size(1)},
                                       {"out_features", d.weight.size(0)},
                                       {"bias", d.bias.defined()},
                                       {"activation_function", d.tanh ? tanh_name : identity_name}});
    std::map<std::string, torch::Tensor> tensors{{"linear.weight", d.weight}};
    if (d.bias.defined()) tensors["linear.bias"] = d.bias;
    save_safetensors(dir / path / "model.safetensors", tensors, {{"format", "pt"}});
    add(path, dense_type);
  }
  if (model.normalize) {
    const auto path = fmt::format("{}_Normalize", modules.size());
    make_dir(dir / path);
    add(path, normalize_type);
  }
  write(dir / "sentence_bert_config.json",
        {{"max_seq_length", model.max_seq_length}, {"do_lower_case", model.do_lower_case}});
  write(dir / "config_sentence_transformers.json",
        {{"prompts", nlohmann::json::object()}, {"default_prompt_name", nullptr}, {"similarity_fn_name", "cosine"}});
  write(dir / "modules.json", modules);  // last: a directory without it is not taken for a complete model
}

}  // namespace vikcse
