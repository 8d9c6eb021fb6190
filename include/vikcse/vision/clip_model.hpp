// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file clip_model.hpp
/// Hugging Face's `CLIPModel` (openai/clip-vit-base-patch32 and its relatives) as a LibTorch module
/// whose parameter names are the checkpoint's keys: `text_model.*`, `vision_model.*`,
/// `visual_projection`, `text_projection`, `logit_scale`.
///
///  - Vision tower: a convolution of stride patch_size cuts the image into patches (no bias), a
///    learned class embedding is put first, positions are added, `pre_layrnorm` (sic, the
///    checkpoint's spelling), the pre-LN blocks, then `post_layernorm` of the class token, which
///    `visual_projection` maps to the shared width.
///  - Text tower: token plus position embeddings, the blocks under a causal mask (and the padding
///    mask), `final_layer_norm`, the hidden state at the end-of-text token (see
///    ClipTextConfig::eos_token_id), then `text_projection`.
///  - `image_features` / `text_features` are the projections, not normalised (transformers'
///    `get_image_features` / `get_text_features`); `forward` L2-normalises both and returns the
///    logits `exp(logit_scale) * text · image`, as transformers' `CLIPModel.forward` does.

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/load_report.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/error.hpp>
#include <vikcse/vision/clip_config.hpp>
#include <vikcse/vision/clip_layers.hpp>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

namespace vikcse {

/// The additive attention mask of CLIP's text tower [B, 1, T, T]: a query sees keys at or
/// before its position that are not padding; blocked entries hold the dtype's lowest value.
inline torch::Tensor clip_causal_mask(const torch::Tensor& attention_mask, std::int64_t length,
                                      torch::ScalarType dtype, torch::Device device) {
  auto opts = torch::TensorOptions().dtype(torch::kBool).device(device);
  auto allowed = torch::ones({length, length}, opts).tril().view({1, 1, length, length});
  if (attention_mask.defined()) allowed = allowed & attention_mask.to(device).to(torch::kBool).unsqueeze(1).unsqueeze(2);
  auto zero = torch::zeros({}, torch::TensorOptions().dtype(dtype).device(device));
  return torch::where(allowed, zero, torch::full({}, detail::lowest_value(dtype), zero.options()));
}

/// Token and position embeddings. Keys: `token_embedding`, `position_embedding`.
class ClipTextEmbeddingsImpl : public torch::nn::Module {
public:
  explicit ClipTextEmbeddingsImpl(const ClipTextConfig& c) {
    token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.hidden_size));
    position_embedding =
        register_module("position_embedding", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  }
  torch::Tensor forward(const torch::Tensor& input_ids) {
    auto positions = torch::arange(input_ids.size(1), input_ids.options().dtype(torch::kLong));
    return token_embedding(input_ids) + position_embedding(positions).unsqueeze(0);
  }
  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
};
TORCH_MODULE(ClipTextEmbeddings);

/// The text tower. Keys: `embeddings`, `encoder`, `final_layer_norm`.
class ClipTextTransformerImpl : public torch::nn::Module {
public:
  explicit ClipTextTransformerImpl(const ClipTextConfig& c) : config_(c) {
    embeddings = register_module("embeddings", ClipTextEmbeddings(c));
    encoder = register_module("encoder", ClipEncoder(c));
    final_layer_norm = register_module("final_layer_norm", detail::clip_layer_norm(c));
  }

  /// The pooled (end-of-text) hidden state [B, D] of `input_ids` [B, T]; `attention_mask` [B, T]
  /// (1 on tokens) may be undefined.
  /// @throws vikcse::invalid_argument for a batch that is not [B, T] with 1 <= T <= max_position_embeddings,
  ///         or ids outside the vocabulary (checked on the CPU only, where it costs no synchronisation).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {}) {
    if (!input_ids.defined() || input_ids.dim() != 2 || input_ids.size(1) < 1 ||
        input_ids.size(1) > config_.max_position_embeddings) {
      throw_error<invalid_argument>("CLIP text: input_ids must be [batch, length] with 1 <= length <= {}, got [{}]",
                                    config_.max_position_embeddings,
                                    input_ids.defined() ? fmt::format("{}", fmt::join(input_ids.sizes(), ", ")) : "");
    }
    if (input_ids.device().is_cpu() && input_ids.numel() > 0) {
      const auto lo = input_ids.min().item<std::int64_t>();
      const auto hi = input_ids.max().item<std::int64_t>();
      if (lo < 0 || hi >= config_.vocab_size) {
        throw_error<invalid_argument>("CLIP text: token ids must lie in [0, {}) (vocab_size), found {}..{}",
                                      config_.vocab_size, lo, hi);
      }
    }
    auto ids = input_ids.to(torch::kLong);
    auto x = embeddings(ids);
    auto mask = clip_causal_mask(attention_mask, ids.size(1), x.scalar_type(), x.device());
    x = final_layer_norm(encoder(x, mask));
    torch::Tensor eos;
    if (config_.eos_token_id == 2) {
      eos = ids.argmax(-1);  // the highest id, <|endoftext|>; the first one on ties
    } else {
      eos = (ids == config_.eos_token_id).to(torch::kInt).argmax(-1);
    }
    return x.index({torch::arange(x.size(0), ids.options()), eos});
  }

  ClipTextEmbeddings embeddings{nullptr};
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm final_layer_norm{nullptr};

private:
  ClipTextConfig config_;
};
TORCH_MODULE(ClipTextTransformer);

/// Patch, class and position embeddings. Keys: `class_embedding`, `patch_embedding`, `position_embedding`.
class ClipVisionEmbeddingsImpl : public torch::nn::Module {
public:
  explicit ClipVisionEmbeddingsImpl(const ClipVisionConfig& c) {
    class_embedding = register_parameter("class_embedding", torch::randn({c.hidden_size}));
    patch_embedding = register_module(
        "patch_embedding",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size).stride(c.patch_size).bias(false)));
    position_embedding =
        register_module("position_embedding", torch::nn::Embedding(c.grid() * c.grid() + 1, c.hidden_size));
  }
  torch::Tensor forward(const torch::Tensor& pixels) {
    auto patches = patch_embedding(pixels).flatten(2).transpose(1, 2);  // [B, grid², D]
    auto cls = class_embedding.view({1, 1, -1}).expand({pixels.size(0), 1, class_embedding.size(0)});
    return torch::cat({cls, patches}, 1) + position_embedding->weight.unsqueeze(0);
  }
  torch::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
};
TORCH_MODULE(ClipVisionEmbeddings);

/// The vision tower. Keys: `embeddings`, `pre_layrnorm`, `encoder`, `post_layernorm`.
class ClipVisionTransformerImpl : public torch::nn::Module {
public:
  explicit ClipVisionTransformerImpl(const ClipVisionConfig& c) : config_(c) {
    embeddings = register_module("embeddings", ClipVisionEmbeddings(c));
    pre_layrnorm = register_module("pre_layrnorm", detail::clip_layer_norm(c));
    encoder = register_module("encoder", ClipEncoder(c));
    post_layernorm = register_module("post_layernorm", detail::clip_layer_norm(c));
  }

  /// The pooled (class-token) state [B, D] of `pixel_values` [B, C, S, S] (S = image_size),
  /// converted to the tower's dtype first.
  /// @throws vikcse::invalid_argument for another shape.
  torch::Tensor forward(const torch::Tensor& pixel_values) {
    const auto s = config_.image_size;
    if (!pixel_values.defined() || pixel_values.dim() != 4 || pixel_values.size(1) != config_.num_channels ||
        pixel_values.size(2) != s || pixel_values.size(3) != s) {
      throw_error<invalid_argument>("CLIP vision: pixel_values must be [batch, {}, {}, {}], got [{}]",
                                    config_.num_channels, s, s,
                                    pixel_values.defined() ? fmt::format("{}", fmt::join(pixel_values.sizes(), ", "))
                                                           : "");
    }
    auto x = pre_layrnorm(embeddings(pixel_values.to(embeddings->class_embedding.scalar_type())));
    x = encoder(x);
    return post_layernorm(x.select(1, 0));
  }

  ClipVisionEmbeddings embeddings{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};

private:
  ClipVisionConfig config_;
};
TORCH_MODULE(ClipVisionTransformer);

/// What `ClipModel::forward` returns (transformers' CLIPOutput).
struct ClipOutput {
  torch::Tensor text_embeds;       ///< [Bt, P], L2-normalised
  torch::Tensor image_embeds;      ///< [Bi, P], L2-normalised
  torch::Tensor logits_per_text;   ///< [Bt, Bi] = exp(logit_scale) * text_embeds · image_embedsᵀ
  torch::Tensor logits_per_image;  ///< its transpose
};

/// Settings of `ClipModel::from_pretrained`.
struct ClipLoadOptions {
  bool strict = true;  ///< a missing, unexpected or mis-shaped key throws (else it is reported)
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

/// Maps a CLIPModel checkpoint key onto the module: the position-id buffers older checkpoints
/// carry (`*.embeddings.position_ids`) are ignored, everything else keeps its name.
inline MappedKey map_clip_key(const std::string& key) {
  if (key == "text_model.embeddings.position_ids" || key == "vision_model.embeddings.position_ids") {
    return {std::nullopt};
  }
  return {key};
}

/// CLIP: both towers, their projections and the learned temperature.
///
/// Example:
/// @code
///   auto clip = vikcse::ClipModel::from_pretrained("clip-vit-base-patch32");
///   auto image = clip->image_features(pixels);   // [B, 512], as get_image_features
/// @endcode
class ClipModelImpl : public torch::nn::Module {
public:
  explicit ClipModelImpl(const ClipConfig& config) : config_(config) {
    config.validate();
    text_model = register_module("text_model", ClipTextTransformer(config.text));
    vision_model = register_module("vision_model", ClipVisionTransformer(config.vision));
    visual_projection = register_module(
        "visual_projection",
        torch::nn::Linear(torch::nn::LinearOptions(config.vision.hidden_size, config.projection_dim).bias(false)));
    text_projection = register_module(
        "text_projection",
        torch::nn::Linear(torch::nn::LinearOptions(config.text.hidden_size, config.projection_dim).bias(false)));
    logit_scale = register_parameter("logit_scale", torch::full({}, config.logit_scale_init_value));
    eval();
  }

  /// transformers' get_image_features: [B, P], not normalised.
  torch::Tensor image_features(const torch::Tensor& pixel_values) { return visual_projection(vision_model(pixel_values)); }

  /// transformers' get_text_features: [B, P], not normalised.
  torch::Tensor text_features(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {}) {
    return text_projection(text_model(input_ids, attention_mask));
  }

  /// Both towers, normalised, and the scaled similarity logits.
  ClipOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                     const torch::Tensor& pixel_values) {
    ClipOutput out;
    out.image_embeds = torch::nn::functional::normalize(image_features(pixel_values),
                                                        torch::nn::functional::NormalizeFuncOptions().dim(-1));
    out.text_embeds = torch::nn::functional::normalize(text_features(input_ids, attention_mask),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(-1));
    out.logits_per_text = torch::matmul(out.text_embeds, out.image_embeds.t()) * logit_scale.exp();
    out.logits_per_image = out.logits_per_text.t();
    return out;
  }

  /// Replaces both projections with new bias-free ones into `dim` dimensions (the reference's
  /// variant that puts the knowledge base in the sentence encoder's width, e.g. 768 for BERT-base),
  /// initialised as transformers initialises CLIP's projections: normal with std = width^-1/2.
  /// `config().projection_dim` becomes `dim`, so `save_pretrained` writes a checkpoint that loads back.
  /// @throws vikcse::invalid_argument for `dim` <= 0.
  void replace_projections(std::int64_t dim) {
    if (dim <= 0) throw_error<invalid_argument>("CLIP: projection width must be positive, got {}", dim);
    const auto options = logit_scale.options();
    auto fresh = [&](std::int64_t width) {
      torch::nn::Linear layer(torch::nn::LinearOptions(width, dim).bias(false));
      torch::NoGradGuard no_grad;
      layer->weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(width)));
      layer->to(options.device(), options.dtype().toScalarType());
      return layer;
    };
    visual_projection = replace_module("visual_projection", fresh(config_.vision.hidden_size));
    text_projection = replace_module("text_projection", fresh(config_.text.hidden_size));
    config_.projection_dim = dim;
  }

  /// Loads `config.json` and the weights (`model.safetensors`, shards or `pytorch_model.bin`) of
  /// a Hugging Face CLIPModel directory.
  /// @throws vikcse::config_error, vikcse::checkpoint_error naming the file or key.
  static std::shared_ptr<ClipModelImpl> from_pretrained(const std::filesystem::path& dir,
                                                        const ClipLoadOptions& options = {}) {
    if (!std::filesystem::is_directory(dir)) {
      throw_error<checkpoint_error>("{}: CLIP checkpoint directory does not exist", dir.string());
    }
    auto model = std::make_shared<ClipModelImpl>(ClipConfig::from_json_file(dir / "config.json"));
    const auto tensors = read_checkpoint_tensors(dir);
    model->report_ = load_state_dict(*model, tensors, map_clip_key, options.strict, dir.string());
    model->to(options.device, options.dtype);
    return model;
  }

  /// Writes `config.json` and `model.safetensors`, each atomically.
  void save_pretrained(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot create checkpoint directory: {}", dir.string(), ec.message());
    save_state_dict(*this, dir / "model.safetensors");
    config_.save(dir / "config.json");
  }

  [[nodiscard]] const ClipConfig& config() const { return config_; }
  /// What `from_pretrained` loaded (empty for a random model).
  [[nodiscard]] const LoadReport& load_report() const { return report_; }

  ClipTextTransformer text_model{nullptr};
  ClipVisionTransformer vision_model{nullptr};
  torch::nn::Linear visual_projection{nullptr};
  torch::nn::Linear text_projection{nullptr};
  torch::Tensor logit_scale;

private:
  ClipConfig config_;
  LoadReport report_;
};
TORCH_MODULE(ClipModel);

}  // namespace vikcse
