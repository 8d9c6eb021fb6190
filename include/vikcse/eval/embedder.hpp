// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedder.hpp
/// The one thing the evaluation engine needs from a model: an `Embedder` callback that maps a batch
/// of sentences to `[N, D]` float embeddings (SentEval's `batcher`). `encode_sentences` batches a
/// sentence list through it, sorted by length so that padding is small, and returns the rows in
/// the caller's order.

#include <vikcse/error.hpp>

#include <range/v3/algorithm/stable_sort.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/chunk.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

namespace vikcse {

/// Maps a batch of sentences (SentEval tokens joined with ' ') to `[N, D]` embeddings, one row per
/// sentence in the same order. Runs the model in eval mode without gradient; any device/dtype (the
/// engine moves the result to CPU float32).
using Embedder = std::function<torch::Tensor(const std::vector<std::string>& sentences)>;

/// How `encode_sentences` batches.
struct EncodeOptions {
  std::int64_t batch_size = 128;  ///< sentences per call of the embedder (SentEval default 128)
  bool sort_by_length = true;     ///< batch sentences of similar length together (less padding)
  bool deduplicate = true;        ///< encode each distinct sentence once
  /// Sort key (e.g. the tokenizer's token count). Default: length in bytes.
  std::function<std::size_t(const std::string&)> length;
  /// Called before the first batch (0 done) and after each batch with (sentences done, sentences to encode).
  std::function<void(std::size_t, std::size_t)> on_progress;
};

namespace detail::eval {

/// Checks and normalises what an embedder returned for a batch of `n` sentences.
inline torch::Tensor checked_embeddings(const torch::Tensor& out, std::size_t n, std::int64_t expected_dim) {
  if (!out.defined()) throw_error<invalid_argument>("embedder returned an undefined tensor for {} sentences", n);
  if (out.dim() != 2 || out.size(0) != static_cast<std::int64_t>(n)) {
    throw_error<invalid_argument>("embedder returned shape {} for {} sentences; expected [{}, D]",
                                  fmt::format("{}", fmt::join(out.sizes(), ", ")), n, n);
  }
  if (expected_dim >= 0 && out.size(1) != expected_dim) {
    throw_error<invalid_argument>("embedder returned dimension {} but an earlier batch had {}", out.size(1),
                                  expected_dim);
  }
  return out.detach().to(torch::kCPU, torch::kFloat).contiguous();
}

}  // namespace detail::eval

/// Encodes `sentences` with `embedder` in batches of `options.batch_size`, sorted by length when
/// `options.sort_by_length`, and returns `[sentences.size(), D]` float32 CPU embeddings with row i
/// belonging to `sentences[i]`. An empty input gives a `[0, 0]` tensor.
/// @throws vikcse::invalid_argument when the batch size is not positive or the embedder returns a
///         tensor of the wrong shape.
inline torch::Tensor encode_sentences(const Embedder& embedder, const std::vector<std::string>& sentences,
                                      const EncodeOptions& options = {}) {
  if (options.batch_size <= 0)
    throw_error<invalid_argument>("encode: batch_size must be > 0, got {}", options.batch_size);
  if (!embedder) throw_error<invalid_argument>("encode: the embedder callback is empty");
  // Distinct sentences (first occurrence order) and the row each input maps to.
  std::vector<std::size_t> row_of(sentences.size());
  std::vector<const std::string*> unique;
  if (options.deduplicate) {
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto [it, inserted] = seen.emplace(sentences[i], unique.size());
      if (inserted) unique.push_back(&sentences[i]);
      row_of[i] = it->second;
    }
  } else {
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      unique.push_back(&sentences[i]);
      row_of[i] = i;
    }
  }
  // Distinct sentences, sorted by length (stable: equal lengths keep their first-seen order), cut
  // into batches; each batch's embeddings land in the rows of its sentences.
  auto order = ranges::views::iota(std::size_t{0}, unique.size()) | ranges::to<std::vector>();
  if (options.sort_by_length) {
    const auto lengths = unique | ranges::views::transform([&](const std::string* s) {
                           return options.length ? options.length(*s) : s->size();
                         }) |
                         ranges::to<std::vector>();
    ranges::stable_sort(order, std::less<>{}, [&](std::size_t i) { return lengths[i]; });
  }
  if (options.on_progress) options.on_progress(0, order.size());
  torch::Tensor encoded;  // [unique, D], rows in `unique` order
  std::int64_t dim = -1;
  std::size_t done = 0;
  for (const auto batch : order | ranges::views::chunk(static_cast<std::size_t>(options.batch_size))) {
    const auto texts =
        batch | ranges::views::transform([&](std::size_t i) { return *unique[i]; }) | ranges::to<std::vector>();
    auto out = detail::eval::checked_embeddings(embedder(texts), texts.size(), dim);
    if (dim < 0) {
      dim = out.size(1);
      encoded = torch::empty({static_cast<std::int64_t>(unique.size()), dim}, torch::kFloat);
    }
    const auto rows = batch | ranges::views::transform([](std::size_t i) { return static_cast<std::int64_t>(i); }) |
                      ranges::to<std::vector>();
    encoded.index_copy_(0, torch::tensor(rows, torch::kLong), out);
    done += texts.size();
    if (options.on_progress) options.on_progress(done, order.size());
  }
  if (!encoded.defined()) return torch::empty({0, 0}, torch::kFloat);
  std::vector<std::int64_t> rows(row_of.begin(), row_of.end());
  return encoded.index_select(0, torch::tensor(rows, torch::kLong));
}

}  // namespace vikcse
