// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file stage1_encoders.hpp
/// The two models of stage 1 as `Stage1Encoder`s (image_features.hpp):
///  - CLIP (VIKCSE's knowledge base): CLIPImageProcessor's preprocessing, `image_features` and, with a
///    tokenizer, `text_features` of the captions (truncated to the text tower's 77 positions), both
///    L2-normalised as transformers' `image_embeds` / `text_embeds`;
///  - `clip_photo_batches`: the image–caption batches of stage 1's optional CLIP fine-tuning;
///  - ResNet-50 (MCSE's image features): torchvision's ImageNet preprocessing and the 2048-d pooled
///    output, not normalised (MCSE's own projector learns from the raw features).
/// Each runs on `device`, in float32 or under bfloat16 autocast (`bf16`); features come back float32.

#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/image/preprocess.hpp>
#include <vikcse/knowledge/clip_finetune.hpp>
#include <vikcse/knowledge/image_features.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/vision/clip_model.hpp>
#include <vikcse/vision/resnet.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// Where and in which precision a stage-1 model runs.
struct Stage1Precision {
  torch::Device device = torch::kCPU;
  bool bf16 = false;  ///< bfloat16 autocast (matrix products in bf16, accumulations in float32)
};

namespace detail {

template <typename F>
torch::Tensor run_in_precision(const Stage1Precision& p, F&& f) {
  torch::NoGradGuard no_grad;
  AutocastGuard autocast(p.device.type(), p.bf16, torch::kBFloat16);
  return f();
}

}  // namespace detail

/// CLIP as stage 1's encoder. `tokenizer` may be null (image features only).
inline Stage1Encoder clip_stage1_encoder(ClipModel model, std::shared_ptr<const ByteLevelBpeTokenizer> tokenizer,
                                         ClipImageOptions image_options, Stage1Precision precision,
                                         const std::string& model_name) {
  model->eval();
  model->to(precision.device);
  Stage1Encoder e;
  e.preprocess = [image_options](const Image& rgb) { return preprocess_clip(rgb, image_options); };
  e.encode_images = [model, precision](const torch::Tensor& pixels) mutable {
    return detail::run_in_precision(precision, [&] { return model->image_features(pixels.to(precision.device)); });
  };
  if (tokenizer) {
    const auto max_length = static_cast<std::size_t>(model->config().text.max_position_embeddings);
    e.encode_texts = [model, tokenizer, precision, max_length](const std::vector<std::string>& texts) mutable {
      BatchEncodingOptions o;
      o.max_length = max_length;
      const auto batch = encode_token_batch(*tokenizer, texts, o).map([&](const torch::Tensor& t) {
        return t.to(precision.device);
      });
      return detail::run_in_precision(
          precision, [&] { return model->text_features(batch.input_ids, batch.attention_mask); });
    };
  }
  e.identity = nlohmann::json{{"model", "clip"},
                              {"checkpoint", model_name},
                              {"projection_dim", model->config().projection_dim},
                              {"preprocessing", "CLIPImageProcessor"},
                              {"shortest_edge", image_options.shortest_edge},
                              {"crop", {image_options.crop_height, image_options.crop_width}},
                              {"mean", image_options.image_mean},
                              {"std", image_options.image_std},
                              {"bf16", precision.bf16}}
                   .dump();
  e.normalize = true;
  return e;
}

/// ResNet-50 (torchvision layout, `fc` removed) as MCSE's image encoder: raw 2048-d features.
inline Stage1Encoder resnet_stage1_encoder(ResNet model, ResNetImageOptions image_options, Stage1Precision precision,
                                           const std::string& model_name) {
  model->eval();
  model->to(precision.device);
  Stage1Encoder e;
  e.preprocess = [image_options](const Image& rgb) { return preprocess_resnet(rgb, image_options); };
  e.encode_images = [model, precision](const torch::Tensor& pixels) mutable {
    return detail::run_in_precision(precision, [&] { return model->forward(pixels.to(precision.device)); });
  };
  e.identity = nlohmann::json{{"model", "resnet"},
                              {"checkpoint", model_name},
                              {"preprocessing", "torchvision Resize/CenterCrop/Normalize"},
                              {"resize", image_options.resize},
                              {"crop", image_options.crop},
                              {"bf16", precision.bf16}}
                   .dump();
  e.normalize = false;
  return e;
}

/// The batches of `ClipFinetuner::fit` from photos and captions: rows -> decoded, preprocessed pixels
/// (on `decode_threads` threads) and the captions' tokens, truncated to `max_length` and padded to the
/// longest. Fine-tuning needs every row: an undecodable image is an error naming it.
inline ClipBatchFunction clip_photo_batches(std::shared_ptr<const std::vector<std::filesystem::path>> images,
                                            std::shared_ptr<const std::vector<std::string>> captions,
                                            std::shared_ptr<const ByteLevelBpeTokenizer> tokenizer,
                                            ClipImageOptions image_options, DecodeOptions decode,
                                            std::size_t max_length, int decode_threads = 2) {
  return [=](const std::vector<std::int64_t>& rows) {
    Stage1Encoder preprocessing;
    preprocessing.preprocess = [&](const Image& rgb) { return preprocess_clip(rgb, image_options); };
    Stage1Options options;
    options.decode = decode;
    options.decode_threads = decode_threads;
    std::vector<std::filesystem::path> paths;
    std::vector<std::string> texts;
    for (auto r : rows) {
      paths.push_back(images->at(static_cast<std::size_t>(r)));
      texts.push_back(captions->at(static_cast<std::size_t>(r)));
    }
    auto decoded = detail::decode_batch(paths, 0, paths.size(), preprocessing, options);
    std::vector<torch::Tensor> pixels;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (!decoded.images[i]) {
        throw_error<data_error>("CLIP fine-tuning: image {} ({}): {}", rows[i] + 1, paths[i].string(), decoded.errors[i]);
      }
      auto& p = *decoded.images[i];
      pixels.push_back(torch::from_blob(p.values.data(), {p.channels, p.height, p.width}, torch::kFloat).clone());
    }
    BatchEncodingOptions o;
    o.max_length = max_length;
    const auto tokens = encode_token_batch(*tokenizer, texts, o);
    return ClipBatch{torch::stack(pixels), tokens.input_ids, tokens.attention_mask};
  };
}

}  // namespace vikcse
