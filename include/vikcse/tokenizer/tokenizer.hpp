// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tokenizer.hpp
/// All torch-free tokenizer headers: WordPiece (BERT), byte-level BPE (RoBERTa/GPT-2),
/// AutoTokenizer / load_tokenizer, batch encoding without torch, and the WordPiece trainer.
/// Include vikcse/tokenizer/batch.hpp for TokenBatch tensors.

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/trainer.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>
