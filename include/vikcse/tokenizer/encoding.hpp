// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file encoding.hpp
/// Truncation, padding and batching on top of any tokenizer, without torch:
/// the result is row-major std::vector<std::int64_t> (batch.hpp turns it into a TokenBatch).

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/detail/core.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <mutex>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace vikcse {

/// A range of texts: anything whose elements convert to `std::string_view` (sentences, lines).
template <typename R>
concept TextRange =
    std::ranges::input_range<R> && std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>;

/// A `TextRange` with random access (what the batch encoder splits across threads).
template <typename R>
concept TextArray = TextRange<R> && std::ranges::random_access_range<R>;

/// What the batch encoder needs of a tokenizer; satisfied by WordPieceTokenizer,
/// ByteLevelBpeTokenizer and AutoTokenizer.
template <typename T>
concept TextTokenizer = requires(const T& t, std::string_view text, std::vector<std::int64_t>& ids,
                                 std::vector<std::int64_t>* types, std::span<const std::int64_t> span) {
  { t.encode(text) } -> std::same_as<std::vector<std::int64_t>>;
  { t.encode(text, false) } -> std::same_as<std::vector<std::int64_t>>;
  { t.encode_pair(text, text, types) } -> std::same_as<std::vector<std::int64_t>>;
  { t.decode(span, true) } -> std::same_as<std::string>;
  { t.special_tokens() } -> std::convertible_to<const SpecialTokens&>;
  { t.vocab_size() } -> std::convertible_to<std::int64_t>;
  { t.num_special_tokens(true) } -> std::convertible_to<std::size_t>;
  { t.frame(ids, &ids, types) } -> std::same_as<std::vector<std::int64_t>>;
  t.encode_into(text, ids, std::size_t{1});
};

/// How sequences longer than max_length are cut.
enum class Truncation {
  none,            ///< never cut (padding to max_length then fails on a longer sequence)
  whole_sequence,  ///< cut the content (template included) from the right, keep the special tokens
  sentence_only,   ///< cut only the sentence, so a prompt template (and its [MASK]) always survives
};

/// How rows are padded.
enum class Padding {
  longest,     ///< to the longest row of the batch
  max_length,  ///< to max_length
};

/// Settings of the batch encoder. Prompt templates are not its business: a templated view is built
/// from a `PromptLayout` (vikcse/prompt/layout.hpp), whose sentence-only truncation keeps the mask.
struct BatchEncodingOptions {
  std::size_t max_length = 512;  ///< special tokens included
  Truncation truncation = Truncation::whole_sequence;
  Padding padding = Padding::longest;
  bool add_special_tokens = true;
  unsigned threads = 1;  ///< worker threads for encode_batch (0: hardware)
};

/// A padded batch as flat row-major arrays of rows x cols.
struct EncodedBatch {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::int64_t> input_ids;       ///< rows * cols
  std::vector<std::int64_t> attention_mask;  ///< rows * cols, 1 on tokens, 0 on padding
  std::vector<std::int64_t> token_type_ids;  ///< rows * cols
  std::vector<std::size_t> lengths;          ///< tokens per row before padding

  /// Row i of input_ids, padding included.
  [[nodiscard]] std::span<const std::int64_t> ids(std::size_t i) const {
    return std::span<const std::int64_t>(input_ids).subspan(i * cols, cols);
  }
};

/// The ids of one sentence under `options` (truncation, special tokens), unpadded. Without a
/// template, `sentence_only` and `whole_sequence` cut the same ids.
template <TextTokenizer Tok>
std::vector<std::int64_t> encode_truncated(const Tok& tok, std::string_view sentence,
                                           const BatchEncodingOptions& options) {
  std::vector<std::int64_t> content = tok.encode(sentence, false);
  const std::size_t specials = options.add_special_tokens ? tok.num_special_tokens(false) : 0;
  const std::size_t budget = options.max_length > specials ? options.max_length - specials : 0;
  if (options.truncation != Truncation::none && content.size() > budget) content.resize(budget);
  if (!options.add_special_tokens) return content;
  return tok.frame(content);
}

/// The ids of a pair under `options`: whole_sequence (and sentence_only) truncation follow Hugging
/// Face's LongestFirst strategy; token types come from the tokenizer's template.
template <TextTokenizer Tok>
std::vector<std::int64_t> encode_pair_truncated(const Tok& tok, std::string_view a, std::string_view b,
                                                const BatchEncodingOptions& options,
                                                std::vector<std::int64_t>* token_type_ids = nullptr) {
  const std::size_t specials = options.add_special_tokens ? tok.num_special_tokens(true) : 0;
  const std::size_t budget = options.max_length > specials ? options.max_length - specials : 0;
  // Hugging Face stops encoding each side once it holds max_length ids (at a word boundary),
  // then balances the two lengths; the balance depends on those capped lengths.
  const std::size_t limit = options.truncation == Truncation::none ? static_cast<std::size_t>(-1) : options.max_length;
  std::vector<std::int64_t> ia, ib;
  tok.encode_into(a, ia, limit);
  tok.encode_into(b, ib, limit);
  if (options.truncation != Truncation::none) detail::truncate_longest_first(ia, ib, budget);
  std::vector<std::int64_t> ids;
  if (!options.add_special_tokens) {
    ids = ia;
    ids.insert(ids.end(), ib.begin(), ib.end());
    if (token_type_ids != nullptr) {
      token_type_ids->assign(ia.size(), 0);
      token_type_ids->insert(token_type_ids->end(), ib.size(), 1);
    }
    return ids;
  }
  return tok.frame(ia, &ib, token_type_ids);
}

namespace detail {

/// Pads rows of ids (and types) into an EncodedBatch.
inline EncodedBatch pad_rows(std::vector<std::vector<std::int64_t>> rows, std::vector<std::vector<std::int64_t>> types,
                             const BatchEncodingOptions& options, std::int64_t pad_id) {
  EncodedBatch batch;
  batch.rows = rows.size();
  std::size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  if (options.padding == Padding::max_length) {
    if (longest > options.max_length) {
      throw_error<vikcse::invalid_argument>(
          "a row has {} tokens, more than max_length {} (Padding::max_length with "
          "Truncation::none)",
          longest, options.max_length);
    }
    batch.cols = options.max_length;
  } else {
    batch.cols = longest;
  }
  const bool needs_pad = std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.size() < batch.cols; });
  if (needs_pad && pad_id < 0) {
    throw_error<tokenizer_error>("padding needs a pad token, and the tokenizer's vocabulary has none");
  }
  batch.input_ids.assign(batch.rows * batch.cols, pad_id);
  batch.attention_mask.assign(batch.rows * batch.cols, 0);
  batch.token_type_ids.assign(batch.rows * batch.cols, 0);
  batch.lengths.resize(batch.rows);
  for (std::size_t i = 0; i < batch.rows; ++i) {
    const auto& r = rows[i];
    std::copy(r.begin(), r.end(), batch.input_ids.begin() + static_cast<std::ptrdiff_t>(i * batch.cols));
    std::fill_n(batch.attention_mask.begin() + static_cast<std::ptrdiff_t>(i * batch.cols), r.size(), 1);
    if (!types.empty()) {
      std::copy(types[i].begin(), types[i].end(),
                batch.token_type_ids.begin() + static_cast<std::ptrdiff_t>(i * batch.cols));
    }
    batch.lengths[i] = r.size();
  }
  return batch;
}

/// Runs f(i) for i in [0, n) on `threads` workers (contiguous chunks).
template <typename F>
void parallel_for(std::size_t n, unsigned threads, F&& f) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(n / 16, 1)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::vector<std::thread> workers;
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (unsigned t = 0; t < threads; ++t) {
    const std::size_t begin = n * t / threads;
    const std::size_t end = n * (t + 1) / threads;
    workers.emplace_back([&, begin, end] {
      try {
        for (std::size_t i = begin; i < end; ++i) f(i);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace detail

/// Encodes sentences under `options` (template, truncation, special tokens) on
/// `options.threads` threads, one unpadded row of ids per sentence.
template <TextTokenizer Tok, TextArray Range>
std::vector<std::vector<std::int64_t>> encode_all(const Tok& tok, const Range& sentences,
                                                  const BatchEncodingOptions& options = {}) {
  const auto n = static_cast<std::size_t>(std::ranges::size(sentences));
  std::vector<std::vector<std::int64_t>> rows(n);
  detail::parallel_for(n, options.threads, [&](std::size_t i) {
    rows[i] =
        encode_truncated(tok, std::string_view(std::ranges::begin(sentences)[static_cast<std::ptrdiff_t>(i)]), options);
  });
  return rows;
}

/// Encodes sentences into a padded batch.
///
/// Example: `auto batch = vikcse::encode_batch(tok, std::vector<std::string>{"a b", "c"}, {});`
template <TextTokenizer Tok, TextArray Range>
EncodedBatch encode_batch(const Tok& tok, const Range& sentences, const BatchEncodingOptions& options = {}) {
  return detail::pad_rows(encode_all(tok, sentences, options), {}, options, tok.special_tokens().pad);
}

/// The ids and token types of each pair (a[i], b[i]) under `options`, unpadded, on
/// `options.threads` workers.
/// @throws vikcse::invalid_argument when the two columns differ in length.
template <TextTokenizer Tok, TextArray RangeA, TextArray RangeB>
std::pair<std::vector<std::vector<std::int64_t>>, std::vector<std::vector<std::int64_t>>> encode_pair_all(
    const Tok& tok, const RangeA& a, const RangeB& b, const BatchEncodingOptions& options = {}) {
  const auto n = static_cast<std::size_t>(std::ranges::size(a));
  if (static_cast<std::size_t>(std::ranges::size(b)) != n) {
    throw_error<vikcse::invalid_argument>("encode_pair_batch: {} first sentences but {} second ones", n,
                                          static_cast<std::size_t>(std::ranges::size(b)));
  }
  std::vector<std::vector<std::int64_t>> rows(n), types(n);
  detail::parallel_for(n, options.threads, [&](std::size_t i) {
    rows[i] = encode_pair_truncated(tok, std::string_view(std::ranges::begin(a)[static_cast<std::ptrdiff_t>(i)]),
                                    std::string_view(std::ranges::begin(b)[static_cast<std::ptrdiff_t>(i)]), options,
                                    &types[i]);
  });
  return {std::move(rows), std::move(types)};
}

/// Encodes sentence pairs (a[i], b[i]) into a padded batch with token types.
template <TextTokenizer Tok, TextArray RangeA, TextArray RangeB>
EncodedBatch encode_pair_batch(const Tok& tok, const RangeA& a, const RangeB& b,
                               const BatchEncodingOptions& options = {}) {
  auto [rows, types] = encode_pair_all(tok, a, b, options);
  return detail::pad_rows(std::move(rows), std::move(types), options, tok.special_tokens().pad);
}

}  // namespace vikcse
