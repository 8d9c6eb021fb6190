// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file checkpoint.hpp
/// Saving a trained host in Hugging Face layout: `config.json` + `model.safetensors` hold the
/// encoder alone (loadable by `transformers.AutoModel` and by `vikcse::AutoModel`), plus the
/// training heads (`vikcse_heads.safetensors`), optional sentence-transformers files and optional
/// tokenizer files copied from a directory.

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/pooler/pooler.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vikcse {

/// Options of `save_model_checkpoint`.
struct SaveOptions {
  /// sentence-transformers pooling written to `1_Pooling/config.json`: "cls", "mean" or "" (none).
  std::string sentence_transformers_pooling = "cls";
  /// Tokenizer files to copy into the checkpoint (e.g. vocab.txt, tokenizer.json).
  std::vector<std::filesystem::path> tokenizer_files;
};

/// Writes `host`'s encoder (submodule `encoder`) in Hugging Face layout and the other parameters
/// (heads) to `vikcse_heads.safetensors`.
/// @tparam Host a `SentenceEmbedderImpl` (anything with `->encoder->config()`).
template <typename Host>
void save_model_checkpoint(Host& host, const std::filesystem::path& dir, const SaveOptions& options = {}) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw_error<checkpoint_error>("{}: cannot create checkpoint directory: {}", dir.string(), ec.message());
  save_state_dict(*host.encoder, dir / "model.safetensors");
  host.encoder->config().save(dir / "config.json");
  std::map<std::string, torch::Tensor> heads;
  for (const auto& item : host.named_parameters()) {
    if (item.key().rfind("encoder.", 0) != 0) heads[item.key()] = item.value();
  }
  // The metadata names the pooler that owns `pooler.mlp`: a [MASK] pooler's head is not a [CLS] head.
  std::map<std::string, std::string> metadata{{"format", "pt"}};
  if constexpr (requires { host.pooler->mask_token_id(); }) {
    metadata[heads_pooler_key] = "mask";
  } else if constexpr (requires { host.pooler->options.kind(); }) {
    metadata[heads_pooler_key] = std::string(to_string(host.pooler->options.kind()));
  }
  if (!heads.empty()) {
    save_safetensors(dir / heads_file_name, heads, metadata);
  } else {
    std::filesystem::remove(dir / heads_file_name, ec);  // an earlier checkpoint's heads are not this model's
  }
  for (const auto& file : options.tokenizer_files) {
    std::filesystem::copy_file(file, dir / file.filename(), std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
      throw_error<checkpoint_error>("{}: cannot copy tokenizer file into {}: {}", file.string(), dir.string(),
                                    ec.message());
  }
  if (!options.sentence_transformers_pooling.empty()) {
    const bool cls = options.sentence_transformers_pooling == "cls";
    nlohmann::json modules = nlohmann::json::array(
        {{{"idx", 0}, {"name", "0"}, {"path", ""}, {"type", "sentence_transformers.models.Transformer"}},
         {{"idx", 1}, {"name", "1"}, {"path", "1_Pooling"}, {"type", "sentence_transformers.models.Pooling"}}});
    detail::write_text_atomically<checkpoint_error>(dir / "modules.json", modules.dump(2) + "\n");
    std::filesystem::create_directories(dir / "1_Pooling", ec);
    nlohmann::json pooling = {{"word_embedding_dimension", host.encoder->config().hidden_size},
                              {"pooling_mode_cls_token", cls},
                              {"pooling_mode_mean_tokens", !cls},
                              {"pooling_mode_max_tokens", false},
                              {"pooling_mode_mean_sqrt_len_tokens", false}};
    detail::write_text_atomically<checkpoint_error>(dir / "1_Pooling" / "config.json", pooling.dump(2) + "\n");
    nlohmann::json st = {{"max_seq_length", 512}, {"do_lower_case", false}};
    detail::write_text_atomically<checkpoint_error>(dir / "sentence_bert_config.json", st.dump(2) + "\n");
  }
}

/// Loads what `save_model_checkpoint` wrote back into `host` (encoder and heads; strict).
/// @tparam Host a `SentenceEmbedderImpl`.
template <typename Host>
void load_model_checkpoint(Host& host, const std::filesystem::path& dir) {
  const auto tensors = read_checkpoint_tensors(dir);
  load_state_dict(
      *host.encoder, tensors,
      [&](const std::string& key) { return map_bert_family_key(key, host.encoder->config().model_type); },
      /*strict=*/true, dir.string());
  const auto heads_path = dir / heads_file_name;
  if (std::filesystem::exists(heads_path)) {
    const auto heads = SafetensorsFile::open(heads_path).load_all();
    auto params = host.named_parameters();
    torch::NoGradGuard no_grad;
    for (const auto& [key, t] : heads) {
      auto* p = params.find(key);
      if (p == nullptr) throw_error<checkpoint_error>("{}: unexpected head tensor '{}'", heads_path.string(), key);
      if (p->sizes() != t.sizes()) {
        throw_error<checkpoint_error>("{}: head tensor '{}' has shape [{}], the model expects [{}]",
                                      heads_path.string(), key, fmt::join(t.sizes(), ", "),
                                      fmt::join(p->sizes(), ", "));
      }
      p->copy_(t);
    }
  }
}

}  // namespace vikcse
