// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedding_cache.hpp
/// On-disk cache of embeddings keyed by model + pooler + dataset + a hash of the exact sentences.
/// File layout (`<dir>/<dataset>-<hash>.emb`): 8-byte magic `VKEMB001`, little-endian uint64 length
/// of a JSON header, the header (`model`, `pooler`, `dataset`, `sentences_hash`, `rows`, `dim`,
/// `dtype` = "float32", `byte_order` = "little"), then rows x dim float32 values. Writes are atomic.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace vikcse {

/// What identifies a set of cached embeddings.
struct EmbeddingCacheKey {
  std::string model;    ///< model identity (checkpoint path, name or hash)
  std::string pooler;   ///< pooler identity including its options (e.g. `mask:This sentence : "[X]" means [MASK] .`)
  std::string dataset;  ///< dataset name (e.g. `STS12`)
};

namespace detail::eval {

inline std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// 64-bit FNV-1a over length-prefixed strings (so ["ab","c"] and ["a","bc"] differ).
inline std::uint64_t hash_strings(const std::vector<std::string>& parts, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (const auto& p : parts) {
    h = fnv1a(h, std::to_string(p.size()) + ":");
    h = fnv1a(h, p);
  }
  return h;
}

inline constexpr char cache_magic[9] = "VKEMB001";

}  // namespace detail

/// A directory of cached embeddings.
///
/// Example:
/// ```
/// vikcse::EmbeddingCache cache("cache/");
/// if (auto hit = cache.load(key, sentences)) return *hit;
/// auto e = encode(...); cache.store(key, sentences, e);
/// ```
class EmbeddingCache {
public:
  /// A cache in `directory` (created on the first store).
  explicit EmbeddingCache(std::filesystem::path directory) : dir_(std::move(directory)) {}

  /// The file that holds (key, sentences).
  [[nodiscard]] std::filesystem::path path_for(const EmbeddingCacheKey& key, const std::vector<std::string>& sentences) const {
    std::string safe;
    for (const char c : key.dataset) safe.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
    return dir_ / fmt::format("{}-{:016x}.emb", safe, full_hash(key, sentences));
  }

  /// The cached `[sentences.size(), D]` float32 embeddings, or nullopt when not cached.
  /// @throws vikcse::data_error when the file exists but is truncated or does not match the key.
  [[nodiscard]] std::optional<torch::Tensor> load(const EmbeddingCacheKey& key, const std::vector<std::string>& sentences) const {
    const auto path = path_for(key, sentences);
    if (!std::filesystem::exists(path)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_error<data_error>("{}: cannot open embedding cache file", path.string());
    char magic[8];
    std::uint64_t header_size = 0;
    in.read(magic, 8);
    in.read(reinterpret_cast<char*>(&header_size), sizeof header_size);
    if (!in || std::string_view(magic, 8) != detail::eval::cache_magic) {
      throw_error<data_error>("{}: not an embedding cache file (expected magic '{}')", path.string(), detail::eval::cache_magic);
    }
    const auto file_size = std::filesystem::file_size(path);
    if (header_size > file_size) throw_error<data_error>("{}: header size {} exceeds file size {}", path.string(), header_size, file_size);
    std::string header_text(header_size, '\0');
    in.read(header_text.data(), static_cast<std::streamsize>(header_size));
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(header_text);
    } catch (const nlohmann::json::exception& e) {
      throw_error<data_error>("{}: malformed header JSON: {}", path.string(), e.what());
    }
    auto expect = [&](const char* field, const nlohmann::json& want) {
      if (!header.contains(field) || header[field] != want) {
        throw_error<data_error>("{}: header field '{}' expected {}, got {}", path.string(), field, want.dump(),
                                header.contains(field) ? header[field].dump() : "nothing");
      }
    };
    expect("model", key.model);
    expect("pooler", key.pooler);
    expect("dataset", key.dataset);
    expect("sentences_hash", fmt::format("{:016x}", detail::eval::hash_strings(sentences)));
    expect("rows", sentences.size());
    expect("dtype", "float32");
    expect("byte_order", "little");
    const auto dim = header.at("dim").get<std::int64_t>();
    const auto rows = static_cast<std::int64_t>(sentences.size());
    const auto data_bytes = static_cast<std::uint64_t>(rows * dim) * sizeof(float);
    const auto have = file_size - 16 - header_size;
    if (have != data_bytes) {
      throw_error<data_error>("{}: expected {} bytes of embeddings ({} x {} float32), got {}", path.string(), data_bytes,
                              rows, dim, have);
    }
    auto out = torch::empty({rows, dim}, torch::kFloat);
    in.read(reinterpret_cast<char*>(out.data_ptr<float>()), static_cast<std::streamsize>(data_bytes));
    if (!in) throw_error<data_error>("{}: reading {} bytes of embeddings failed", path.string(), data_bytes);
    return out;
  }

  /// Stores `[sentences.size(), D]` embeddings (converted to float32) for (key, sentences); returns the file.
  /// @throws vikcse::invalid_argument on a shape mismatch; vikcse::data_error when writing fails.
  std::filesystem::path store(const EmbeddingCacheKey& key, const std::vector<std::string>& sentences,
                              const torch::Tensor& embeddings) const {
    static_assert(std::endian::native == std::endian::little, "the embedding cache assumes a little-endian host");
    if (embeddings.dim() != 2 || embeddings.size(0) != static_cast<std::int64_t>(sentences.size())) {
      throw_error<invalid_argument>("embedding cache: expected [{}, D] embeddings, got {} dims", sentences.size(),
                                    embeddings.dim());
    }
    const auto data = embeddings.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const nlohmann::json header = {{"model", key.model},
                                   {"pooler", key.pooler},
                                   {"dataset", key.dataset},
                                   {"sentences_hash", fmt::format("{:016x}", detail::eval::hash_strings(sentences))},
                                   {"rows", sentences.size()},
                                   {"dim", data.size(1)},
                                   {"dtype", "float32"},
                                   {"byte_order", "little"}};
    const auto text = header.dump();
    const std::uint64_t size = text.size();
    std::filesystem::create_directories(dir_);
    const auto path = path_for(key, sentences);
    detail::write_file_atomically<data_error>(path, [&](std::ofstream& out) {
      out.write(detail::eval::cache_magic, 8);
      out.write(reinterpret_cast<const char*>(&size), sizeof size);
      out.write(text.data(), static_cast<std::streamsize>(text.size()));
      out.write(reinterpret_cast<const char*>(data.data_ptr<float>()),
                static_cast<std::streamsize>(data.numel() * sizeof(float)));
    });
    return path;
  }

  /// The cache directory.
  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }

private:
  static std::uint64_t full_hash(const EmbeddingCacheKey& key, const std::vector<std::string>& sentences) {
    return detail::eval::hash_strings(sentences, detail::eval::hash_strings({key.model, key.pooler, key.dataset}));
  }

  std::filesystem::path dir_;
};

}  // namespace vikcse
