// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tiny_model.hpp
/// The tests' tiny random encoders and toy tokenizers, in one place: `tiny_bert_config` builds a
/// small `vikcse::BertConfig` from designated-initialised `TinyBertOptions`, and `toy_tokenizer`
/// a `vikcse::TokenizeFunction` giving one id per whitespace-separated word (`toy_special_tokens`:
/// the special ids beside it). The tests spell out
/// the sizes they use; they rely on the defaults for dropout (0.1, BertConfig's) and the initializer
/// range (0.02), so changing a default changes the tests that leave it out.
///
/// Example:
///     const auto config = vikcse::testing::tiny_bert_config({.vocab_size = 100, .dropout = 0.0});
///     const auto tokenize = vikcse::testing::toy_tokenizer({.buckets = 90, .fixed = {{"[MASK]", 3}}});

#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/tokenize_function.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse::testing {

/// The fields of a tiny BERT that the tests vary; every other `BertConfig` field keeps its
/// default (gelu, 2 token types, LayerNorm eps 1e-12, pad id 0, model_type "bert").
struct TinyBertOptions {
  std::int64_t vocab_size = 50;
  std::int64_t hidden_size = 16;
  std::int64_t num_hidden_layers = 2;
  std::int64_t num_attention_heads = 2;
  std::int64_t intermediate_size = 32;
  std::int64_t max_position_embeddings = 16;
  double dropout = 0.1;  ///< both hidden_dropout_prob and attention_probs_dropout_prob
  double initializer_range = 0.02;
};

/// A `BertConfig` with `options`' sizes, dropout and initializer range.
inline vikcse::BertConfig tiny_bert_config(const TinyBertOptions& options = {}) {
  vikcse::BertConfig c;
  c.vocab_size = options.vocab_size;
  c.hidden_size = options.hidden_size;
  c.num_hidden_layers = options.num_hidden_layers;
  c.num_attention_heads = options.num_attention_heads;
  c.intermediate_size = options.intermediate_size;
  c.max_position_embeddings = options.max_position_embeddings;
  c.hidden_dropout_prob = options.dropout;
  c.attention_probs_dropout_prob = options.dropout;
  c.initializer_range = options.initializer_range;
  return c;
}

/// What a toy tokenizer derives a (non-fixed) word's id from.
enum class ToyWordId {
  hash,    ///< `std::hash<std::string>` of the word
  length,  ///< the word's length in bytes
};

/// A toy tokenizer's id rule: word -> `fixed.at(word)` when listed, else
/// `first_id + key(word) % buckets`, with key the word's hash or length (`word_id`). The default
/// ids, [5, 50), fit `TinyBertOptions`' default vocabulary and stay clear of the special ids 0-4.
struct ToyTokenizerOptions {
  std::int64_t first_id = 5;
  std::int64_t buckets = 45;
  ToyWordId word_id = ToyWordId::hash;
  std::map<std::string, std::int64_t, std::less<>> fixed = {};  ///< exact words with their own ids
};

/// Tokenises text into one id per word, words being split as `std::istringstream >>` splits
/// them (ASCII whitespace); no special tokens. Case-sensitive. The result owns a copy of `options`.
inline vikcse::TokenizeFunction toy_tokenizer(ToyTokenizerOptions options = {}) {
  return [options = std::move(options)](std::string_view text) {
    std::vector<std::int64_t> ids;
    std::istringstream in{std::string(text)};
    std::string w;
    const auto buckets = static_cast<std::size_t>(options.buckets);
    while (in >> w) {
      if (const auto it = options.fixed.find(w); it != options.fixed.end()) {
        ids.push_back(it->second);
        continue;
      }
      const std::size_t key = options.word_id == ToyWordId::hash ? std::hash<std::string>{}(w) : w.size();
      ids.push_back(options.first_id + static_cast<std::int64_t>(key % buckets));
    }
    return ids;
  };
}

/// The special ids the tests' collators use beside a toy tokenizer: [PAD] 0, [CLS] 1, [SEP] 2,
/// [MASK] 3 (below the toy tokenizer's default first id, 5), no unknown id and no token strings.
inline vikcse::SpecialTokens toy_special_tokens() {
  vikcse::SpecialTokens specials;
  specials.cls = 1;
  specials.sep = 2;
  specials.pad = 0;
  specials.mask = 3;
  return specials;
}

}  // namespace vikcse::testing
