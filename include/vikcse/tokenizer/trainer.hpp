// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file trainer.hpp
/// Trains a WordPiece vocabulary from a corpus, the way Hugging Face's WordPieceTrainer does
/// (a BPE trainer whose continuation pieces carry the "##" prefix):
///  1. every line is normalized and pre-tokenized as BERT does (lower-casing when asked), and the
///     words are counted;
///  2. the vocabulary starts with the special tokens, then every character seen (sorted by code
///     point), then "##c" for every character seen inside a word;
///  3. the most frequent adjacent pair of pieces (ties: the smaller pair of ids) is merged into a
///     new piece ("un" + "##able" -> "unable", "##a" + "##b" -> "##ab") until the vocabulary has
///     vocab_size entries or no pair occurs min_frequency times. The alphabet is always whole.
/// The result is a vocab.txt-compatible list. Its ids differ from a Hugging Face trained
/// vocabulary only where the two trainers break ties differently.

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/detail/io.hpp>
#include <vikcse/tokenizer/detail/unicode.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <queue>
#include <ranges>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vikcse {

/// Settings of train_wordpiece.
///
/// Example: `WordPieceTrainerOptions o; o.vocab_size = 8000; o.min_frequency = 2;`
struct WordPieceTrainerOptions {
  /// Target vocabulary size, special tokens included. Every character of the corpus (and its
  /// "##" form) is kept even when that alone exceeds it, so no seen character becomes [UNK].
  std::size_t vocab_size = 30522;
  std::size_t min_frequency = 2;   ///< a pair must occur this often (counting word frequencies) to be merged
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  bool lowercase = true;           ///< the tokenizer's do_lower_case (and strip_accents)
  std::string continuing_subword_prefix = "##";
};

/// Trains a WordPiece vocabulary on `lines` (any range of things convertible to
/// std::string_view) and returns it in id order, ready to be written as vocab.txt.
template <std::ranges::input_range Lines>
  requires std::convertible_to<std::ranges::range_reference_t<Lines>, std::string_view>
std::vector<std::string> train_wordpiece_vocab(const Lines& lines, const WordPieceTrainerOptions& options) {
  if (options.special_tokens.size() > options.vocab_size) {
    throw_error<vikcse::invalid_argument>("train_wordpiece: vocab_size {} is smaller than the {} special tokens",
                                          options.vocab_size, options.special_tokens.size());
  }
  // A tokenizer over the special tokens only, for BERT's normalizer and pre-tokenizer.
  WordPieceOptions pre_options;
  pre_options.lowercase = options.lowercase;
  std::vector<std::string> pre_vocab = options.special_tokens;
  for (const auto* t : {&pre_options.cls_token, &pre_options.sep_token}) {
    if (std::find(pre_vocab.begin(), pre_vocab.end(), *t) == pre_vocab.end()) pre_vocab.push_back(*t);
  }
  const WordPieceTokenizer pre(std::move(pre_vocab), pre_options);
  std::unordered_set<std::string_view> specials(options.special_tokens.begin(), options.special_tokens.end());

  std::unordered_map<std::string, std::int64_t> word_counts;
  for (const auto& line : lines) {
    for (auto& w : pre.pre_tokenize(std::string_view(line))) {
      if (!specials.contains(w)) ++word_counts[std::move(w)];
    }
  }

  // Vocabulary: specials, alphabet, then "##c" pieces, then merges.
  std::vector<std::string> vocab;
  detail::TokenIdMap ids;
  auto add = [&](const std::string& tok) -> std::int32_t {
    if (auto it = ids.find(tok); it != ids.end()) return static_cast<std::int32_t>(it->second);
    ids.emplace(tok, static_cast<std::int64_t>(vocab.size()));
    vocab.push_back(tok);
    return static_cast<std::int32_t>(vocab.size() - 1);
  };
  for (const auto& s : options.special_tokens) add(s);
  std::map<char32_t, bool> alphabet;
  std::vector<std::pair<std::u32string, std::int64_t>> words;
  words.reserve(word_counts.size());
  for (const auto& [w, n] : word_counts) {
    words.emplace_back(detail::unicode::to_u32(w), n);
    for (char32_t c : words.back().first) alphabet[c] = true;
  }
  std::sort(words.begin(), words.end());  // deterministic order, whatever the hash map did
  for (const auto& [c, unused] : alphabet) add(detail::unicode::to_utf8(c));
  const std::string& prefix = options.continuing_subword_prefix;
  std::vector<std::vector<std::int32_t>> pieces(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto& w = words[i].first;
    for (std::size_t k = 0; k < w.size(); ++k) {
      const std::string ch = detail::unicode::to_utf8(w[k]);
      if (k == 0) {
        pieces[i].push_back(add(ch));
      } else {
        pieces[i].push_back(add(prefix + ch));
      }
    }
  }

  // Pair counts, the words each pair occurs in, and a lazy max-heap of (count, pair).
  using Pair = std::pair<std::int32_t, std::int32_t>;
  auto key = [](Pair p) { return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.first)) << 32) | static_cast<std::uint32_t>(p.second); };
  std::unordered_map<std::uint64_t, std::int64_t> pair_count;
  std::unordered_map<std::uint64_t, std::unordered_set<std::size_t>> pair_words;
  auto count_word = [&](std::size_t i, std::int64_t sign) {
    const auto& p = pieces[i];
    for (std::size_t k = 0; k + 1 < p.size(); ++k) {
      const auto kk = key({p[k], p[k + 1]});
      pair_count[kk] += sign * words[i].second;
      if (sign > 0) pair_words[kk].insert(i);
    }
  };
  for (std::size_t i = 0; i < words.size(); ++i) count_word(i, +1);
  struct Entry {
    std::int64_t count;
    Pair pair;
    bool operator<(const Entry& o) const {  // max count first, then the smaller pair
      return count != o.count ? count < o.count : pair > o.pair;
    }
  };
  std::priority_queue<Entry> heap;
  for (const auto& [k, n] : pair_count) {
    heap.push({n, {static_cast<std::int32_t>(k >> 32), static_cast<std::int32_t>(k & 0xFFFFFFFFu)}});
  }
  auto strip = [&](const std::string& t) { return t.starts_with(prefix) ? t.substr(prefix.size()) : t; };
  while (vocab.size() < options.vocab_size && !heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    const auto k = key(top.pair);
    const auto current = pair_count[k];
    if (current != top.count) {  // stale entry: re-queue with the current count
      if (current > 0) heap.push({current, top.pair});
      continue;
    }
    if (current < static_cast<std::int64_t>(std::max<std::size_t>(options.min_frequency, 1))) break;
    const std::string merged = vocab[static_cast<std::size_t>(top.pair.first)] + strip(vocab[static_cast<std::size_t>(top.pair.second)]);
    const std::int32_t new_id = add(merged);
    const auto where = pair_words[k];
    std::unordered_set<std::uint64_t> touched;
    for (std::size_t i : where) {
      count_word(i, -1);
      auto& p = pieces[i];
      std::vector<std::int32_t> out;
      out.reserve(p.size());
      for (std::size_t j = 0; j < p.size(); ++j) {
        if (j + 1 < p.size() && p[j] == top.pair.first && p[j + 1] == top.pair.second) {
          out.push_back(new_id);
          ++j;
        } else {
          out.push_back(p[j]);
        }
      }
      p = std::move(out);
      count_word(i, +1);
      for (std::size_t j = 0; j + 1 < p.size(); ++j) touched.insert(key({p[j], p[j + 1]}));
    }
    pair_count[k] = 0;
    for (auto t : touched) {
      const auto n = pair_count[t];
      if (n > 0) heap.push({n, {static_cast<std::int32_t>(t >> 32), static_cast<std::int32_t>(t & 0xFFFFFFFFu)}});
    }
  }
  return vocab;
}

/// Trains a WordPiece vocabulary on `lines` and returns the tokenizer over it (BERT settings
/// with options.lowercase; save() writes vocab.txt + tokenizer_config.json).
///
/// Example:
/// @code
///   std::vector<std::string> corpus = read_lines("wiki.txt");
///   auto tok = vikcse::train_wordpiece(corpus, {.vocab_size = 8000});
///   tok.save("my-tokenizer");
/// @endcode
template <std::ranges::input_range Lines>
  requires std::convertible_to<std::ranges::range_reference_t<Lines>, std::string_view>
WordPieceTokenizer train_wordpiece(const Lines& lines, const WordPieceTrainerOptions& options = {}) {
  WordPieceOptions tok_options;
  tok_options.lowercase = options.lowercase;
  tok_options.continuing_subword_prefix = options.continuing_subword_prefix;
  return WordPieceTokenizer(train_wordpiece_vocab(lines, options), tok_options);
}

}  // namespace vikcse
