// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file save_sentence_transformers.hpp
/// `save_sentence_transformers`: a trained host written so that Python's
/// `SentenceTransformer(dir)` loads it and embeds as this library does. The directory is
/// `save_model_checkpoint`'s (Hugging Face encoder, heads, `vikcse_embedding.json`, tokenizer
/// files) plus the sentence-transformers modules:
///
/// | evaluation embedding            | modules                                              |
/// |---------------------------------|------------------------------------------------------|
/// | `cls_before_pooler`, `avg`, `max`, `mean_sqrt_len`, `weighted_mean`, `last_token` | Transformer → Pooling(mode) |
/// | `cls` with the trained MLP      | Transformer → Pooling(cls) → Dense(tanh, the MLP)     |
/// | `cls` with BERT's pooler        | Transformer → Pooling(cls) → Dense(tanh, `pooler.dense`) |
/// | any of these, `normalize`       | … → Normalize                                        |
///
/// `[MASK]` prompt pooling (PromptBERT, VIKCSE) has no sentence-transformers module (a Pooling mode
/// reads a fixed position or all of them; the prompt must also be wrapped around each sentence),
/// nor have `avg_top2` and `avg_first_last` (they read inner layers): those are refused before
/// anything is written. Save them with `save_model_checkpoint`; `SentenceEncoder` loads that.

#include <vikcse/error.hpp>
#include <vikcse/inference/sentence_transformers.hpp>
#include <vikcse/pooler/embedding_settings.hpp>
#include <vikcse/train/checkpoint.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <optional>

namespace vikcse {

/// Options of `save_sentence_transformers`.
struct SentenceTransformersSaveOptions {
  /// How the model embeds; default (nullopt): `embedding_settings_of(host)` (a recipe's
  /// `embedding_settings()` adds the text preparation). `normalize` adds a Normalize module.
  std::optional<EmbeddingSettings> embedding;
  /// Tokenizer files to copy (the directory must hold the tokenizer for Python to load it).
  std::vector<std::filesystem::path> tokenizer_files;
};

/// Writes `host` to `dir` in the sentence-transformers layout (see the file comment).
/// @tparam Host a `SentenceEmbedderImpl`
/// @throws vikcse::config_error for a pooler without a sentence-transformers equivalent, or text
///         preparation sentence-transformers cannot express (a final period; a prompt layout);
///         vikcse::checkpoint_error when a file cannot be written.
template <typename Host>
void save_sentence_transformers(Host& host, const std::filesystem::path& dir,
                                const SentenceTransformersSaveOptions& options = {}) {
  const auto settings = options.embedding ? *options.embedding : embedding_settings_of(host);
  SentenceTransformersModel st;
  st.word_embedding_dimension = host.encoder->config().hidden_size;
  st.max_seq_length = settings.max_length;
  st.do_lower_case = settings.lowercase;
  st.normalize = settings.normalize;
  st.pooling = settings.pooler == PoolerKind::cls ? PoolerKind::cls_before_pooler : settings.pooler;
  if (settings.pooler == PoolerKind::mask) {
    throw_error<config_error>(
        "save_sentence_transformers: [MASK] prompt pooling (PromptBERT, VIKCSE) has no sentence-transformers module; "
        "save the model with save_model_checkpoint, which vikcse::SentenceEncoder and vikcse_encode load");
  }
  if (sentence_transformers_pooling_key(st.pooling).empty()) {
    throw_error<config_error>(
        "save_sentence_transformers: pooler '{}' reads inner layers and has no sentence-transformers Pooling mode; "
        "save the model with save_model_checkpoint",
        to_string(settings.pooler));
  }
  if (settings.append_period || settings.layout) {
    throw_error<config_error>(
        "save_sentence_transformers: sentence-transformers cannot append a period or wrap a template around the "
        "sentence; save the model with save_model_checkpoint");
  }
  if (settings.pooler == PoolerKind::cls || settings.head) {
    torch::NoGradGuard no_grad;
    SentenceTransformersDense dense;
    const auto params = host.named_parameters();
    const char* weight = settings.head ? "pooler.mlp.dense.weight" : "encoder.pooler.dense.weight";
    const char* bias = settings.head ? "pooler.mlp.dense.bias" : "encoder.pooler.dense.bias";
    const auto* w = params.find(weight);
    const auto* b = params.find(bias);
    if (w == nullptr || b == nullptr) {
      throw_error<config_error>("save_sentence_transformers: the model has no '{}' for its '{}' head", weight,
                                to_string(settings.pooler));
    }
    dense.weight = w->detach().to(torch::kCPU, torch::kFloat).clone();
    dense.bias = b->detach().to(torch::kCPU, torch::kFloat).clone();
    st.dense.push_back(dense);
  }
  SaveOptions save;
  save.embedding = settings;
  save.tokenizer_files = options.tokenizer_files;
  save_model_checkpoint(host, dir, save);
  write_sentence_transformers(dir, st);
}

}  // namespace vikcse
