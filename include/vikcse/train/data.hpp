// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file data.hpp
/// Training data: the corpus reader (one sentence per line, as SimCSE's `datasets` loader),
/// supervised CSV triples (`sent0,sent1,hard_neg`), and the seeded shuffling batch source of a
/// step loop.

#include <vikcse/error.hpp>
#include <vikcse/types.hpp>
#include <vikcse/util/epoch_order.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/drop.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace vikcse {

/// Reads one sentence per line (LF or CRLF). Empty or whitespace-only lines are an error naming
/// the line, unless `skip_empty` (then they are dropped, and counted in `skipped`).
/// @throws vikcse::data_error for a missing file, an empty line (when not skipped) or no sentences.
inline std::vector<std::string> read_corpus(const std::filesystem::path& path, bool skip_empty = false,
                                            std::size_t* skipped = nullptr) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open corpus file", path.string());
  std::vector<std::string> out;
  std::string line;
  std::size_t line_no = 0;
  std::size_t dropped = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t\f\v") == std::string::npos) {
      if (!skip_empty) {
        throw_error<data_error>("{}:{}: empty line in the corpus (expected one sentence per line)", path.string(),
                                line_no);
      }
      ++dropped;
      continue;
    }
    out.push_back(std::move(line));
  }
  if (skipped != nullptr) *skipped = dropped;
  if (out.empty()) throw_error<data_error>("{}: the corpus has no sentences", path.string());
  return out;
}

/// Reads a corpus the way VIKCSE's reference code does: through a CSV parser with a tab delimiter
/// and `"` as the quote character (Python's `csv` rules: a field that starts with `"` runs to the
/// matching `"`, newlines included, `""` inside it is one quote, and text after its closing quote
/// is kept; a quote elsewhere is an ordinary character). Quote-initiated lines therefore swallow
/// the lines that follow them and lose their quotes: 1,000,000 lines of wiki1m give 995,447 rows.
/// Each row's first field is one sentence (an empty field becomes a single space, as in the
/// reference); blank lines give no row. Use it only to reproduce the reference; `read_corpus` reads
/// line by line, as SimCSE does.
/// @throws vikcse::data_error for a missing file or a file with no rows.
inline std::vector<std::string> read_corpus_csv_compatible(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open corpus file", path.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  enum class State { start_record, start_field, in_field, in_quoted, quote_in_quoted };
  std::vector<std::string> out;
  std::vector<std::string> row;
  std::string field;
  State state = State::start_record;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&] {
    if (!row.empty()) out.push_back(row.front().empty() ? std::string(" ") : std::move(row.front()));
    row.clear();
    state = State::start_record;
  };
  for (const char c : text) {
    const bool newline = c == '\n' || c == '\r';
    switch (state) {
      case State::start_record:
        if (newline) break;  // a blank line (or the second half of CR LF) gives no row
        [[fallthrough]];
      case State::start_field:
        if (newline) {
          end_field();
          end_record();
        } else if (c == '"')
          state = State::in_quoted;
        else if (c == '\t') {
          end_field();
          state = State::start_field;
        } else {
          field.push_back(c);
          state = State::in_field;
        }
        break;
      case State::in_field:
        if (newline) {
          end_field();
          end_record();
        } else if (c == '\t') {
          end_field();
          state = State::start_field;
        } else
          field.push_back(c);
        break;
      case State::in_quoted:
        if (c == '"')
          state = State::quote_in_quoted;
        else
          field.push_back(c);
        break;
      case State::quote_in_quoted:
        if (c == '"') {
          field.push_back('"');
          state = State::in_quoted;
        } else if (c == '\t') {
          end_field();
          state = State::start_field;
        } else if (newline) {
          end_field();
          end_record();
        } else {
          field.push_back(c);
          state = State::in_field;
        }
        break;
    }
  }
  if (state != State::start_record && (state != State::start_field || !row.empty() || !field.empty())) {
    end_field();  // the last line had no newline, or a quoted field ran to the end of the file
    end_record();
  }
  if (out.empty()) throw_error<data_error>("{}: the corpus has no rows", path.string());
  return out;
}

/// Supervised SimCSE data: positive pairs and optional hard negatives.
struct SupervisedTriples {
  std::vector<std::string> sent0;     ///< anchors
  std::vector<std::string> sent1;     ///< positives
  std::vector<std::string> hard_neg;  ///< hard negatives (empty for a 2-column file)
};

namespace detail {

/// Splits one CSV record (RFC 4180 quotes) starting at `line`; reads further lines for quoted newlines.
inline std::vector<std::string> csv_record(std::istream& in, std::string line, std::size_t& line_no) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (;;) {
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted) {
        if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          fields.back().push_back('"');
          ++i;
        } else if (c == '"') {
          quoted = false;
        } else {
          fields.back().push_back(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.emplace_back();
      } else if (c != '\r') {
        fields.back().push_back(c);
      }
    }
    if (!quoted) return fields;
    if (!std::getline(in, line)) return fields;
    ++line_no;
    fields.back().push_back('\n');
  }
}

}  // namespace detail

/// Reads `sent0,sent1[,hard_neg]` with a header row (SimCSE's `nli_for_simcse.csv`).
/// @throws vikcse::data_error naming the line for a wrong column count or an empty field.
inline SupervisedTriples read_supervised_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open supervised CSV", path.string());
  std::string line;
  std::size_t line_no = 0;
  if (!std::getline(in, line))
    throw_error<data_error>("{}: empty file (expected a header sent0,sent1[,hard_neg])", path.string());
  ++line_no;
  const auto header = detail::csv_record(in, line, line_no);
  if (header.size() != 2 && header.size() != 3) {
    throw_error<data_error>("{}:1: expected 2 or 3 columns (sent0,sent1[,hard_neg]), got {}", path.string(),
                            header.size());
  }
  SupervisedTriples out;
  while (std::getline(in, line)) {
    ++line_no;
    const auto start = line_no;
    if (line.empty() || line == "\r") continue;
    const auto f = detail::csv_record(in, line, line_no);
    if (f.size() != header.size()) {
      throw_error<data_error>("{}:{}: expected {} columns, got {}", path.string(), start, header.size(), f.size());
    }
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (f[i].find_first_not_of(" \t") == std::string::npos) {
        throw_error<data_error>("{}:{}: column {} is empty", path.string(), start, i + 1);
      }
    }
    out.sent0.push_back(f[0]);
    out.sent1.push_back(f[1]);
    if (f.size() == 3) out.hard_neg.push_back(f[2]);
  }
  if (out.sent0.empty()) throw_error<data_error>("{}: no rows after the header", path.string());
  return out;
}

/// Where the steps of training come from: `steps_per_epoch` and the batch of (epoch, index).
/// Batches must be a pure function of (epoch, index) so that resuming continues the same order.
struct BatchSource {
  std::int64_t steps_per_epoch = 0;                                ///< batches per epoch
  std::function<TrainingBatch(std::int64_t, std::int64_t)> batch;  ///< (epoch, index) -> batch
};

/// Shuffled mini-batches of `items` (last partial batch kept), made into steps by `make`.
/// @tparam Item the element type of the data (a sentence, a triple index, ...).
template <typename Item>
BatchSource shuffled_batches(std::shared_ptr<const std::vector<Item>> items, std::int64_t batch_size,
                             std::uint64_t seed, std::function<TrainingBatch(const std::vector<Item>&)> make) {
  if (batch_size <= 0) throw_error<invalid_argument>("batch_size must be > 0, got {}", batch_size);
  if (!items || items->empty()) throw_error<invalid_argument>("no training items");
  const auto n = static_cast<std::int64_t>(items->size());
  BatchSource source;
  source.steps_per_epoch = (n + batch_size - 1) / batch_size;
  auto cache = std::make_shared<std::pair<std::int64_t, std::vector<std::size_t>>>(-1, std::vector<std::size_t>{});
  source.batch = [items, batch_size, seed, make, cache](std::int64_t epoch, std::int64_t index) {
    if (cache->first != epoch) *cache = {epoch, epoch_order(items->size(), seed, epoch)};
    // Batch `index` of the epoch's order: its items, in that order (the last batch may be short).
    const auto batch = cache->second | ranges::views::drop(static_cast<std::size_t>(index * batch_size)) |
                       ranges::views::take(static_cast<std::size_t>(batch_size)) |
                       ranges::views::transform([&](std::size_t i) { return (*items)[i]; }) |
                       ranges::to<std::vector<Item>>();
    return make(batch);
  };
  return source;
}

/// MCSE's mixed sampling: `T + P` steps per epoch, `k = ⌊T/P⌋`; step `s` of an epoch draws a paired
/// batch when `s mod k == 0`, else a text batch. Both sources cycle forever, as MCSE's two infinite
/// loaders do: the n-th paired draw of the whole run is batch `n mod P` of pass `n / P` over the
/// pairs (and likewise for text), so no batch repeats before every batch of its source was drawn,
/// across epoch boundaries too (an epoch holds ⌈(T+P)/k⌉ paired draws, not P).
inline BatchSource mixed_batches(BatchSource text, BatchSource paired) {
  if (text.steps_per_epoch <= 0 || paired.steps_per_epoch <= 0) {
    throw_error<invalid_argument>("mixed sampling needs text ({}) and paired ({}) batches", text.steps_per_epoch,
                                  paired.steps_per_epoch);
  }
  const auto t = text.steps_per_epoch;
  const auto p = paired.steps_per_epoch;
  const auto k = std::max<std::int64_t>(1, t / p);
  BatchSource out;
  out.steps_per_epoch = t + p;
  const auto paired_per_epoch = (t + p + k - 1) / k;  // steps s in [0, T+P) with s mod k == 0
  const auto text_per_epoch = t + p - paired_per_epoch;
  out.batch = [text, paired, t, p, k, paired_per_epoch, text_per_epoch](std::int64_t epoch, std::int64_t s) {
    const auto paired_before = s / k + (s % k == 0 ? 0 : 1);  // paired draws in [0, s) of this epoch
    if (s % k == 0) {
      const auto draw = epoch * paired_per_epoch + s / k;
      return paired.batch(draw / p, draw % p);
    }
    const auto draw = epoch * text_per_epoch + (s - paired_before);
    return text.batch(draw / t, draw % t);
  };
  return out;
}

}  // namespace vikcse
