// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedding_files.hpp
/// Embeddings on disk: the three output formats of `vikcse_encode` and the search index of
/// `vikcse_search`.
///
/// | format        | contents                                                                |
/// |---------------|-------------------------------------------------------------------------|
/// | `npy`         | float32 `[N, D]`, NumPy version 1 (`numpy.load`)                        |
/// | `safetensors` | tensor `embeddings` float32 `[N, D]`; metadata `model`, `description`   |
/// | `jsonl`       | one line per sentence: `{"index": i, "text": "...", "embedding": [...]}` |
///
/// A search index is the safetensors form with the identity of the model that made it
/// (`SentenceEncoder::identity`: weights, tokenizer and embedding settings), the corpus' content
/// hash and row count; `load_embedding_index` refuses an index whose model or corpus differs.

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/eval/embedding_cache.hpp>
#include <vikcse/knowledge/feature_file.hpp>

#include <fmt/format.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// How `write_embeddings` lays the rows out.
enum class EmbeddingFormat { npy, safetensors, jsonl };

/// Parses `npy`, `safetensors` or `jsonl`. @throws vikcse::config_error listing them.
inline EmbeddingFormat parse_embedding_format(std::string_view name) {
  if (name == "npy") return EmbeddingFormat::npy;
  if (name == "safetensors") return EmbeddingFormat::safetensors;
  if (name == "jsonl") return EmbeddingFormat::jsonl;
  throw_error<config_error>("unknown embedding format '{}': expected npy, safetensors or jsonl", name);
}

/// The format a file name asks for (`.npy`, `.safetensors`, `.jsonl`), or `fallback`.
inline EmbeddingFormat embedding_format_of(const std::filesystem::path& path, EmbeddingFormat fallback) {
  const auto ext = path.extension().string();
  if (ext == ".npy") return EmbeddingFormat::npy;
  if (ext == ".safetensors") return EmbeddingFormat::safetensors;
  if (ext == ".jsonl") return EmbeddingFormat::jsonl;
  return fallback;
}

/// Writes `embeddings` `[N, D]` (row i for `texts[i]`) to `out` in `format`; `metadata` goes into a
/// safetensors header.
/// @throws vikcse::invalid_argument when the rows and texts disagree in number.
inline void write_embeddings(std::ostream& out, const torch::Tensor& embeddings, const std::vector<std::string>& texts,
                             EmbeddingFormat format, const std::map<std::string, std::string>& metadata = {}) {
  if (!embeddings.defined() || embeddings.dim() != 2 || embeddings.size(0) != static_cast<std::int64_t>(texts.size())) {
    throw_error<invalid_argument>("write_embeddings: {} texts but embeddings of shape [{}]", texts.size(),
                                  embeddings.defined() ? fmt::format("{}", fmt::join(embeddings.sizes(), ", ")) : "");
  }
  const auto rows = embeddings.detach().to(torch::kCPU, torch::kFloat).contiguous();
  switch (format) {
    case EmbeddingFormat::npy: write_npy(out, rows); return;
    case EmbeddingFormat::safetensors: {
      // The header writer works on files: write one beside the temp directory, then stream it.
      const auto temp = std::filesystem::temp_directory_path() /
                        fmt::format("vikcse-embeddings-{:08x}.safetensors", std::random_device{}());
      save_safetensors(temp, {{"embeddings", rows}}, metadata);
      std::ifstream in(temp, std::ios::binary);
      out << in.rdbuf();
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      return;
    }
    case EmbeddingFormat::jsonl: {
      const auto* p = rows.data_ptr<float>();
      const auto d = rows.size(1);
      for (std::size_t i = 0; i < texts.size(); ++i) {
        nlohmann::json line = {{"index", i},
                               {"text", texts[i]},
                               {"embedding", std::vector<float>(p + static_cast<std::int64_t>(i) * d,
                                                                p + static_cast<std::int64_t>(i + 1) * d)}};
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      }
      return;
    }
  }
}

/// Writes `embeddings` to the file `path` atomically (temp file, then rename).
/// @throws vikcse::data_error naming the file when it cannot be written.
inline void save_embeddings(const std::filesystem::path& path, const torch::Tensor& embeddings,
                            const std::vector<std::string>& texts, EmbeddingFormat format,
                            const std::map<std::string, std::string>& metadata = {}) {
  detail::write_file_atomically<data_error>(
      path, [&](std::ofstream& out) { write_embeddings(out, embeddings, texts, format, metadata); });
}

/// What a search index records about how it was made.
struct EmbeddingIndexInfo {
  std::string model;        ///< `SentenceEncoder::identity()` of the model
  std::string description;  ///< `SentenceEncoder::description()` (for people)
  std::string corpus;       ///< content hash of the corpus lines (`corpus_hash`)
  std::int64_t rows = 0;    ///< number of corpus rows
};

/// XXH64 over the corpus lines (each with its length), as a 16-digit hex string.
inline std::string corpus_hash(const std::vector<std::string>& lines) {
  Xxh64 h;
  for (const auto& line : lines) {
    const auto size = static_cast<std::uint64_t>(line.size());
    h.update(&size, sizeof size);
    h.update(line.data(), line.size());
  }
  return fmt::format("{:016x}", h.digest());
}

/// Writes a search index: the corpus embeddings and `info`, atomically.
inline void save_embedding_index(const std::filesystem::path& path, const torch::Tensor& embeddings,
                                 const EmbeddingIndexInfo& info) {
  save_safetensors(path, {{"embeddings", embeddings.detach().to(torch::kCPU, torch::kFloat).contiguous()}},
                   {{"format", "vikcse-index-1"},
                    {"model", info.model},
                    {"description", info.description},
                    {"corpus", info.corpus},
                    {"rows", std::to_string(info.rows)}});
}

/// Loads the search index at `path` and checks that `expected` made it: the same model identity
/// and the same corpus.
/// @throws vikcse::data_error naming the file and what differs (model, corpus or shape), and
///         saying how to rebuild it.
inline torch::Tensor load_embedding_index(const std::filesystem::path& path, const EmbeddingIndexInfo& expected) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw_error<data_error>("{}: the index file does not exist (make it with --save-index)", path.string());
  }
  const auto file = SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  auto get = [&](const char* key) {
    const auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  if (get("format") != "vikcse-index-1" || !file.contains("embeddings")) {
    throw_error<data_error>("{}: not a vikcse search index (no 'vikcse-index-1' format and 'embeddings' tensor)",
                            path.string());
  }
  if (get("model") != expected.model) {
    throw_error<data_error>(
        "{}: the index was made with another model or pooler:\n  index: {}\n  now:   {}\nrebuild it with "
        "--save-index",
        path.string(), get("description"), expected.description);
  }
  if (get("corpus") != expected.corpus || get("rows") != std::to_string(expected.rows)) {
    throw_error<data_error>(
        "{}: the index was made from another corpus ({} rows, hash {}; this corpus has {} rows, hash {}); rebuild "
        "it with --save-index",
        path.string(), get("rows"), get("corpus"), expected.rows, expected.corpus);
  }
  auto t = file.load("embeddings").to(torch::kFloat);
  if (t.dim() != 2 || t.size(0) != expected.rows) {
    throw_error<data_error>("{}: 'embeddings' has shape [{}], expected [{}, D]", path.string(),
                            fmt::join(t.sizes(), ", "), expected.rows);
  }
  return t;
}

}  // namespace vikcse
