// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedder.hpp
/// Glue between a trained host, a tokenizer and the evaluation engine: the `TokenizeFunction` and
/// `SpecialIds` of any vikcse tokenizer, and an `Embedder` callback (`vikcse/eval/embedder.hpp`)
/// that tokenises sentences (plain or templated, like training) and returns `model->embed`.

#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/model/prompt_layout.hpp>
#include <vikcse/pooler/prompt_template.hpp>
#include <vikcse/train/collator.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// The special ids of a tokenizer (`t.special_tokens()` with cls/sep/pad/mask ids).
/// @tparam Tokenizer a vikcse tokenizer (WordPieceTokenizer, ByteLevelBpeTokenizer, AutoTokenizer)
/// @throws vikcse::config_error when the vocabulary lacks [CLS], [SEP] or [PAD].
template <typename Tokenizer>
SpecialIds special_ids(const Tokenizer& tokenizer) {
  const auto& s = tokenizer.special_tokens();
  if (s.cls < 0 || s.sep < 0 || s.pad < 0) {
    throw_error<config_error>("tokenizer: the vocabulary lacks a cls/sep/pad token (ids {}, {}, {})", s.cls, s.sep, s.pad);
  }
  return {s.cls, s.sep, s.pad, s.mask};
}

/// `text -> ids` without special tokens, sharing `tokenizer`.
/// @tparam Tokenizer has `encode(std::string_view, bool add_special_tokens)`.
template <typename Tokenizer>
TokenizeFunction tokenize_function(std::shared_ptr<const Tokenizer> tokenizer) {
  return [tokenizer](std::string_view text) { return tokenizer->encode(text, /*add_special_tokens=*/false); };
}

/// Options of `make_embedder`.
struct EmbedderOptions {
  /// Template layout of the evaluation input; nullopt: `[CLS] sentence [SEP]`.
  std::optional<PromptLayout> layout;
  /// Cap on tokens (plain: whole sequence; prompt: the sentence). Default: 512 − template.
  std::int64_t max_length = 512;
  /// Subtract the prompt pooler's template bias δ while embedding (PromptBERT's dev-set model
  /// selection); false: the raw [MASK] vector (its final report); nullopt:
  /// whatever the pooler's own `denoise_at_eval` says. Setting it for a host whose pooler has no
  /// such switch is a `config_error` from `make_embedder`.
  std::optional<bool> denoise;
  /// Append '.' to each sentence unless it ends with `.`, `?`, `"` or `'` (PromptBERT's final
  /// evaluation). Default: false (the training / dev form).
  bool append_period = false;
  /// Lower-case each sentence (full Unicode lower-casing, as Python's `str.lower`) before it is
  /// templated; the template keeps its own case. VIKCSE's reference evaluation does this for every
  /// backbone, the case-sensitive RoBERTa included. Default: false.
  bool lowercase = false;
};


namespace detail {
/// Sets a prompt pooler's `denoise_at_eval` for one scope and restores it (also on exceptions).
template <typename Options>
class DenoiseAtEvalScope {
public:
  DenoiseAtEvalScope(Options& options, std::optional<bool> value) : options_(options), saved_(options.denoise_at_eval()) {
    if (value) options_.denoise_at_eval(*value);
  }
  DenoiseAtEvalScope(const DenoiseAtEvalScope&) = delete;
  DenoiseAtEvalScope& operator=(const DenoiseAtEvalScope&) = delete;
  ~DenoiseAtEvalScope() { options_.denoise_at_eval(saved_); }

private:
  Options& options_;
  bool saved_;
};
}  // namespace detail

/// An `Embedder` over `model->embed` (the caller's evaluation loop sets eval mode and no-grad; this
/// callback does both itself too).
/// @tparam Holder a `SentenceEmbedder<...>` holder.
/// @throws vikcse::config_error when `options.denoise` is set but the pooler has no denoising.
template <typename Holder>
Embedder make_embedder(Holder model, TokenizeFunction tokenize, SpecialIds specials, EmbedderOptions options = {}) {
  constexpr bool can_denoise = requires { model->pooler->options.denoise_at_eval(true); };
  if (options.denoise && !can_denoise) {
    throw_error<config_error>("make_embedder: denoise = {} was asked for, but this model's pooler has no template denoising",
                              *options.denoise);
  }
  auto format = ViewFormat{options.layout, options.layout ? options.max_length - options.layout->size() : options.max_length};
  auto collator = std::make_shared<Collator>(std::move(tokenize), CollatorOptions{specials, format, format});
  return [model, collator, format, options](const std::vector<std::string>& sentences) mutable {
    torch::NoGradGuard no_grad;
    const bool was_training = model->is_training();
    model->eval();
    std::vector<std::vector<std::int64_t>> rows;
    rows.reserve(sentences.size());
    for (const auto& s : sentences) {  // empty sentences allowed at eval
      auto text = options.lowercase ? lowercase_text(s) : s;
      rows.push_back(collator->row(options.append_period ? append_period_if_missing(std::move(text)) : text, format));
    }
    torch::Tensor out;
    if constexpr (can_denoise) {
      detail::DenoiseAtEvalScope scope(model->pooler->options, options.denoise);
      out = model->embed(collator->pad(rows));
    } else {
      out = model->embed(collator->pad(rows));
    }
    if (was_training) model->train();
    return out;
  };
}

}  // namespace vikcse
