// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file pairs.hpp
/// Evaluation on the user's own sentence pairs: a TSV file of `sentence1<TAB>sentence2<TAB>score`
/// (any numeric scale), scored like an STS task: the cosine of the two embeddings of each pair
/// (SentEval's arithmetic, `sts.hpp`) against the gold score, by Spearman's and Pearson's
/// correlation (`correlation.hpp`).
///
/// Example:
/// ```
/// const auto pairs = vikcse::read_pairs_file("my_pairs.tsv");
/// const auto result = vikcse::evaluate_pairs(pairs, embedder);
/// fmt::print("Spearman x 100: {:.2f}\n", 100 * result.spearman);
/// ```

#include <vikcse/error.hpp>
#include <vikcse/eval/correlation.hpp>
#include <vikcse/eval/data_lines.hpp>
#include <vikcse/eval/embedder.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/eval/text.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// Sentence pairs with gold scores, read from a pairs TSV file.
struct PairsData {
  std::string name;                 ///< the file's name without its extension (table label)
  std::filesystem::path path;       ///< the file read
  bool header = false;              ///< the file's first row was a header (and was not read as a pair)
  std::vector<std::string> first;   ///< first sentences, exactly as in the file
  std::vector<std::string> second;  ///< second sentences
  std::vector<double> gold;         ///< gold scores

  /// Number of pairs.
  [[nodiscard]] std::size_t size() const { return gold.size(); }
};

/// Reads a pairs TSV: one `sentence1<TAB>sentence2<TAB>score` per line, exactly three columns, the
/// score a finite number. The first row is a header when its third column is not a number (only the
/// first row can be one; a later non-number is an error). Sentences are kept as written (the
/// tokenizer splits them). Empty lines are skipped at the end of the file only (`data_lines.hpp`).
/// @throws vikcse::data_error naming the file, and the line (1-based) where there is one, when the
///         file is missing or empty, a row has a missing or an extra column, a score is not a
///         finite number, fewer than 2 pairs are given, or all gold scores are equal (a correlation
///         needs two different scores).
inline PairsData read_pairs_file(const std::filesystem::path& path) {
  PairsData data;
  data.path = path;
  data.name = path.stem().string();
  const auto lines = detail::eval::for_each_data_line(path, [&](std::size_t line_no, std::string_view line) {
    const auto fields = detail::eval::split_on(line, '\t');
    if (fields.size() != 3) {
      throw_error<data_error>("{}:{}: expected 3 tab-separated columns (sentence1, sentence2, score), found {}",
                              path.string(), line_no, fields.size());
    }
    const auto score = detail::eval::parse_python_float(fields[2]);
    if (!score) {
      if (line_no == 1) {  // a header row
        data.header = true;
        return;
      }
      throw_error<data_error>("{}:{}: expected a number as score (column 3), found '{}'", path.string(), line_no,
                              fields[2]);
    }
    if (!std::isfinite(*score)) {
      throw_error<data_error>("{}:{}: expected a finite number as score (column 3), found '{}'", path.string(), line_no,
                              fields[2]);
    }
    data.first.emplace_back(fields[0]);
    data.second.emplace_back(fields[1]);
    data.gold.push_back(*score);
  });
  if (lines == 0) {
    throw_error<data_error>("{}: expected sentence pairs (sentence1<TAB>sentence2<TAB>score), found an empty file",
                            path.string());
  }
  if (data.size() < 2) {
    throw_error<data_error>("{}: expected at least 2 sentence pairs for a correlation, found {}{}", path.string(),
                            data.size(), data.header ? " (after the header row)" : "");
  }
  if (std::all_of(data.gold.begin(), data.gold.end(), [&](double g) { return g == data.gold.front(); })) {
    throw_error<data_error>(
        "{}: expected at least two different gold scores for a correlation, found {} pairs all "
        "scored {}",
        path.string(), data.size(), data.gold.front());
  }
  return data;
}

/// Options of `evaluate_pairs`.
struct PairsEvalOptions {
  CosinePrecision cosine = CosinePrecision::float32;  ///< arithmetic of the cosine (as the STS tasks)
};

/// Correlations of the cosine similarities of a pairs file with its gold scores.
struct PairsResult {
  std::string name;       ///< `PairsData::name`
  std::string path;       ///< the file evaluated
  std::size_t n = 0;      ///< number of pairs
  double spearman = 0.0;  ///< Spearman of cosine vs gold (NaN when the cosines are constant)
  double pearson = 0.0;   ///< Pearson of cosine vs gold (NaN when the cosines are constant)
  CosinePrecision cosine = CosinePrecision::float32;  ///< the cosine arithmetic used
};

/// Evaluates `data` from precomputed embeddings: row k of `first` / `second` embeds pair k's first /
/// second sentence.
/// @throws vikcse::invalid_argument when the row counts do not match the pairs.
inline PairsResult evaluate_pairs(const PairsData& data, const torch::Tensor& first, const torch::Tensor& second,
                                  const PairsEvalOptions& options = {}) {
  const auto n = static_cast<std::int64_t>(data.size());
  if (first.dim() != 2 || second.dim() != 2 || first.size(0) != n || second.size(0) != n) {
    throw_error<invalid_argument>("evaluate_pairs({}): expected two [{}, D] embedding tensors, got {} and {} rows",
                                  data.name, n, first.dim() == 2 ? first.size(0) : -1,
                                  second.dim() == 2 ? second.size(0) : -1);
  }
  const auto cosines = detail::eval::senteval_cosines(first, second, options.cosine);
  return {data.name,
          std::filesystem::absolute(data.path).string(),
          data.size(),
          spearman(cosines, data.gold),
          pearson(cosines, data.gold),
          options.cosine};
}

/// Encodes both sentences of every pair with `embedder` (one `encode_sentences` call, each distinct
/// sentence once) and evaluates them.
inline PairsResult evaluate_pairs(const PairsData& data, const Embedder& embedder, const EncodeOptions& encode = {},
                                  const PairsEvalOptions& options = {}) {
  std::vector<std::string> sentences = data.first;
  sentences.insert(sentences.end(), data.second.begin(), data.second.end());
  const auto embeddings = encode_sentences(embedder, sentences, encode);
  const auto n = static_cast<std::int64_t>(data.size());
  return evaluate_pairs(data, embeddings.narrow(0, 0, n), embeddings.narrow(0, n, n), options);
}

}  // namespace vikcse
