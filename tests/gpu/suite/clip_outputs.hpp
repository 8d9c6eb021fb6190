// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file clip_outputs.hpp
/// Our half of the comparison with `transformers`' own CLIPModel, beside the BERT/RoBERTa one of
/// encoder_outputs.hpp: a random CLIP (Hugging Face layout, written by `save_pretrained`), a batch
/// of images and a batch of token rows with padding, and our outputs on `device` in float32 and in
/// bfloat16 autocast (float32 weights, the library's AutocastGuard, as `torch.autocast` runs
/// transformers). tests/gpu/clip_peer.py loads the same checkpoint with transformers and judges
/// both against a float64 reference.

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/vision/clip_model.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace vikcse::gpu {

/// The compared CLIP and its batches (defaults: openai/clip-vit-base-patch32's shape, ClipConfig's
/// defaults, 32 images and 32 token rows of 77).
struct ClipShape {
  ClipConfig config;
  std::int64_t images = 32, texts = 32;
};

/// The rehearsal's CLIP: two blocks per tower, 32x32 images of 8x8 patches, 16 tokens.
inline ClipShape tiny_clip_shape() {
  ClipShape s;
  auto& t = s.config.text;
  t.hidden_size = 32;
  t.intermediate_size = 64;
  t.num_hidden_layers = 2;
  t.num_attention_heads = 4;
  t.vocab_size = 200;
  t.max_position_embeddings = 16;
  auto& v = s.config.vision;
  v.hidden_size = 48;
  v.intermediate_size = 96;
  v.num_hidden_layers = 2;
  v.num_attention_heads = 4;
  v.image_size = 32;
  v.patch_size = 8;
  s.config.projection_dim = 24;
  s.images = 3;
  s.texts = 4;
  return s;
}

/// Writes `dir/clip/` (config.json, model.safetensors) and `dir/clip.safetensors`: the inputs
/// (`input_ids`, `attention_mask`, `pixel_values`) and our outputs
/// (`<float32|bf16_autocast>.<image_features|text_features|logits_per_text>`, float32).
/// Token rows are CLIP's: the start id (vocab - 2), words below it, the end-of-text id
/// (vocab - 1, the highest, where the text is pooled: eos_token_id 2), then padding with the
/// end-of-text id as openai's tokenizer pads; row 0 is full, the others end at random lengths.
inline void write_clip_outputs(const std::filesystem::path& dir, const ClipShape& shape, const torch::Device& device) {
  std::filesystem::create_directories(dir);
  torch::manual_seed(9);
  const auto& tc = shape.config.text;
  const auto length = tc.max_position_embeddings;
  const auto bos = tc.vocab_size - 2, eos = tc.vocab_size - 1;
  auto ids = torch::full({shape.texts, length}, eos, torch::kLong);
  auto mask = torch::zeros({shape.texts, length}, torch::kLong);
  const auto lengths = torch::randint(2, length + 1, {shape.texts}, torch::kLong);
  lengths[0] = length;
  for (std::int64_t r = 0; r < shape.texts; ++r) {
    const auto n = lengths[r].item<std::int64_t>();
    ids[r][0] = bos;
    if (n > 2) ids[r].narrow(0, 1, n - 2).copy_(torch::randint(0, bos, {n - 2}, torch::kLong));
    mask[r].narrow(0, 0, n).fill_(1);
  }
  const auto& vc = shape.config.vision;
  const auto pixels = torch::randn({shape.images, vc.num_channels, vc.image_size, vc.image_size});
  {
    ClipModel model(shape.config);
    model->save_pretrained(dir / "clip");
  }
  std::map<std::string, torch::Tensor> ours{{"input_ids", ids}, {"attention_mask", mask}, {"pixel_values", pixels}};
  ClipLoadOptions load;
  load.device = device;
  auto model = ClipModel(ClipModelImpl::from_pretrained(dir / "clip", load));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto dev_ids = ids.to(device), dev_mask = mask.to(device), dev_pixels = pixels.to(device);
  for (const bool autocast : {false, true}) {
    const detail::AutocastGuard guard(device.type(), autocast, torch::kBFloat16);
    const auto prefix = std::string(autocast ? "bf16_autocast." : "float32.");
    auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat); };
    ours[prefix + "image_features"] = cpu(model->image_features(dev_pixels));
    ours[prefix + "text_features"] = cpu(model->text_features(dev_ids, dev_mask));
    ours[prefix + "logits_per_text"] = cpu(model->forward(dev_ids, dev_mask, dev_pixels).logits_per_text);
  }
  save_safetensors(dir / "clip.safetensors", ours);
}

}  // namespace vikcse::gpu
