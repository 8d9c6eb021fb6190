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
#include <vikcse/tokenizer/encoding.hpp>
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
  std::size_t min_frequency = 2;  ///< a pair must occur this often (counting word frequencies) to be merged
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  bool lowercase = true;  ///< the tokenizer's do_lower_case (and strip_accents)
  std::string continuing_subword_prefix = "##";
};

namespace detail::wordpiece_training {

/// The words of `lines` with their counts, normalized and pre-tokenized as BERT does (special
/// tokens left out), in code points and sorted, so the result does not depend on hashing.
template <TextRange Lines>
std::vector<std::pair<std::u32string, std::int64_t>> count_words(const Lines& lines,
                                                                 const WordPieceTrainerOptions& options) {
  // A tokenizer over the special tokens only, for BERT's normalizer and pre-tokenizer.
  WordPieceOptions pre_options;
  pre_options.lowercase = options.lowercase;
  std::vector<std::string> pre_vocab = options.special_tokens;
  for (const auto* t : {&pre_options.cls_token, &pre_options.sep_token}) {
    if (std::find(pre_vocab.begin(), pre_vocab.end(), *t) == pre_vocab.end()) pre_vocab.push_back(*t);
  }
  const WordPieceTokenizer pre(std::move(pre_vocab), pre_options);
  std::unordered_set<std::string_view> specials(options.special_tokens.begin(), options.special_tokens.end());
  std::unordered_map<std::string, std::int64_t> counts;
  for (const auto& line : lines) {
    for (auto& w : pre.pre_tokenize(std::string_view(line))) {
      if (!specials.contains(w)) ++counts[std::move(w)];
    }
  }
  std::vector<std::pair<std::u32string, std::int64_t>> words;
  words.reserve(counts.size());
  for (const auto& [w, n] : counts) words.emplace_back(unicode::to_u32(w), n);
  std::sort(words.begin(), words.end());
  return words;
}

/// The merge loop of the trainer: the vocabulary so far, each word as pieces, and the counts of
/// adjacent piece pairs (with the words they occur in, and a lazy max-heap over them).
class Merger {
public:
  Merger(std::vector<std::pair<std::u32string, std::int64_t>> words, const WordPieceTrainerOptions& options)
      : words_(std::move(words)), prefix_(options.continuing_subword_prefix) {
    // Vocabulary: specials, alphabet (sorted by code point), then "##c" pieces as words use them.
    for (const auto& s : options.special_tokens) add(s);
    std::map<char32_t, bool> alphabet;
    for (const auto& [w, n] : words_) {
      for (char32_t c : w) alphabet[c] = true;
    }
    for (const auto& [c, unused] : alphabet) add(unicode::to_utf8(c));
    pieces_.resize(words_.size());
    for (std::size_t i = 0; i < words_.size(); ++i) {
      const auto& w = words_[i].first;
      for (std::size_t k = 0; k < w.size(); ++k) {
        const std::string ch = unicode::to_utf8(w[k]);
        pieces_[i].push_back(add(k == 0 ? ch : prefix_ + ch));
      }
    }
    for (std::size_t i = 0; i < words_.size(); ++i) count_word(i, +1);
    for (const auto& [k, n] : pair_count_) heap_.push({n, unkey(k)});
  }

  /// Merges the most frequent pair (ties: the smaller pair of ids) while the vocabulary is smaller
  /// than `vocab_size` and some pair occurs at least `min_frequency` times.
  void run(std::size_t vocab_size, std::size_t min_frequency) {
    while (vocab_.size() < vocab_size && !heap_.empty()) {
      const Entry top = heap_.top();
      heap_.pop();
      const auto current = pair_count_[key(top.pair)];
      if (current != top.count) {  // stale entry: re-queue with the current count
        if (current > 0) heap_.push({current, top.pair});
        continue;
      }
      if (current < static_cast<std::int64_t>(std::max<std::size_t>(min_frequency, 1))) break;
      merge(top.pair);
    }
  }

  /// The vocabulary in id order.
  [[nodiscard]] std::vector<std::string> take_vocab() && { return std::move(vocab_); }

private:
  using Pair = std::pair<std::int32_t, std::int32_t>;
  struct Entry {
    std::int64_t count;
    Pair pair;
    bool operator<(const Entry& o) const {  // max count first, then the smaller pair
      return count != o.count ? count < o.count : pair > o.pair;
    }
  };

  static std::uint64_t key(Pair p) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.first)) << 32) |
           static_cast<std::uint32_t>(p.second);
  }
  static Pair unkey(std::uint64_t k) {
    return {static_cast<std::int32_t>(k >> 32), static_cast<std::int32_t>(k & 0xFFFFFFFFu)};
  }

  std::int32_t add(const std::string& token) {
    if (auto it = ids_.find(token); it != ids_.end()) return static_cast<std::int32_t>(it->second);
    ids_.emplace(token, static_cast<std::int64_t>(vocab_.size()));
    vocab_.push_back(token);
    return static_cast<std::int32_t>(vocab_.size() - 1);
  }

  void count_word(std::size_t i, std::int64_t sign) {
    const auto& p = pieces_[i];
    for (std::size_t k = 0; k + 1 < p.size(); ++k) {
      const auto kk = key({p[k], p[k + 1]});
      pair_count_[kk] += sign * words_[i].second;
      if (sign > 0) pair_words_[kk].insert(i);
    }
  }

  /// Adds the merged piece of `pair` ("un" + "##able" -> "unable") and rewrites the words it occurs in.
  void merge(Pair pair) {
    auto strip = [&](const std::string& t) { return t.starts_with(prefix_) ? t.substr(prefix_.size()) : t; };
    const std::string merged =
        vocab_[static_cast<std::size_t>(pair.first)] + strip(vocab_[static_cast<std::size_t>(pair.second)]);
    const std::int32_t new_id = add(merged);
    const auto k = key(pair);
    const auto where = pair_words_[k];
    std::unordered_set<std::uint64_t> touched;
    for (std::size_t i : where) {
      count_word(i, -1);
      auto& p = pieces_[i];
      std::vector<std::int32_t> out;
      out.reserve(p.size());
      for (std::size_t j = 0; j < p.size(); ++j) {
        if (j + 1 < p.size() && p[j] == pair.first && p[j + 1] == pair.second) {
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
    pair_count_[k] = 0;
    for (auto t : touched) {
      const auto n = pair_count_[t];
      if (n > 0) heap_.push({n, unkey(t)});
    }
  }

  std::vector<std::pair<std::u32string, std::int64_t>> words_;
  std::string prefix_;
  std::vector<std::string> vocab_;
  TokenIdMap ids_;
  std::vector<std::vector<std::int32_t>> pieces_;
  std::unordered_map<std::uint64_t, std::int64_t> pair_count_;
  std::unordered_map<std::uint64_t, std::unordered_set<std::size_t>> pair_words_;
  std::priority_queue<Entry> heap_;
};

}  // namespace detail::wordpiece_training

/// Trains a WordPiece vocabulary on `lines` and returns it in id order, ready to be written as
/// vocab.txt.
/// @tparam Lines a range of texts (`TextRange`)
/// @throws vikcse::invalid_argument when `vocab_size` cannot hold the special tokens.
template <TextRange Lines>
std::vector<std::string> train_wordpiece_vocab(const Lines& lines, const WordPieceTrainerOptions& options) {
  if (options.special_tokens.size() > options.vocab_size) {
    throw_error<vikcse::invalid_argument>("train_wordpiece: vocab_size {} is smaller than the {} special tokens",
                                          options.vocab_size, options.special_tokens.size());
  }
  detail::wordpiece_training::Merger merger(detail::wordpiece_training::count_words(lines, options), options);
  merger.run(options.vocab_size, options.min_frequency);
  return std::move(merger).take_vocab();
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
/// @tparam Lines a range of texts (`TextRange`)
template <TextRange Lines>
WordPieceTokenizer train_wordpiece(const Lines& lines, const WordPieceTrainerOptions& options = {}) {
  WordPieceOptions tok_options;
  tok_options.lowercase = options.lowercase;
  tok_options.continuing_subword_prefix = options.continuing_subword_prefix;
  return WordPieceTokenizer(train_wordpiece_vocab(lines, options), tok_options);
}

}  // namespace vikcse
