// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file training_steps.hpp
/// Speed of a training step, in bf16 autocast, through the library's own aliases and recipes:
/// SimCSE (batch 64 x 2 views in one pass, 32 tokens) and VIKCSE (batch 128, two passes of 77
/// tokens, top-1 retrieval from a 29,000 x 512 knowledge base for the [MASK] and [CLS] terms), each
/// step being forward, backward, gradient clipping and AdamW, as the Trainer's step. The loss is read
/// once, after the timed steps. Reported: seconds and tokens per step, model FLOP/s, and the model
/// FLOP utilisation (MFU) against a bf16 matrix product timed in the same run. Each method's
/// encoder checkpoint and batch are written for the eager peer (tests/gpu/peer_steps.py).

#include "model_shape.hpp"
#include "synthetic_text.hpp"

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/torch_compat.hpp>
#include <vikcse/methods/recipes.hpp>
#include <vikcse/optim/optimizer.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace vikcse::gpu {

/// Model and step sizes (defaults: the GPU run; the rehearsal shrinks them).
struct StepShape {
  ModelShape model;
  std::int64_t simcse_batch = 64, simcse_length = 32;
  std::int64_t vikcse_batch = 128, vikcse_length = 77, kb_rows = 29000, kb_dim = 512;
  int warmup = 3, iters = 10;
};

/// Waits for the device (the timers read the host clock).
inline void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

/// Seconds per call of `f` over `iters` calls after `warmup`, the device drained before and after.
template <typename F>
double seconds_per_call(F&& f, int warmup, int iters, const torch::Device& device) {
  for (int i = 0; i < warmup; ++i) f();
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  synchronize(device);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
}

/// The bf16 matrix-product rate of this device, FLOP/s (n x n x n products).
inline double bf16_matmul_rate(const torch::Device& device, std::int64_t n) {
  const auto opts = torch::TensorOptions().device(device).dtype(torch::kBFloat16);
  const auto a = torch::randn({n, n}, opts);
  const auto b = torch::randn({n, n}, opts);
  torch::Tensor c;
  const double s = seconds_per_call([&] { c = torch::matmul(a, b); }, 3, 10, device);
  return 2.0 * static_cast<double>(n * n * n) / s;
}

/// Model FLOPs of one training step of an encoder over `rows` sequences of `length` tokens: the
/// forward's multiply-adds per token and layer are 4H² (query, key, value, output) + 2HI (the
/// feed-forward) + 2TH (attention scores and their weighted sum), 2 FLOPs each; backward costs
/// twice the forward. Embedding lookups, LayerNorm and softmax are not counted (no matrix work).
inline double encoder_train_flops(const StepShape& s, std::int64_t rows, std::int64_t length) {
  const double h = static_cast<double>(s.model.hidden), i = static_cast<double>(s.model.intermediate);
  const double per_token_layer = 2.0 * (4.0 * h * h + 2.0 * h * i + 2.0 * static_cast<double>(length) * h);
  const double tokens = static_cast<double>(rows * length);
  return 3.0 * tokens * per_token_layer * static_cast<double>(s.model.layers);
}

/// Times one method's step; writes `dir/<method>/` (encoder checkpoint, batch.safetensors) for the peer.
template <typename MakeRecipe>
nlohmann::json time_method(const std::string& method, const StepShape& s, const torch::Device& device,
                           const std::filesystem::path& dir, MakeRecipe&& make_recipe, double matmul_rate) {
  torch::manual_seed(11);
  const auto c = bert_config(s.model);
  AutoModel encoder(c, {.add_pooling_layer = false});
  encoder.save_pretrained(dir / method);
  const auto tokenizer = synthetic_tokenizer(s.model.vocab);
  auto r = make_recipe(encoder, tokenizer);
  const bool vikcse = method == "vikcse";
  const auto rows = vikcse ? s.vikcse_batch : s.simcse_batch;
  const auto cpu_batch = r.collator->unsupervised(synthetic_sentences(rows, 100, s.model.vocab));
  save_safetensors(dir / method / "batch.safetensors",
                   {{"input_ids", cpu_batch.first.input_ids}, {"attention_mask", cpu_batch.first.attention_mask}});
  const auto batch = cpu_batch.to(device);
  r.model->to(device);
  r.model->train();
  auto optimizer = make_adamw(*r.model, {.learning_rate = 3e-5});
  const auto parameters = r.model->parameters();
  torch::Tensor loss;
  auto step = [&] {
    optimizer->zero_grad();
    {
      const detail::AutocastGuard bf16(device.type(), true, torch::kBFloat16);
      loss = r.model->forward(batch).total;
    }
    loss.backward();
    (void)clip_grad_norm(parameters, 1.0);
    optimizer->step();
  };
  const double seconds = seconds_per_call(step, s.warmup, s.iters, device);
  const auto length = batch.first.input_ids.size(1);
  const auto passes = vikcse ? 2 : 1;  // VIKCSE: one pass per view; SimCSE: both views in one pass
  const auto encoded_rows = 2 * rows;  // two views of every sentence
  double flops = encoder_train_flops(s, encoded_rows, length);
  if (vikcse) {  // the [MASK] and [CLS] queries of both views against the bank (forward only)
    flops += 4.0 * 2.0 * static_cast<double>(rows * s.kb_rows * s.kb_dim);
  }
  const double tokens = static_cast<double>(encoded_rows * length);
  return {{"method", method},
          {"rows_per_pass", encoded_rows / passes},
          {"passes", passes},
          {"tokens_per_row", length},
          {"tokens_per_step", tokens},
          {"seconds_per_step", seconds},
          {"tokens_per_second", tokens / seconds},
          {"model_tflop_per_step", flops / 1e12},
          {"achieved_tflops", flops / seconds / 1e12},
          {"mfu", flops / seconds / matmul_rate},
          {"final_loss", loss.item<double>()},
          {"mask_token_id", tokenizer->special_tokens().mask}};
}

/// Both methods' steps and the matrix rate, as JSON.
inline nlohmann::json time_training_steps(const StepShape& s, const torch::Device& device,
                                          const std::filesystem::path& dir, std::int64_t matmul_n) {
  const double rate = bf16_matmul_rate(device, matmul_n);
  nlohmann::json out{{"device", device.str()},
                     {"bf16_matmul_tflops", rate / 1e12},
                     {"matmul_n", matmul_n},
                     {"shape",
                      {{"layers", s.model.layers},
                       {"hidden", s.model.hidden},
                       {"heads", s.model.heads},
                       {"intermediate", s.model.intermediate},
                       {"vocab", s.model.vocab},
                       {"kb_rows", s.kb_rows},
                       {"kb_dim", s.kb_dim},
                       {"warmup", s.warmup},
                       {"iters", s.iters}}}};
  out["steps"].push_back(time_method(
      "simcse", s, device, dir,
      [&](AutoModel e, auto tok) {
        auto o = recipe_options("simcse", *tok);
        o.max_length = s.simcse_length;
        return make_simcse(std::move(e), tok, o);
      },
      rate));
  torch::manual_seed(12);
  const auto kb = torch::randn({s.kb_rows, s.kb_dim});
  save_safetensors(dir / "kb.safetensors", {{"features", kb}});
  out["steps"].push_back(time_method(
      "vikcse", s, device, dir,
      [&](AutoModel e, auto tok) {
        auto o = recipe_options("vikcse", *tok);
        o.max_length = s.vikcse_length;
        return make_vikcse(std::move(e), tok, kb, o);
      },
      rate));
  return out;
}

}  // namespace vikcse::gpu
