// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file model_embedder.hpp
/// Builds an `Embedder` (what the evaluation engine calls) from an encoder, a tokenising function
/// and a pooler: templated sentences for the `mask` pooler, tokenise with padding to the longest
/// sentence and no truncation (SentEval batchers), encoder forward in eval mode without gradient,
/// pooling, result on CPU as float32.

#include <vikcse/error.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/pooler/prompt_template.hpp>
#include <vikcse/types.hpp>

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vikcse {

/// Turns sentences into a padded `TokenBatch` (padding to the longest, no truncation).
using TokenizeFn = std::function<TokenBatch(const std::vector<std::string>& sentences)>;

/// Options of `make_model_embedder`.
struct ModelEmbedderOptions {
  PoolerOptions pooler;                          ///< which pooler (and its mask id / head / first layer)
  std::optional<PromptTemplate> prompt;          ///< template applied before tokenising (mask pooler)
  torch::Device device = torch::kCPU;            ///< device the batch is moved to (the model's)
  std::int64_t max_length = 0;                   ///< > 0: a longer tokenised batch is an error naming it
};

/// An `Embedder` over `model` (a LibTorch module holder with `forward(TokenBatch, bool)` returning
/// `EncoderOutput`, e.g. `vikcse::AutoModel`). The model is switched to eval mode at every call.
/// @tparam ModelType a module holder whose `->forward(const TokenBatch&, bool output_hidden_states)`
///         returns `vikcse::EncoderOutput` and whose `->eval()` exists
/// @throws vikcse::config_error when the `mask` pooler is chosen without a prompt template.
template <typename ModelType>
Embedder make_model_embedder(ModelType model, TokenizeFn tokenize, ModelEmbedderOptions options) {
  if (options.pooler.kind == PoolerKind::mask && !options.prompt) {
    throw_error<config_error>("pooler 'mask' needs a prompt template with exactly one mask token");
  }
  if (!tokenize) throw_error<invalid_argument>("make_model_embedder: the tokenize function is empty");
  return [model = std::move(model), tokenize = std::move(tokenize),
          options = std::move(options)](const std::vector<std::string>& sentences) mutable -> torch::Tensor {
    torch::NoGradGuard no_grad;
    model->eval();
    std::vector<std::string> texts;
    texts.reserve(sentences.size());
    for (const auto& s : sentences) texts.push_back(options.prompt ? options.prompt->apply(s) : s);
    const auto batch = tokenize(texts).to(options.device);
    if (options.max_length > 0 && batch.input_ids.size(1) > options.max_length) {
      const auto longest = batch.attention_mask.sum(1).argmax().item<std::int64_t>();
      throw_error<invalid_argument>("sentence '{}' tokenises to {} tokens, more than the model's {} positions",
                                    texts[static_cast<std::size_t>(longest)], batch.input_ids.size(1), options.max_length);
    }
    const auto output = model->forward(batch, needs_hidden_states(options.pooler.kind));
    return pool(output, batch, options.pooler).to(torch::kCPU, torch::kFloat);
  };
}

}  // namespace vikcse
