// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file hf_checkpoint.hpp
/// Reading and writing Hugging Face checkpoint directories: the weight files
/// (`model.safetensors`, sharded `model.safetensors.index.json`, legacy `pytorch_model.bin`) and
/// the mapping of their keys onto a module's parameter names.

#include <vikcse/checkpoint/load_report.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/error.hpp>

#include <torch/serialize.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace vikcse {

/// The file beside the encoder's weights where `save_model_checkpoint` writes the training heads
/// (pooler MLP, MCSE/VIKCSE projectors), and the metadata key in it naming the pooler that owns
/// `pooler.mlp` (`cls`, `avg`, ..., or `mask` for a prompt pooler).
inline constexpr const char* heads_file_name = "vikcse_heads.safetensors";
inline constexpr const char* heads_pooler_key = "vikcse_pooler";

/// How a checkpoint key relates to a model: the model key it fills, or nothing (skip it).
struct MappedKey {
  std::optional<std::string> model_key;  ///< empty: the key is deliberately ignored
};

/// Maps a checkpoint key onto a model key.
using KeyMapper = std::function<MappedKey(const std::string&)>;

/// The key mapping of BERT-family encoders (BERT and RoBERTa share one key tree): drops the
/// `<prefix>.` of task models (`bert.`, `roberta.`), renames legacy `LayerNorm.gamma`/`beta`, and
/// ignores task heads (`cls.`, `lm_head.`, `mlp.`, `classifier.`, ...) and the non-persistent
/// buffers `embeddings.position_ids` / `embeddings.token_type_ids`.
inline MappedKey map_bert_family_key(const std::string& key, const std::string& prefix) {
  std::string k = key;
  if (k.rfind(prefix + ".", 0) == 0) k = k.substr(prefix.size() + 1);
  for (const char* head : {"cls.", "lm_head.", "mlp.", "classifier.", "qa_outputs.", "pooler_head."}) {
    if (k.rfind(head, 0) == 0) return {std::nullopt};
  }
  if (k == "embeddings.position_ids" || k == "embeddings.token_type_ids") return {std::nullopt};
  auto rename_suffix = [&](const std::string& from, const std::string& to) {
    if (k.size() > from.size() && k.compare(k.size() - from.size(), from.size(), from) == 0) {
      k = k.substr(0, k.size() - from.size()) + to;
    }
  };
  rename_suffix("LayerNorm.gamma", "LayerNorm.weight");
  rename_suffix("LayerNorm.beta", "LayerNorm.bias");
  return {k};
}

namespace detail {

inline std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<checkpoint_error>("{}: cannot open file", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Tensors of a `torch.save(state_dict)` zip file through LibTorch's pickle loader.
inline std::map<std::string, torch::Tensor> read_torch_pickle(const std::filesystem::path& path) {
  torch::IValue value;
  try {
    value = torch::pickle_load(read_bytes(path));
  } catch (const c10::Error& e) {
    throw_error<checkpoint_error>(
        "{}: LibTorch's pickle loader cannot read this file ({}). It reads files written by torch.save of a plain "
        "state dict in the zip format (PyTorch >= 1.6); convert other files to model.safetensors.",
        path.string(), e.what_without_backtrace());
  }
  if (!value.isGenericDict()) {
    throw_error<checkpoint_error>("{}: expected a state dict (a dict of tensors), got {}", path.string(),
                                  value.tagKind());
  }
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : value.toGenericDict()) {
    if (!item.key().isString() || !item.value().isTensor()) {
      throw_error<checkpoint_error>("{}: state dict entry is not a (string, tensor) pair: {} -> {}", path.string(),
                                    item.key().tagKind(), item.value().tagKind());
    }
    tensors.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return tensors;
}

}  // namespace detail

/// Reads every tensor of the weights in a checkpoint directory, trying in order
/// `model.safetensors`, `model.safetensors.index.json` (shards) and `pytorch_model.bin`.
inline std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw_error<checkpoint_error>("{}: checkpoint directory does not exist", dir.string());
  if (fs::exists(dir / "model.safetensors")) return SafetensorsFile::open(dir / "model.safetensors").load_all();
  if (fs::exists(dir / "model.safetensors.index.json")) {
    const auto index_path = dir / "model.safetensors.index.json";
    nlohmann::json index;
    try {
      std::ifstream in(index_path);
      in >> index;
    } catch (const nlohmann::json::exception& e) {
      throw_error<checkpoint_error>("{}: not valid JSON: {}", index_path.string(), e.what());
    }
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw_error<checkpoint_error>("{}: missing object 'weight_map'", index_path.string());
    }
    std::map<std::string, std::set<std::string>> keys_by_shard;
    for (const auto& [key, shard] : index["weight_map"].items()) {
      if (!shard.is_string())
        throw_error<checkpoint_error>("{}: weight_map['{}'] is not a file name", index_path.string(), key);
      keys_by_shard[shard.get<std::string>()].insert(key);
    }
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& [shard, keys] : keys_by_shard) {
      auto file = SafetensorsFile::open(dir / shard);
      for (const auto& key : keys) {
        if (!file.contains(key)) {
          throw_error<checkpoint_error>("{}: weight_map puts '{}' in {}, which has no such tensor", index_path.string(),
                                        key, shard);
        }
        tensors.emplace(key, file.load(key));
      }
    }
    return tensors;
  }
  if (fs::exists(dir / "pytorch_model.bin")) return detail::read_torch_pickle(dir / "pytorch_model.bin");
  throw_error<checkpoint_error>(
      "{}: no weights found (expected model.safetensors, model.safetensors.index.json or "
      "pytorch_model.bin)",
      dir.string());
}

namespace detail {

/// The parameters and buffers of `module` by name.
inline std::map<std::string, torch::Tensor> named_state(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) state.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) state.emplace(item.key(), item.value());
  return state;
}

}  // namespace detail

/// Matches checkpoint keys and shapes against `module` without touching any data: which model
/// key each checkpoint key fills (`plan`, checkpoint key -> model key), and the report.
inline LoadReport match_checkpoint(torch::nn::Module& module,
                                   const std::map<std::string, std::vector<std::int64_t>>& checkpoint_shapes,
                                   const KeyMapper& mapper, std::map<std::string, std::string>* plan = nullptr) {
  LoadReport report;
  const auto model = detail::named_state(module);
  std::set<std::string> filled;
  for (const auto& [key, shape] : checkpoint_shapes) {
    auto mapped = mapper(key);
    if (!mapped.model_key) {
      report.ignored.push_back(key);
      continue;
    }
    auto it = model.find(*mapped.model_key);
    if (it == model.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    if (it->second.sizes().vec() != shape) {
      report.mismatched.push_back({key, it->second.sizes().vec(), shape});
      continue;
    }
    filled.insert(it->first);
    report.loaded.push_back(it->first);
    if (plan != nullptr) (*plan)[key] = it->first;
  }
  for (const auto& [key, tensor] : model)
    if (!filled.count(key)) report.missing.push_back(key);
  return report;
}

/// Copies `tensors` into `module`'s parameters and buffers by name after `mapper`, converting
/// dtype and device to the model's. With `strict`, any missing, unexpected or shape-mismatched key
/// throws checkpoint_error with the report; otherwise the report says what happened.
inline LoadReport load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                                  const KeyMapper& mapper, bool strict, const std::string& source) {
  std::map<std::string, std::vector<std::int64_t>> shapes;
  for (const auto& [key, tensor] : tensors) shapes.emplace(key, tensor.sizes().vec());
  std::map<std::string, std::string> plan;
  auto report = match_checkpoint(module, shapes, mapper, &plan);
  if (strict && !report.clean()) {
    throw_error<checkpoint_error>("{}: checkpoint does not match the model (strict mode): {}", source,
                                  report.summary());
  }
  auto model = detail::named_state(module);
  torch::NoGradGuard no_grad;
  for (const auto& [checkpoint_key, model_key] : plan) model.at(model_key).copy_(tensors.at(checkpoint_key));
  return report;
}

/// Writes a module's parameters and buffers as `model.safetensors` (keys = module names).
inline void save_state_dict(torch::nn::Module& module, const std::filesystem::path& path) {
  save_safetensors(path, detail::named_state(module), {{"format", "pt"}});
}

}  // namespace vikcse
