// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file model_embedder.hpp
/// `make_embedder`, the one way to get an `Embedder` (what the evaluation engine calls) from a
/// model: a trained host (`SentenceEmbedder<...>`, which pools itself) or a bare encoder with a
/// pooler chosen by name (`AutoModel`, `BertModel`, ...). Both build the ids of a sentence as
/// training does (`view_ids`: plain `[CLS] sentence [SEP]`, or the prompt layout around it), pad
/// with `pad_token_rows`, and run the model in eval mode without gradient.

#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/model/module_device.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/prompt/template.hpp>
#include <vikcse/prompt/view_format.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vikcse {

/// Options of `make_embedder`.
struct EmbedderOptions {
  /// Template layout of the evaluation input; nullopt: `[CLS] sentence [SEP]`.
  std::optional<PromptLayout> layout;
  /// Tokens per row, template and special tokens included (0: no limit). Default: 512.
  std::int64_t max_length = 512;
  /// A longer row: `true` cuts the sentence (never the template) to fit; `false` is an error
  /// naming the sentence (SentEval's batchers never truncate). Default: true.
  bool truncate = true;
  /// Hosts whose pooler has template denoising: subtract its bias δ while embedding (PromptBERT's
  /// dev-set model selection); false: the raw [MASK] vector (its final report); nullopt: whatever
  /// the pooler's own `denoise_at_eval` says. Setting it for another model is a `config_error`.
  std::optional<bool> denoise;
  /// Append '.' to each sentence unless it ends with `.`, `?`, `"` or `'` (PromptBERT's final
  /// evaluation). Default: false (the training / dev form).
  bool append_period = false;
  /// Lower-case each sentence (full Unicode lower-casing, as Python's `str.lower`) before it is
  /// templated; the template keeps its own case. VIKCSE's reference evaluation does this for every
  /// backbone, the case-sensitive RoBERTa included. Default: false.
  bool lowercase = false;
  /// Bare encoders only (a host pools itself): which pooler. The `mask` pooler needs `layout`.
  PoolerOptions pooler;
  /// Bare encoders only: the device the batch is moved to (the model's). Default: CPU.
  torch::Device device = torch::kCPU;
};

namespace detail {
/// Sets a prompt pooler's `denoise_at_eval` for one scope and restores it (also on exceptions).
template <typename Options>
class DenoiseAtEvalScope {
public:
  DenoiseAtEvalScope(Options& options, std::optional<bool> value)
      : options_(options), saved_(options.denoise_at_eval()) {
    if (value) options_.denoise_at_eval(*value);
  }
  DenoiseAtEvalScope(const DenoiseAtEvalScope&) = delete;
  DenoiseAtEvalScope& operator=(const DenoiseAtEvalScope&) = delete;
  ~DenoiseAtEvalScope() { options_.denoise_at_eval(saved_); }

private:
  Options& options_;
  bool saved_;
};

/// A host (`SentenceEmbedder<...>` holder) pools itself through `embed`.
template <typename Model>
concept EmbeddingHost = requires(Model model, const TokenBatch& batch) {
  { model->embed(batch) } -> std::same_as<torch::Tensor>;
};
}  // namespace detail

/// An `Embedder` over `model`, which is switched to eval mode (and back, for a host that was
/// training) at every call. Rows hold the sentence's ids in `options.layout` (see `view_ids`).
/// @tparam Model a `SentenceEmbedder<...>` holder (embeds with `model->embed`), or an encoder holder
///         whose `->forward(const TokenBatch&, bool output_hidden_states)` returns `EncoderOutput`
///         (pooled with `options.pooler`)
/// @throws vikcse::config_error when `options.denoise` is set but the model has no template
///         denoising, or a bare encoder is given the `mask` pooler without a layout;
///         vikcse::invalid_argument for an empty tokenize function.
template <typename Model>
Embedder make_embedder(Model model, TokenizeFunction tokenize, SpecialTokens specials, EmbedderOptions options = {}) {
  constexpr bool host = detail::EmbeddingHost<Model>;
  constexpr bool can_denoise = requires { model->pooler->options.denoise_at_eval(true); };
  if (!tokenize) throw_error<invalid_argument>("make_embedder: the tokenize function is empty");
  if (options.denoise && !can_denoise) {
    throw_error<config_error>(
        "make_embedder: denoise = {} was asked for, but this model's pooler has no template denoising",
        *options.denoise);
  }
  if (!host && options.pooler.kind == PoolerKind::mask) {
    if (!options.layout) throw_error<config_error>("pooler 'mask' needs a prompt template with exactly one mask token");
    options.pooler.mask_token_id = options.layout->mask_id;
  }
  const auto cap = options.truncate ? options.max_length : 0;
  const ViewFormat format{options.layout, options.layout && cap > 0 ? cap - options.layout->size() : cap,
                          options.layout ? Truncation::sentence_only : Truncation::whole_sequence};
  return [model, tokenize = std::move(tokenize), specials, format,
          options = std::move(options)](const std::vector<std::string>& sentences) mutable -> torch::Tensor {
    torch::NoGradGuard no_grad;
    std::vector<std::vector<std::int64_t>> rows;
    rows.reserve(sentences.size());
    for (const auto& s : sentences) {  // empty sentences are allowed at evaluation
      auto text = options.lowercase ? lowercase_text(s) : s;
      if (options.append_period) text = append_period_if_missing(std::move(text));
      rows.push_back(view_ids(tokenize, specials, text, format));
      if (options.max_length > 0 && static_cast<std::int64_t>(rows.back().size()) > options.max_length) {
        throw_error<invalid_argument>("sentence '{}' tokenises to {} tokens, more than the model's {} positions", text,
                                      rows.back().size(), options.max_length);
      }
    }
    const auto batch = pad_token_rows(rows, specials.pad);
    if constexpr (host) {
      const bool was_training = model->is_training();
      model->eval();
      const auto on_device = batch.to(module_device(*model));
      torch::Tensor out;
      if constexpr (can_denoise) {
        detail::DenoiseAtEvalScope scope(model->pooler->options, options.denoise);
        out = model->embed(on_device);
      } else {
        out = model->embed(on_device);
      }
      if (was_training) model->train();
      return out.to(torch::kCPU, torch::kFloat);
    } else {
      model->eval();
      const auto on_device = batch.to(options.device);
      const auto output = model->forward(on_device, needs_hidden_states(options.pooler.kind));
      return pool(output, on_device, options.pooler).to(torch::kCPU, torch::kFloat);
    }
  };
}

}  // namespace vikcse
