// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file synthetic_text.hpp
/// Text for the GPU suite, which has no data files: a WordPiece vocabulary of `size` entries
/// (BERT's special tokens, the words of the prompt templates, then `w5`, `w6`, ... one token each)
/// and sentences of random such words, long enough that every method's cut (SimCSE 32 tokens,
/// VIKCSE's templated 77) fills its rows, so a step's token count is the shape it names.

#include <vikcse/tokenizer/wordpiece.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vikcse::gpu {

/// The vocabulary: [PAD] [UNK] [CLS] [SEP] [MASK], the template words, then `w<i>` up to `size`.
inline std::shared_ptr<const WordPieceTokenizer> synthetic_tokenizer(std::int64_t size) {
  std::vector<std::string> vocab{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "this", "sentence", ":",
                                 "\"",    "[",     "]",     "means", "!",      "of",   "."};
  for (auto i = static_cast<std::int64_t>(vocab.size()); i < size; ++i) vocab.push_back("w" + std::to_string(i));
  return std::make_shared<const WordPieceTokenizer>(std::move(vocab));
}

/// `count` sentences of `words` random vocabulary words each (seeded by the global generator).
inline std::vector<std::string> synthetic_sentences(std::int64_t count, std::int64_t words, std::int64_t vocab_size) {
  const auto ids = torch::randint(15, vocab_size, {count, words}, torch::kLong);
  const auto* p = ids.data_ptr<std::int64_t>();
  std::vector<std::string> out;
  for (std::int64_t r = 0; r < count; ++r) {
    std::string s;
    for (std::int64_t w = 0; w < words; ++w) s += (w ? " w" : "w") + std::to_string(p[r * words + w]);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace vikcse::gpu
