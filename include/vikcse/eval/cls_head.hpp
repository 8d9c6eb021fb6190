// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file cls_head.hpp
/// Which MLP the `cls` pooler applies at evaluation. SimCSE's rule: `cls` is [CLS] followed by an
/// MLP head, namely the trained MLP for a SimCSE-style checkpoint and BERT's pretrained pooler for a
/// raw Hugging Face model. A checkpoint written by `save_model_checkpoint` keeps its encoder (with
/// BERT's untouched pretrained pooler) in `model.safetensors` and the trained pooler MLP
/// `tanh(W h + b)` in `vikcse_heads.safetensors` as `pooler.mlp.dense.weight` / `.bias`; the
/// encoder's `pooler_output` is therefore the wrong head for such a checkpoint.
///
/// A prompt pooler (PromptBERT) saves its [MASK] head under the same keys; the heads file's metadata
/// (`heads_pooler_key`) names the pooler that owns the MLP, and only a `cls` pooler's head (or that of
/// an older checkpoint without the key) is applied to [CLS].

#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>

namespace vikcse {

/// Where the `cls` pooler's MLP comes from.
enum class ClsHeadSource {
  bert_pooler,  ///< the encoder's own pooling layer (`pooler_output`): BERT's pretrained pooler
  trained_mlp,  ///< the MLP head trained with the checkpoint (`pooler.mlp.dense` of the heads file)
};

/// The MLP head of the `cls` pooler, resolved for one checkpoint.
struct ClsHead {
  ClsHeadSource source = ClsHeadSource::bert_pooler;  ///< where the head comes from
  /// `tanh(W h + b)` for the trained MLP (give it to `PoolerOptions::head`); empty for the BERT pooler.
  std::function<torch::Tensor(const torch::Tensor&)> apply;
  std::string description;  ///< one line for the program's output, naming the file and keys used
  /// Short identity for cache keys: `trained-mlp` or `bert-pooler`.
  [[nodiscard]] std::string id() const { return source == ClsHeadSource::trained_mlp ? "trained-mlp" : "bert-pooler"; }
};

/// Resolves the `cls` head of the checkpoint in `dir`: the trained MLP when `dir/vikcse_heads.safetensors`
/// holds `pooler.mlp.dense.weight` `[H, H]` and `pooler.mlp.dense.bias` `[H]`, else BERT's pretrained
/// pooler (a plain Hugging Face checkpoint, or a trained one saved without an MLP head). The trained
/// head converts its weights to the dtype and device of its input (so it follows `--bf16`).
/// @throws vikcse::checkpoint_error naming the file and key when only one of the two tensors is present
///         or their shapes do not form a square linear layer.
inline ClsHead load_cls_head(const std::filesystem::path& dir) {
  const auto path = dir / heads_file_name;
  ClsHead head;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    head.description =
        fmt::format("BERT's pretrained pooler (pooler_output; no {} in {})", heads_file_name, dir.string());
    return head;
  }
  const auto file = SafetensorsFile::open(path);
  const std::string weight_key = "pooler.mlp.dense.weight";
  const std::string bias_key = "pooler.mlp.dense.bias";
  const bool has_weight = file.contains(weight_key);
  const bool has_bias = file.contains(bias_key);
  if (!has_weight && !has_bias) {
    head.description = fmt::format("BERT's pretrained pooler (pooler_output; {} has no {})", path.string(), weight_key);
    return head;
  }
  // Checkpoints name the pooler that trained `pooler.mlp` (older ones do not: taken as `cls`). The
  // MLP of a [MASK] prompt pooler, or of another pooling kind, is not a head over [CLS].
  const auto& meta = file.metadata();
  if (const auto owner = meta.find(heads_pooler_key); owner != meta.end() && owner->second != "cls") {
    head.description = fmt::format(
        "BERT's pretrained pooler (pooler_output; the MLP head in {} belongs to the '{}' "
        "pooler, not to cls)",
        path.string(), owner->second);
    return head;
  }
  if (has_weight != has_bias) {
    throw_error<checkpoint_error>("{}: has '{}' but not '{}' (the MLP head is incomplete)", path.string(),
                                  has_weight ? weight_key : bias_key, has_weight ? bias_key : weight_key);
  }
  auto weight = file.load(weight_key).to(torch::kFloat);
  auto bias = file.load(bias_key).to(torch::kFloat);
  if (weight.dim() != 2 || weight.size(0) != weight.size(1)) {
    throw_error<checkpoint_error>("{}: '{}' must be a square [H, H] matrix, got [{}]", path.string(), weight_key,
                                  fmt::join(weight.sizes(), ", "));
  }
  if (bias.dim() != 1 || bias.size(0) != weight.size(0)) {
    throw_error<checkpoint_error>("{}: '{}' must be [{}] to match '{}', got [{}]", path.string(), bias_key,
                                  weight.size(0), weight_key, fmt::join(bias.sizes(), ", "));
  }
  head.source = ClsHeadSource::trained_mlp;
  head.description = fmt::format("trained MLP head tanh(W h + b) on [CLS] (pooler.mlp.dense of {})", path.string());
  head.apply = [weight, bias](const torch::Tensor& h) {
    if (h.dim() != 2 || h.size(1) != weight.size(1)) {
      throw_error<invalid_argument>("cls head: expected [N, {}] [CLS] vectors, got {} dims / last size {}",
                                    weight.size(1), h.dim(), h.dim() > 0 ? h.size(-1) : 0);
    }
    const auto options = torch::TensorOptions().dtype(h.scalar_type()).device(h.device());
    return torch::tanh(torch::nn::functional::linear(h, weight.to(options), bias.to(options)));
  };
  return head;
}

}  // namespace vikcse
