// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file checkpoint.hpp
/// Saving a trained host in Hugging Face layout: `config.json` + `model.safetensors` hold the
/// encoder alone (loadable by `transformers.AutoModel` and by `vikcse::AutoModel`), plus the
/// training heads (`vikcse_heads.safetensors`), how the model embeds (`vikcse_embedding.json`, read
/// by `SentenceEncoder`) and optional tokenizer files copied from a directory. The
/// sentence-transformers layout is `save_sentence_transformers` (inference layer).

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/pooler/embedding_settings.hpp>
#include <vikcse/pooler/pooler.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// Options of `save_model_checkpoint`.
struct SaveOptions {
  /// How the saved model embeds (`vikcse_embedding.json`). Default (nullopt):
  /// `embedding_settings_of(host)`, which knows the pooler and head but not the prompt layout or
  /// the text preparation; a recipe's `embedding_settings()` knows all of it.
  std::optional<EmbeddingSettings> embedding;
  /// Tokenizer files to copy into the checkpoint (e.g. vocab.txt, tokenizer.json).
  std::vector<std::filesystem::path> tokenizer_files;
};

/// The tokenizer files of `dir` that a checkpoint should carry (`tokenizer.json`, `vocab.txt`,
/// `vocab.json`, `merges.txt`, `tokenizer_config.json`, `special_tokens_map.json`,
/// `added_tokens.json`, whichever exist), for `SaveOptions::tokenizer_files`.
inline std::vector<std::filesystem::path> tokenizer_files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const char* name : {"tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json",
                           "special_tokens_map.json", "added_tokens.json"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / name, ec)) files.push_back(dir / name);
  }
  return files;
}

/// The embedding settings that `host`'s own pooler implies at evaluation: the pooler kind, whether
/// its trained MLP head applies in eval mode (not under `mlp_only_train`), and the length limit of
/// the encoder's positions. A prompt pooler gives `mask` without a layout (the host holds only the
/// mask id): add the layout, or use the recipe's `embedding_settings()`. Template denoising is not
/// part of the settings: a saved model embeds with the raw [MASK] state (PromptBERT's final protocol).
/// @tparam Host a `SentenceEmbedderImpl`
template <typename Host>
EmbeddingSettings embedding_settings_of(Host& host) {
  EmbeddingSettings s;
  const auto& pooler = host.pooler;
  const bool head = pooler->mlp && !pooler->options.mlp_only_train();
  if constexpr (requires { pooler->mask_token_id(); }) {
    s.pooler = PoolerKind::mask;
    s.head = head;
  } else if constexpr (requires { pooler->options.kind(); }) {
    const auto kind = pooler->options.kind();
    s.pooler = kind == PoolerKind::cls && !head ? PoolerKind::cls_before_pooler : kind;
    s.first = pooler->options.first();
    s.head = head;
  }
  const auto& config = host.encoder->config();
  s.max_length = config.max_position_embeddings - (config.model_type == "roberta" ? config.pad_token_id + 1 : 0);
  return s;
}

/// Writes `host`'s encoder (submodule `encoder`) in Hugging Face layout and the other parameters
/// (heads) to `vikcse_heads.safetensors`, and the embedding settings to `vikcse_embedding.json`.
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
  write_embedding_settings(dir, options.embedding ? *options.embedding : embedding_settings_of(host));
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
