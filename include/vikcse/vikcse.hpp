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

// Base: errors, threads, the vocabulary structs
#include <vikcse/error.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/types.hpp>
#include <vikcse/version.hpp>

// Concepts of the four policies, and the context types they exchange
#include <vikcse/concepts/concepts.hpp>

// Hugging Face checkpoints, tokenizers, prompt templates, encoders
#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/encoder/bert.hpp>
#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/prompt/template.hpp>
#include <vikcse/prompt/templates.hpp>
#include <vikcse/prompt/view_format.hpp>
#include <vikcse/tokenizer/batch.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>
#include <vikcse/tokenizer/tokenizer.hpp>

// Policies: poolers and heads, losses, knowledge bases; the host
#include <vikcse/methods/aliases.hpp>
#include <vikcse/pooler/pooler.hpp>

// Training and evaluation
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/eval/pairs.hpp>
#include <vikcse/eval/retrieval.hpp>
#include <vikcse/eval/senteval.hpp>
#include <vikcse/train/trainer.hpp>
#include <vikcse/util/progress.hpp>
// Using embeddings: pairwise scores and exact top-k search
#include <vikcse/search/semantic_search.hpp>
#include <vikcse/search/similarity.hpp>

// The methods: recipes, reference settings, paper tables
#include <vikcse/methods/hyperparameters.hpp>
#include <vikcse/methods/paper_results.hpp>
#include <vikcse/methods/recipes.hpp>

// Stage 1's image models: CLIP (both towers) and ResNet-50, in Hugging Face / torchvision key layout
#include <vikcse/vision/clip_model.hpp>
#include <vikcse/vision/resnet.hpp>

// Using a trained model: loading, embedding, the sentence-transformers layout
#include <vikcse/inference/embedding_files.hpp>
#include <vikcse/inference/save_sentence_transformers.hpp>
#include <vikcse/inference/sentence_encoder.hpp>
#include <vikcse/inference/sentence_transformers.hpp>
