// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file encoder_outputs.hpp
/// Our half of the comparison with `transformers`' own BertModel and RobertaModel: a random
/// checkpoint of each (Hugging Face layout, written by `save_pretrained`), a batch with padding,
/// and our outputs on `device` in float32 and in bfloat16 (weights loaded as bf16, as
/// `from_pretrained(dtype=torch.bfloat16)` loads them). tests/gpu/compare_encoders.py loads the
/// same checkpoints with transformers and judges both against a float64 reference.

#include "model_shape.hpp"

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace vikcse::gpu {

/// The size of the compared models and of their batch.
struct EncoderShape {
  ModelShape model;
  std::int64_t batch = 8, length = 64;
};

/// Writes `dir/bert/`, `dir/roberta/` (config.json, model.safetensors) and `dir/ours.safetensors`:
/// the inputs (`input_ids.<model>`, padded with the model's pad id, and `attention_mask`) and our
/// outputs (`<model>.<float32|bfloat16>.<last_hidden_state|pooler_output>`, float32).
inline void write_encoder_outputs(const std::filesystem::path& dir, const EncoderShape& shape,
                                  const torch::Device& device) {
  std::filesystem::create_directories(dir);
  torch::manual_seed(7);
  const auto ids = torch::randint(5, shape.model.vocab, {shape.batch, shape.length}, torch::kLong);
  auto mask = torch::ones_like(ids);
  for (std::int64_t r = 1; r < shape.batch; r += 2) {  // every other row padded from a different point
    mask[r].narrow(0, shape.length - 3 * r, 3 * r).zero_();
  }
  std::map<std::string, torch::Tensor> ours;
  for (const std::string family : {"bert", "roberta"}) {
    auto c = bert_config(shape.model);
    c.model_type = family;
    if (family == "roberta") {  // RobertaConfig's own values
      c.pad_token_id = 1;
      c.type_vocab_size = 1;
      c.layer_norm_eps = 1e-5;
      c.max_position_embeddings = shape.length + 2;
    } else {
      c.max_position_embeddings = shape.length;
    }
    AutoModel model(c);
    model.save_pretrained(dir / family);
    const auto row_ids = ids.masked_fill(mask.eq(0), c.pad_token_id);
    ours["input_ids." + family] = row_ids;
    for (auto dtype : {torch::kFloat, torch::kBFloat16}) {
      LoadOptions load;
      load.device = device;
      load.dtype = dtype;
      auto loaded = AutoModel::from_pretrained(dir / family, load);
      loaded->eval();
      torch::NoGradGuard no_grad;
      const TokenBatch batch{row_ids, mask, torch::zeros_like(row_ids), {}};
      const auto out = loaded->forward(batch.to(device));
      const auto prefix = family + (dtype == torch::kFloat ? ".float32." : ".bfloat16.");
      ours[prefix + "last_hidden_state"] = out.last_hidden_state.to(torch::kCPU, torch::kFloat);
      ours[prefix + "pooler_output"] = out.pooler_output.to(torch::kCPU, torch::kFloat);
    }
  }
  ours["attention_mask"] = mask;
  save_safetensors(dir / "ours.safetensors", ours);
}

}  // namespace vikcse::gpu
