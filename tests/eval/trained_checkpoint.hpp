// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file trained_checkpoint.hpp
/// A checkpoint as the trainer writes it (best/, last/), for the eval tests: a SimCSE host over the
/// tiny BERT fixture whose MLP head has visible weights and bias.

#include <support/test_data.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/train/checkpoint.hpp>

#include <torch/torch.h>

#include <filesystem>

namespace vikcse::testing {

/// Writes the checkpoint to `dir` with `save_model_checkpoint` (no sentence-transformers files).
inline void save_trained_simcse(const std::filesystem::path& dir) {
  const auto config = BertConfig::from_json_file(fixture_dir() / "encoder" / "tiny-bert" / "config.json");
  torch::manual_seed(11);
  SimCSE model(BertModel(config), ClsPooler(config.hidden_size), NoKnowledge(), InfoNCELoss());
  {
    torch::NoGradGuard no_grad;
    model->pooler->mlp->dense->weight.normal_(0.0, 0.3);
    model->pooler->mlp->dense->bias.uniform_(-0.5, 0.5);
  }
  SaveOptions options;
  save_model_checkpoint(*model, dir, options);
}

}  // namespace vikcse::testing
