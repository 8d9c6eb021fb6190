// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file sentence_encoder.hpp
/// `SentenceEncoder`: a saved model that knows how to embed. It loads one directory, of any of
/// three kinds, and finds out how the model embeds from what the directory holds:
///
/// 1. a checkpoint written by this library (`vikcse_embedding.json`): the pooler, the prompt layout,
///    the trained head, lower-casing and normalisation as the model was evaluated;
/// 2. a sentence-transformers directory (`modules.json`): the Transformer's checkpoint, its one
///    Pooling mode, Dense layers, Normalize, `max_seq_length` and `do_lower_case`;
/// 3. a plain Hugging Face BERT/RoBERTa checkpoint with a pooler the caller names.
///
/// Options given by the caller override what the directory says. `encode` returns `[N, D]` float32
/// rows in input order; it batches distinct sentences sorted by length and reports progress, through
/// the same `encode_sentences` and `make_embedder` the evaluation programs use, so its vectors are
/// `vikcse_eval`'s vectors for the same settings and precision (`vikcse_eval` runs float32 unless told;
/// `SentenceEncoderOptions::precision` defaults to `automatic`, see inference/precision.hpp).
///
///     auto model = vikcse::SentenceEncoder::load("runs/simcse/best");
///     torch::Tensor emb = model.encode({"A man plays a guitar.", "Someone plays music."});
///     torch::Tensor sim = vikcse::cos_sim(emb[0].unsqueeze(0), emb[1].unsqueeze(0));

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/embedding_cache.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/inference/precision.hpp>
#include <vikcse/inference/sentence_transformers.hpp>
#include <vikcse/pooler/embedding_settings.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/prompt/template.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// What the caller sets when loading a `SentenceEncoder`; unset fields come from the directory.
struct SentenceEncoderOptions {
  /// Pooler name (`cls`, `cls_before_pooler`, `avg`, `max`, `mask`, ... see `parse_pooler_kind`).
  /// Required for a plain Hugging Face checkpoint; overrides a saved model's pooler.
  std::optional<std::string> pooler;
  /// Prompt template with `[X]` and one `[MASK]` (the `mask` pooler): replaces the saved layout.
  std::optional<std::string> template_text;
  std::optional<bool> lowercase;           ///< lower-case sentences before templating
  std::optional<bool> append_period;       ///< append '.' to sentences that do not end with one
  std::optional<bool> normalize;           ///< L2-normalise the embeddings
  std::optional<std::int64_t> max_length;  ///< tokens per row (longer sentences are cut)
  std::optional<FirstLayer> first;         ///< `avg_first_last`'s first layer
  /// Tokenizer files from this directory instead of the model's.
  std::optional<std::filesystem::path> tokenizer;
  torch::Device device = torch::kCPU;  ///< where the model runs
  /// The encoder's arithmetic (the result is float32); `automatic`: see inference/precision.hpp.
  Precision precision = Precision::automatic;
};

/// Where a `SentenceEncoder`'s settings came from.
enum class ModelSource {
  vikcse,                 ///< `vikcse_embedding.json` of a checkpoint written by this library
  sentence_transformers,  ///< a sentence-transformers `modules.json`
  hugging_face            ///< a plain checkpoint and the caller's pooler
};

/// A loaded model with its tokenizer and embedding settings.
class SentenceEncoder {
public:
  /// Loads `dir` (see the file comment for the three kinds and their precedence).
  /// @throws vikcse::config_error when a plain checkpoint gets no pooler, a `mask` pooler has no
  ///         layout or template, or an option contradicts the model; vikcse::checkpoint_error /
  ///         tokenizer_error naming the file for unreadable model files; vikcse::config_error when
  ///         the tokenizer has more ids than the model's embedding matrix.
  static SentenceEncoder load(const std::filesystem::path& dir, const SentenceEncoderOptions& options = {}) {
    if (!std::filesystem::is_directory(dir)) {
      throw_error<checkpoint_error>("model directory '{}' does not exist", dir.string());
    }
    SentenceEncoder e;
    e.dir_ = dir;
    std::filesystem::path weights = dir;
    std::vector<SentenceTransformersDense> dense;
    if (auto saved = read_embedding_settings(dir)) {
      e.source_ = ModelSource::vikcse;
      e.settings_ = *saved;
    } else if (is_sentence_transformers_directory(dir)) {
      e.source_ = ModelSource::sentence_transformers;
      const auto st = read_sentence_transformers(dir);
      weights = st.transformer_dir;
      e.settings_.pooler = st.pooling;
      e.settings_.lowercase = st.do_lower_case;
      e.settings_.max_length = st.max_seq_length;
      e.settings_.normalize = st.normalize;
      dense = st.dense;
    } else {
      e.source_ = ModelSource::hugging_face;
      if (!options.pooler) {
        throw_error<config_error>(
            "{}: a plain Hugging Face checkpoint (no vikcse_embedding.json, no modules.json): name a pooler "
            "(cls, cls_before_pooler, avg, avg_top2, avg_first_last, mask, max, mean_sqrt_len, weighted_mean, "
            "last_token)",
            dir.string());
      }
    }
    auto& s = e.settings_;
    if (options.pooler) {
      const auto kind = parse_pooler_kind(*options.pooler);
      if (kind != s.pooler) s.head = false;  // a saved head belongs to the saved pooler
      s.pooler = kind;
    }
    if (options.lowercase) s.lowercase = *options.lowercase;
    if (options.append_period) s.append_period = *options.append_period;
    if (options.normalize) s.normalize = *options.normalize;
    if (options.max_length) s.max_length = *options.max_length;
    if (options.first) s.first = *options.first;

    e.model_ = AutoModel::from_pretrained(weights);
    const auto& config = e.model_.config();
    if (e.source_ == ModelSource::hugging_face && !options.max_length) {  // the encoder's positions
      s.max_length = config.max_position_embeddings - (config.model_type == "roberta" ? config.pad_token_id + 1 : 0);
    }
    const auto tokenizer_dir = options.tokenizer ? *options.tokenizer : weights;
    e.tokenizer_ = std::make_shared<const AutoTokenizer>(AutoTokenizer::from_directory(tokenizer_dir));
    config.require_tokenizer_fits(e.tokenizer_->vocab_size(), fmt::format("in {}", tokenizer_dir.string()));
    const auto specials = require_special_tokens(*e.tokenizer_);
    const auto tokenize = tokenize_function(e.tokenizer_);
    if (options.template_text) {
      const PromptTemplate tpl(*options.template_text, specials.mask_token);
      s.layout = make_prompt_layout(tpl, tokenize, specials);
      s.template_text = tpl.text();
    }
    if (s.pooler == PoolerKind::mask && !s.layout) {
      throw_error<config_error>("{}: pooler 'mask' needs a prompt template with [X] and one [MASK]", dir.string());
    }
    if (s.pooler != PoolerKind::mask && s.layout && !options.template_text) s.layout.reset();

    // Heads after pooling: the trained MLP of this library's checkpoint, or sentence-transformers' Dense layers.
    if (s.head) dense.insert(dense.begin(), read_trained_head(dir));
    EmbedderOptions eo;
    eo.layout = s.layout;
    eo.max_length = s.max_length;
    eo.truncate = true;
    eo.lowercase = s.lowercase;
    eo.append_period = s.append_period;
    eo.pooler.kind = s.pooler;
    eo.pooler.first = s.first;
    eo.device = options.device;
    if (s.pooler == PoolerKind::cls && !dense.empty()) {  // [CLS] + head: the head replaces BERT's pooler
      eo.pooler.head = dense.front();
      dense.erase(dense.begin());
    }
    const auto precision = resolve_precision(options.precision, options.device);
    if (precision == Precision::int8 && !options.device.is_cpu()) {
      throw_error<config_error>("{}: int8 runs on the CPU only; use bf16 on {}", dir.string(), options.device.str());
    }
    e.model_->to(options.device);
    if (precision == Precision::bfloat16) e.model_->to(torch::kBFloat16);
    if (precision == Precision::int8) e.model_->encoder->quantize_int8();
    auto inner = make_embedder(e.model_, tokenize, specials, eo);
    e.dense_ = dense;
    e.embedder_ = [inner = std::move(inner), dense, device = options.device](const std::vector<std::string>& batch) {
      auto x = inner(batch).to(device);
      for (const auto& d : dense) x = d(x);
      return x.to(torch::kCPU, torch::kFloat);
    };
    e.precision_ = precision;
    e.identity_ = e.compute_identity(weights, tokenizer_dir);
    return e;
  }

  /// Embeddings `[N, D]` (float32, CPU) of `sentences`, row i for `sentences[i]`; normalised when
  /// the settings say so. Batching, sorting, deduplication and progress follow `options`.
  [[nodiscard]] torch::Tensor encode(const std::vector<std::string>& sentences,
                                     const EncodeOptions& options = {}) const {
    auto out = encode_sentences(embedder_, sentences, options);
    if (settings_.normalize && out.numel() > 0) {
      out = out / out.norm(2, 1, true).clamp_min(1e-12);
    }
    return out;
  }

  /// The embedder behind `encode` (unnormalised rows), for the evaluation engine.
  [[nodiscard]] const Embedder& embedder() const { return embedder_; }
  /// How this model embeds, after the caller's options.
  [[nodiscard]] const EmbeddingSettings& settings() const { return settings_; }
  /// Where the settings came from.
  [[nodiscard]] ModelSource source() const { return source_; }
  /// The loaded encoder.
  [[nodiscard]] const AutoModel& model() const { return model_; }
  /// The tokenizer.
  [[nodiscard]] const AutoTokenizer& tokenizer() const { return *tokenizer_; }
  /// The directory it was loaded from.
  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }
  /// The encoder's arithmetic (never `automatic`: what it resolved to).
  [[nodiscard]] Precision precision() const { return precision_; }
  /// The embedding width: the last Dense layer's, else the encoder's hidden size.
  [[nodiscard]] std::int64_t dimension() const {
    return dense_.empty() ? model_.config().hidden_size : dense_.back().weight.size(0);
  }
  /// A key that changes when the weights, the tokenizer or any embedding setting change (not the
  /// path and not the precision): what a saved search index is checked against.
  [[nodiscard]] const std::string& identity() const { return identity_; }
  /// One line for people: the source, pooler, head, template and text preparation.
  [[nodiscard]] std::string description() const {
    const char* from = source_ == ModelSource::vikcse                  ? "vikcse checkpoint"
                       : source_ == ModelSource::sentence_transformers ? "sentence-transformers model"
                                                                       : "Hugging Face checkpoint";
    std::string head;
    if (settings_.head)
      head = ", trained MLP head";
    else if (settings_.pooler == PoolerKind::cls)
      head = ", BERT's pretrained pooler";
    if (!dense_.empty()) head += fmt::format(", {} Dense layer(s)", dense_.size());
    return fmt::format(
        "{} {}: pooler {}{}{}{}{}{}, max {} tokens, dimension {}, {}", from, dir_.string(), to_string(settings_.pooler),
        head, settings_.template_text.empty() ? "" : fmt::format(", template '{}'", settings_.template_text),
        settings_.lowercase ? ", lower-cased" : "", settings_.append_period ? ", period appended" : "",
        settings_.normalize ? ", normalised" : "", settings_.max_length, dimension(), to_string(precision_));
  }

private:
  SentenceEncoder() = default;

  static SentenceTransformersDense read_trained_head(const std::filesystem::path& dir) {
    const auto path = dir / heads_file_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      throw_error<checkpoint_error>("{}: missing: {} says the trained head applies", path.string(),
                                    embedding_settings_file_name);
    }
    const auto file = SafetensorsFile::open(path);
    for (const char* key : {"pooler.mlp.dense.weight", "pooler.mlp.dense.bias"}) {
      if (!file.contains(key)) throw_error<checkpoint_error>("{}: missing tensor '{}'", path.string(), key);
    }
    SentenceTransformersDense d;
    d.weight = file.load("pooler.mlp.dense.weight").to(torch::kFloat);
    d.bias = file.load("pooler.mlp.dense.bias").to(torch::kFloat);
    if (d.weight.dim() != 2 || d.bias.dim() != 1 || d.bias.size(0) != d.weight.size(0)) {
      throw_error<checkpoint_error>("{}: the MLP head has shapes [{}] and [{}], expected [H, H] and [H]", path.string(),
                                    fmt::join(d.weight.sizes(), ", "), fmt::join(d.bias.sizes(), ", "));
    }
    return d;
  }

  std::string compute_identity(const std::filesystem::path& weights, const std::filesystem::path& tokenizer) const {
    Xxh64 h;
    auto settings = to_json(settings_);
    settings.erase("template");  // for people only; the layout ids are what counts
    const auto text = settings.dump();
    h.update(text.data(), text.size());
    for (const auto& d : dense_) {
      for (const auto& t : {d.weight, d.bias}) {
        if (!t.defined()) continue;
        const auto c = t.contiguous();
        h.update(c.data_ptr(), static_cast<std::size_t>(c.numel()) * c.element_size());
      }
      h.update(d.tanh ? "tanh" : "identity", d.tanh ? 4 : 8);
    }
    return fmt::format("weights={:016x};tokenizer={:016x};embedding={:016x}", checkpoint_content_hash(weights),
                       tokenizer_content_hash(tokenizer), h.digest());
  }

  std::filesystem::path dir_;
  ModelSource source_ = ModelSource::hugging_face;
  EmbeddingSettings settings_;
  AutoModel model_{nullptr};
  std::shared_ptr<const AutoTokenizer> tokenizer_;
  std::vector<SentenceTransformersDense> dense_;
  Embedder embedder_;
  Precision precision_ = Precision::float32;
  std::string identity_;
};

}  // namespace vikcse
