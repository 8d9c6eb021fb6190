// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file stage1.hpp
/// VIKCSE's stage 1 in the demo world: an image–text contrastive model (CLIP's loss and shape)
/// trained from scratch on the world's image–caption pairs, as the reference fine-tunes CLIP on
/// Flickr30k. The demo's images are feature vectors, so the image tower is one bias-free linear
/// map; the text tower is a random BERT of the stage-2 encoder's size, read at [CLS].
///
/// Its outputs are what stage 2 needs: the knowledge base (the unit image embeddings of the pairs'
/// images) and, for the grounded-retrieval extension, one key per corpus sentence (its unit text
/// embedding). Captions name a concept in either form with the same images, so the text tower
/// learns that `dog` and `puppy` point to the same images: the kinship stage 2's text cannot show.

#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/knowledge/clip_finetune.hpp>
#include <vikcse/optim/optimizer.hpp>
#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/util/epoch_order.hpp>

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace demo {

/// How stage 1 trains.
struct Stage1Options {
  std::int64_t steps = 150;          ///< training steps
  std::int64_t batch_size = 64;      ///< pairs per step
  double learning_rate = 3e-3;       ///< AdamW peak rate (linear warm-up, cosine decay)
  std::int64_t warmup_steps = 30;    ///< linear warm-up steps
  std::int64_t projection_dim = 32;  ///< width of the joint embedding space (the knowledge base's D)
};

/// A CLIP-shaped model over feature-vector images; module names as transformers' `CLIPModel`.
class ClipLikeImpl : public torch::nn::Module {
public:
  ClipLikeImpl(const vikcse::BertConfig& text, std::int64_t image_dim, std::int64_t projection_dim)
      : text_model(register_module("text_model", vikcse::AutoModel(text))),
        text_projection(
            register_module("text_projection",
                            torch::nn::Linear(torch::nn::LinearOptions(text.hidden_size, projection_dim).bias(false)))),
        visual_projection(register_module(
            "visual_projection", torch::nn::Linear(torch::nn::LinearOptions(image_dim, projection_dim).bias(false)))),
        logit_scale(register_parameter("logit_scale", torch::full({}, std::log(1.0 / 0.07)))) {}

  /// Unit text embeddings `[N, P]` of a token batch ([CLS] state, projected).
  torch::Tensor text_embeds(const vikcse::TokenBatch& batch) {
    const auto t = text_projection(text_model->forward(batch).last_hidden_state.select(1, 0));
    return t / t.norm(2, -1, true).clamp_min(1e-8);
  }
  /// Unit image embeddings `[N, P]` of image features `[N, Dv]`.
  torch::Tensor image_embeds(const torch::Tensor& images) {
    const auto v = visual_projection(images);
    return v / v.norm(2, -1, true).clamp_min(1e-8);
  }

  vikcse::AutoModel text_model;
  torch::nn::Linear text_projection;
  torch::nn::Linear visual_projection;
  torch::Tensor logit_scale;
};
TORCH_MODULE(ClipLike);

/// What stage 1 hands to stage 2.
struct Stage1Result {
  torch::Tensor knowledge;    ///< `[pairs, P]` unit image embeddings: the knowledge base
  torch::Tensor corpus_keys;  ///< `[corpus sentences, P]` unit text embeddings, in corpus order
  double first_loss = 0;      ///< CLIP loss of the first step
  double last_loss = 0;       ///< mean CLIP loss of the last 10 steps
  double caption_top1 = 0;    ///< share of the pairs' captions whose nearest image is their own
};

/// Trains stage 1 on `captions` and `images` (`[pairs, Dv]`) from the current torch seed, and
/// embeds `corpus` with the trained text tower. `on_step(step, loss)` reports progress.
inline Stage1Result train_stage1(const std::vector<std::string>& captions, const torch::Tensor& images,
                                 const std::vector<std::string>& corpus, const vikcse::AutoTokenizer& tokenizer,
                                 const vikcse::BertConfig& text_config, std::uint64_t seed,
                                 const Stage1Options& options,
                                 const std::function<void(std::int64_t, double)>& on_step) {
  ClipLike model(text_config, images.size(1), options.projection_dim);
  model->train();
  auto optimizer = vikcse::make_adamw(*model, {.learning_rate = options.learning_rate});
  const auto tokens = [&](const std::vector<std::string>& texts) {
    return vikcse::encode_token_batch(tokenizer, texts);
  };
  Stage1Result r;
  std::vector<std::size_t> order;
  std::size_t next = 0;
  std::int64_t epoch = 0;
  double tail = 0;
  for (std::int64_t step = 0; step < options.steps; ++step) {
    std::vector<std::string> text;
    std::vector<std::int64_t> rows;
    while (static_cast<std::int64_t>(rows.size()) < options.batch_size) {
      if (next == order.size()) {
        order = vikcse::epoch_order(captions.size(), seed, epoch++);
        next = 0;
      }
      rows.push_back(static_cast<std::int64_t>(order[next]));
      text.push_back(captions[order[next++]]);
    }
    vikcse::set_learning_rate(*optimizer,
                              vikcse::cosine_lr(options.learning_rate, step, options.steps, options.warmup_steps));
    const auto t = model->text_embeds(tokens(text));
    const auto v = model->image_embeds(images.index_select(0, torch::tensor(rows, torch::kLong)));
    const auto loss = vikcse::clip_contrastive_loss(model->logit_scale.exp() * torch::mm(t, v.t()));
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    const double value = loss.item<double>();
    if (step == 0) r.first_loss = value;
    if (step >= options.steps - 10) tail += value;
    on_step(step + 1, value);
  }
  r.last_loss = tail / static_cast<double>(std::min<std::int64_t>(10, options.steps));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto embed = [&](const std::vector<std::string>& texts) {
    std::vector<torch::Tensor> parts;
    for (std::size_t i = 0; i < texts.size(); i += 256) {
      const auto end = std::min(texts.size(), i + 256);
      parts.push_back(model->text_embeds(tokens(std::vector<std::string>(texts.begin() + i, texts.begin() + end))));
    }
    return torch::cat(parts, 0);
  };
  r.knowledge = model->image_embeds(images);
  r.corpus_keys = embed(corpus);
  const auto nearest = torch::mm(embed(captions), r.knowledge.t()).argmax(1);
  r.caption_top1 = nearest.eq(torch::arange(nearest.size(0))).to(torch::kDouble).mean().item<double>();
  return r;
}

}  // namespace demo
