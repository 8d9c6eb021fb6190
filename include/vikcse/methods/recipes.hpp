// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file recipes.hpp
/// The method recipes: `make_simcse`, `make_promptbert`, `make_mcse` and `make_vikcse` build a
/// method alias over an encoder and a tokenizer, and `make_method<Host>` builds any host whose
/// policies are the library's (a custom ablation is an alias plus this one call). A recipe derives
/// what every program would otherwise wire by hand, so that it cannot be wired wrong: the hidden
/// size (pooler, heads and losses), the knowledge base's width (loss), the mask id, the prompt
/// layouts (the same ones for the collator, the denoiser and evaluation), the pass mode (one pass
/// per view when a knowledge base retrieves, as VIKCSE's reference does), and RoBERTa's position
/// offset (the host sets it from the encoder).
///
/// Example:
/// ```
/// auto tokenizer = std::make_shared<const vikcse::AutoTokenizer>(vikcse::load_tokenizer(dir));
/// auto r = vikcse::make_vikcse(vikcse::AutoModel::from_pretrained(dir), tokenizer, vikcse::load_features(kb));
/// vikcse::TrainingBatch step = r.collator->unsupervised(sentences);
/// vikcse::Embedder embed = r.embedder();  // evaluation input as in training
/// ```

#include <vikcse/concepts/concepts.hpp>
#include <vikcse/error.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/prompt/templates.hpp>
#include <vikcse/prompt/view_format.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>
#include <vikcse/train/checkpoint.hpp>
#include <vikcse/train/collator.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace vikcse {

/// What a recipe needs beyond the encoder, the tokenizer and the knowledge features. Every field
/// has the meaning of `ReferenceSettings`; `recipe_options` fills them from a reference setting.
struct RecipeOptions {
  /// Prompt template names of view 0 and view 1 (one name: both views); empty: plain input
  /// (`[CLS] sentence [SEP]`). A prompt pooler needs at least one.
  std::vector<std::string> templates;
  /// Token cap, counted as `length_limit` says. Default: 32.
  std::int64_t max_length = 32;
  /// What `max_length` counts. Default: the whole sequence.
  LengthLimit length_limit = LengthLimit::whole_sequence;
  /// `LengthLimit::templated_sequence` only: `sentence_only` cuts the sentence to what the
  /// template leaves (every row keeps its mask; the library's rule), `whole_sequence` cuts the
  /// templated sequence (VIKCSE's reference code). Default: sentence_only.
  Truncation truncation = Truncation::sentence_only;
  /// Pad every row to the longest possible row (VIKCSE's reference). Default: false.
  bool pad_to_max_length = false;
  /// Prompt poolers: template denoising with the views' layouts (PromptBERT). Default: false.
  bool denoise = false;
  /// Prompt poolers over RoBERTa: the denoising pass's positions from 0, as PromptBERT's code.
  bool reference_roberta_delta_positions = false;
  /// Encode all views in one pass; nullopt: one pass per view when the knowledge base retrieves
  /// (VIKCSE), one pass otherwise.
  std::optional<bool> views_in_one_pass;
  double temperature = 0.05;                   ///< τ of every InfoNCE term
  double lambda = 0.01;                        ///< MCSE: weight of the text–image term
  double alpha = 0.5;                          ///< VIKCSE: weight of the [MASK]-retrieval term
  double beta = 0.5;                           ///< VIKCSE: weight of the [CLS]-retrieval term
  KbGradMode kb_grad_mode = KbGradMode::none;  ///< VIKCSE: gradient through the retrieved rows
  /// VIKCSE: what retrieves the rows; `batch_keys` needs batches that carry `knowledge_keys`.
  RetrievalKey retrieval_key = RetrievalKey::query;
  /// VIKCSE: include the knowledge terms L_vm and L_vc; false leaves L_text alone with everything
  /// else unchanged (the projectors are still made, so the random streams stay the same): the
  /// text-only ablation of a run. Default: true.
  bool knowledge_terms = true;
  bool lowercase_eval = false;  ///< lower-case sentences at evaluation (VIKCSE's reference)
};

/// The recipe options of a reference setting (`reference_hyperparameters`).
inline RecipeOptions recipe_options(const ReferenceSettings& s) {
  RecipeOptions o;
  o.templates = s.templates;
  o.max_length = s.max_length;
  o.length_limit = s.length_limit;
  o.pad_to_max_length = s.pad_to_max_length;
  o.denoise = s.denoise;
  o.temperature = s.temperature;
  if (s.lambda > 0) o.lambda = s.lambda;
  if (s.alpha > 0) o.alpha = s.alpha;
  if (s.beta > 0) o.beta = s.beta;
  return o;
}

/// The recipe options of `method` for a tokenizer of the BERT (`[MASK]`) or RoBERTa (`<mask>`)
/// family: the reference templates, caps and weights (base size; they do not depend on the size),
/// under the library's protocol: rows padded to the longest of the batch, not to the cap (the
/// attention mask makes both give the same vectors; `pad_to_max_length` is for reproduction).
/// @tparam Tokenizer has `special_tokens()`
template <typename Tokenizer>
RecipeOptions recipe_options(std::string_view method, const Tokenizer& tokenizer) {
  const bool roberta = tokenizer.special_tokens().mask_token == "<mask>";
  auto o = recipe_options(reference_hyperparameters(method, roberta ? "roberta-base" : "bert-base"));
  o.pad_to_max_length = false;
  return o;
}

/// A method ready to train and evaluate: the model, the collator of its training views, and
/// the evaluation input that matches training.
/// @tparam Host a `SentenceEmbedder<...>` holder (a method alias)
template <typename Host>
struct Recipe {
  Host model;                                ///< the method
  std::shared_ptr<const Collator> collator;  ///< training views (both views' formats)
  std::vector<PromptLayout> layouts;         ///< view 0's and view 1's layouts; empty: plain input
  TokenizeFunction tokenize;                 ///< the tokenizer, as ids without special tokens
  SpecialTokens specials;                    ///< the tokenizer's special tokens
  EmbedderOptions eval;                      ///< evaluation input: view 0's layout, the method's lower-casing

  /// An evaluation embedder with `options` (start from `eval` to change one field).
  [[nodiscard]] Embedder embedder(const EmbedderOptions& options) const {
    return make_embedder(model, tokenize, specials, options);
  }
  /// The evaluation embedder of the method (`eval`).
  [[nodiscard]] Embedder embedder() const { return embedder(eval); }
  /// How a checkpoint of this method embeds (give it to `SaveOptions::embedding`): the pooler and
  /// head of the host in eval mode, with the evaluation layout and lower-casing of `eval`.
  [[nodiscard]] EmbeddingSettings embedding_settings() const {
    auto s = embedding_settings_of(*model);
    s.layout = eval.layout;
    s.lowercase = eval.lowercase;
    s.append_period = eval.append_period;
    return s;
  }
};

/// The prompt layouts of `options.templates` for a tokenizer (`tokenize`, `specials`).
/// @throws vikcse::config_error for an unknown template or a tokenizer without a mask token.
inline std::vector<PromptLayout> recipe_layouts(const RecipeOptions& options, const TokenizeFunction& tokenize,
                                                const SpecialTokens& specials) {
  std::vector<PromptLayout> layouts;
  for (const auto& name : options.templates) {
    layouts.push_back(make_prompt_layout(make_template(find_template(name), specials.mask_token), tokenize, specials));
  }
  return layouts;
}

/// The formats of view 0 and view 1 under `options`, for view 0's and view 1's `layouts` (one
/// layout: both views; none: plain input).
inline std::pair<ViewFormat, ViewFormat> recipe_view_formats(const std::vector<PromptLayout>& layouts,
                                                             const RecipeOptions& options) {
  const auto& o = options;
  auto format = [&](std::size_t i) -> ViewFormat {
    if (layouts.empty()) return {std::nullopt, o.max_length, Truncation::sentence_only, o.pad_to_max_length};
    const auto& layout = layouts[std::min(i, layouts.size() - 1)];
    if (o.length_limit != LengthLimit::templated_sequence) {
      return {layout, o.max_length, Truncation::sentence_only, o.pad_to_max_length};
    }
    if (o.truncation == Truncation::whole_sequence) {
      return {layout, o.max_length, Truncation::whole_sequence, o.pad_to_max_length};
    }
    return {layout, std::max<std::int64_t>(1, o.max_length - layout.size()), Truncation::sentence_only,
            o.pad_to_max_length};
  };
  return {format(0), format(1)};
}

/// Builds `Host` (any `SentenceEmbedder<Encoder, Pooler, Knowledge, Loss>` whose pooler, knowledge
/// and loss are the library's policies) over `encoder` and `tokenizer`, with `options`.
/// `knowledge` is the knowledge base's `[M, D]` features for `VisualKnowledgeBase`, and for
/// `PairedImageFeatures` a tensor whose width is the image features' (its rows are not used).
/// A host with a policy of your own is built directly (its constructor takes the four policies).
/// @tparam Host a `SentenceEmbedder<...>` holder
/// @tparam EncoderType satisfies `vikcse::SizedEncoder`
/// @tparam Tokenizer a vikcse tokenizer (`encode(text, bool)`, `special_tokens()`)
/// @throws vikcse::config_error for a prompt pooler without templates, a tokenizer without a
///         mask token, or knowledge features missing where the knowledge policy needs them.
template <typename Host, SizedEncoder EncoderType, typename Tokenizer>
Recipe<Host> make_method(EncoderType encoder, std::shared_ptr<const Tokenizer> tokenizer, const RecipeOptions& options,
                         const torch::Tensor& knowledge = {}) {
  using Impl = typename Host::Impl;
  using P = typename Impl::pooler_type;
  using K = typename Impl::knowledge_type;
  using L = typename Impl::loss_type;
  static_assert(std::is_same_v<typename Impl::encoder_type, EncoderType>,
                "vikcse::make_method: the encoder's type is not the host's encoder type");
  const auto specials = require_special_tokens(*tokenizer);
  auto tokenize = tokenize_function(tokenizer);
  const auto hidden = encoder->hidden_size();
  constexpr bool prompt = std::is_same_v<P, MaskPromptPooler>;
  auto layouts = recipe_layouts(options, tokenize, specials);
  if (prompt && layouts.empty())
    throw_error<config_error>("make_method: a [MASK] prompt pooler needs a prompt template");
  if (!prompt && !layouts.empty()) {
    throw_error<config_error>("make_method: templates ({}) were given, but the pooler is not a prompt pooler",
                              options.templates.front());
  }
  const auto [first, second] = recipe_view_formats(layouts, options);

  P pooler = [&] {
    if constexpr (prompt) {
      auto o = MaskPromptPoolerOptions(hidden, specials.mask)
                   .reference_roberta_delta_positions(options.reference_roberta_delta_positions);
      if (options.denoise) o.denoise_layouts(layouts);
      return MaskPromptPooler(o);
    } else if constexpr (std::is_same_v<P, ClsPooler>) {
      return ClsPooler(ClsPoolerOptions(hidden));
    } else {
      static_assert(prompt,
                    "vikcse::make_method: the pooler is not ClsPooler or MaskPromptPooler; build the host directly");
    }
  }();
  auto need_features = [&](const char* what) {
    if (!knowledge.defined() || knowledge.dim() != 2) {
      throw_error<config_error>("make_method: {} needs its [M, D] features", what);
    }
    return knowledge.size(1);
  };
  constexpr bool retrieves = RetrievingKnowledgeBase<K>;
  K kb = [&] {
    if constexpr (std::is_same_v<K, NoKnowledge>) {
      return NoKnowledge();
    } else if constexpr (std::is_same_v<K, PairedImageFeatures>) {
      return PairedImageFeatures(need_features("PairedImageFeatures"));
    } else if constexpr (retrieves) {
      need_features("the visual knowledge base");
      return K(knowledge);
    } else {
      static_assert(retrieves, "vikcse::make_method: unknown knowledge policy; build the host directly");
    }
  }();
  L loss = [&] {
    if constexpr (std::is_same_v<L, InfoNCELoss>) {
      return InfoNCELoss(InfoNCELossOptions().temperature(options.temperature));
    } else if constexpr (std::is_same_v<L, MultimodalInfoNCELoss>) {
      return MultimodalInfoNCELoss(MultimodalInfoNCELossOptions(hidden, kb->feature_dim())
                                       .temperature(options.temperature)
                                       .lambda(options.lambda));
    } else if constexpr (std::is_same_v<L, KnowledgeInfoNCELoss>) {
      return KnowledgeInfoNCELoss(KnowledgeInfoNCELossOptions(hidden, kb->feature_dim())
                                      .temperature(options.temperature)
                                      .alpha(options.alpha)
                                      .beta(options.beta)
                                      .kb_grad_mode(options.kb_grad_mode)
                                      .retrieval_key(options.retrieval_key)
                                      .mask_term(options.knowledge_terms)
                                      .cls_term(options.knowledge_terms));
    } else {
      static_assert(std::is_same_v<L, InfoNCELoss>,
                    "vikcse::make_method: unknown loss policy; build the host directly");
    }
  }();
  const bool one_pass = options.views_in_one_pass.value_or(!retrieves);
  Host model(std::move(encoder), std::move(pooler), std::move(kb), std::move(loss),
             SentenceEmbedderOptions().views_in_one_pass(one_pass));
  EmbedderOptions eval;
  if (!layouts.empty()) eval.layout = layouts.front();
  eval.lowercase = options.lowercase_eval;
  auto collator = std::make_shared<const Collator>(tokenize, CollatorOptions{specials, first, second});
  return {std::move(model), std::move(collator), std::move(layouts), std::move(tokenize), specials, std::move(eval)};
}

/// SimCSE over `encoder` ([CLS] + MLP head, plain input cut to 32 tokens, τ 0.05).
/// @tparam EncoderType satisfies `vikcse::SizedEncoder`
/// @tparam Tokenizer a vikcse tokenizer
template <SizedEncoder EncoderType, typename Tokenizer>
Recipe<BasicSimCSE<EncoderType>> make_simcse(EncoderType encoder, std::shared_ptr<const Tokenizer> tokenizer,
                                             std::optional<RecipeOptions> options = std::nullopt) {
  const auto o = options ? *options : recipe_options("simcse", *tokenizer);
  return make_method<BasicSimCSE<EncoderType>>(std::move(encoder), tokenizer, o);
}

/// PromptBERT over `encoder` (two templates of the tokenizer's family, sentence cut to 32 tokens,
/// template denoising).
/// @tparam EncoderType satisfies `vikcse::SizedEncoder`
/// @tparam Tokenizer a vikcse tokenizer
template <SizedEncoder EncoderType, typename Tokenizer>
Recipe<BasicPromptBERT<EncoderType>> make_promptbert(EncoderType encoder, std::shared_ptr<const Tokenizer> tokenizer,
                                                     std::optional<RecipeOptions> options = std::nullopt) {
  const auto o = options ? *options : recipe_options("promptbert", *tokenizer);
  return make_method<BasicPromptBERT<EncoderType>>(std::move(encoder), tokenizer, o);
}

/// MCSE over `encoder`, for image features `[M, Dv]` (their width sizes the image head; the rows
/// come with each paired batch, `TrainingBatch::image_features`).
/// @tparam EncoderType satisfies `vikcse::SizedEncoder`
/// @tparam Tokenizer a vikcse tokenizer
template <SizedEncoder EncoderType, typename Tokenizer>
Recipe<BasicMCSE<EncoderType>> make_mcse(EncoderType encoder, std::shared_ptr<const Tokenizer> tokenizer,
                                         const torch::Tensor& image_features,
                                         std::optional<RecipeOptions> options = std::nullopt) {
  const auto o = options ? *options : recipe_options("mcse", *tokenizer);
  return make_method<BasicMCSE<EncoderType>>(std::move(encoder), tokenizer, o, image_features);
}

/// VIKCSE over `encoder` with the knowledge base `kb` `[M, D]` (one template for both views, the
/// templated sequence capped at 77 tokens with the sentence cut, one pass per view, α = β = 0.5).
/// @tparam EncoderType satisfies `vikcse::SizedEncoder`
/// @tparam Tokenizer a vikcse tokenizer
/// @tparam RetrieverType satisfies `vikcse::Retriever`
template <SizedEncoder EncoderType, typename Tokenizer, Retriever RetrieverType = ExactCosineRetriever>
Recipe<BasicVIKCSE<EncoderType, RetrieverType>> make_vikcse(EncoderType encoder,
                                                            std::shared_ptr<const Tokenizer> tokenizer,
                                                            const torch::Tensor& kb,
                                                            std::optional<RecipeOptions> options = std::nullopt) {
  const auto o = options ? *options : recipe_options("vikcse", *tokenizer);
  return make_method<BasicVIKCSE<EncoderType, RetrieverType>>(std::move(encoder), tokenizer, o, kb);
}

}  // namespace vikcse
