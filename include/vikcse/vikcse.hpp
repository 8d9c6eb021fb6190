// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file vikcse.hpp
/// The umbrella header of vikcse: include only this.
///
/// Not included here, because they need optional libraries: `vikcse/knowledge/faiss_retriever.hpp`
/// (FAISS; target `vikcse::faiss`) and `vikcse/distributed/*.hpp` (LibTorch's c10d with Gloo).

#if __cplusplus < 202002L
#error "vikcse needs C++20 (compile with -std=c++20)"
#endif

#include <vikcse/version.hpp>
#include <vikcse/error.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/types.hpp>

// Encoders and Hugging Face checkpoints
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/encoder/bert.hpp>
#include <vikcse/encoder/auto_model.hpp>

// Tokenizers
#include <vikcse/tokenizer/tokenizer.hpp>
#include <vikcse/tokenizer/batch.hpp>

// Poolers and evaluation
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/pooler/prompt_template.hpp>
#include <vikcse/eval/batcher.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/senteval.hpp>
#include <vikcse/util/progress.hpp>

// Methods: concepts, the policy host, the aliases, training
#include <vikcse/concepts/concepts.hpp>
#include <vikcse/methods.hpp>
#include <vikcse/methods/embedder.hpp>
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/train/trainer.hpp>
