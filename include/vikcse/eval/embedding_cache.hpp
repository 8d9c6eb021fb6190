// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file embedding_cache.hpp
/// On-disk cache of embeddings keyed by model + pooler + dataset + a hash of the exact sentences.
/// File layout (`<dir>/<dataset>-<hash>.emb`): 8-byte magic `VKEMB001`, little-endian uint64 length
/// of a JSON header, the header (`model`, `pooler`, `dataset`, `sentences_hash`, `rows`, `dim`,
/// `dtype` = "float32", `byte_order` = "little"), then rows x dim float32 values. Writes are atomic.
///
/// The model part of the key should name the model's contents: `checkpoint_content_hash` and
/// `tokenizer_content_hash` give XXH64 hashes of the weights/config/heads files and of the tokenizer
/// files, so that a checkpoint rewritten in the same directory gets a new key.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

}  // namespace detail::eval

/// Streaming XXH64 (Yann Collet's 64-bit xxHash, as `XXH64()` of libxxhash computes it): fast, not
/// cryptographic; enough to tell file contents apart in a cache key.
class Xxh64 {
public:
  /// A hash state with `seed`.
  explicit Xxh64(std::uint64_t seed = 0) : seed_(seed) { lanes_ = {seed + p1 + p2, seed + p2, seed, seed - p1}; }

  /// Adds `size` bytes at `data`.
  void update(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += size;
    if (buffered_ + size < 32) {
      std::memcpy(buffer_.data() + buffered_, p, size);
      buffered_ += size;
      return;
    }
    if (buffered_ > 0) {
      const std::size_t fill = 32 - buffered_;
      std::memcpy(buffer_.data() + buffered_, p, fill);
      stripe(buffer_.data());
      p += fill;
      size -= fill;
      buffered_ = 0;
    }
    for (; size >= 32; p += 32, size -= 32) stripe(p);
    std::memcpy(buffer_.data(), p, size);
    buffered_ = size;
  }

  /// Adds the bytes of `text`.
  void update(std::string_view text) { update(text.data(), text.size()); }

  /// The hash of everything added so far (the state is unchanged).
  [[nodiscard]] std::uint64_t digest() const {
    std::uint64_t h = 0;
    if (total_ >= 32) {
      const auto& v = lanes_;
      h = std::rotl(v[0], 1) + std::rotl(v[1], 7) + std::rotl(v[2], 12) + std::rotl(v[3], 18);
      for (const auto lane : v) h = (h ^ round(0, lane)) * p1 + p4;
    } else {
      h = seed_ + p5;
    }
    h += total_;
    const unsigned char* p = buffer_.data();
    std::size_t left = buffered_;
    for (; left >= 8; p += 8, left -= 8) h = std::rotl(h ^ round(0, read64(p)), 27) * p1 + p4;
    if (left >= 4) {
      std::uint32_t k = 0;
      std::memcpy(&k, p, 4);
      h = std::rotl(h ^ (static_cast<std::uint64_t>(k) * p1), 23) * p2 + p3;
      p += 4;
      left -= 4;
    }
    for (; left > 0; ++p, --left) h = std::rotl(h ^ (*p * p5), 11) * p1;
    h ^= h >> 33;
    h *= p2;
    h ^= h >> 29;
    h *= p3;
    h ^= h >> 32;
    return h;
  }

  /// XXH64 of `text` with `seed`.
  static std::uint64_t of(std::string_view text, std::uint64_t seed = 0) {
    Xxh64 h(seed);
    h.update(text);
    return h.digest();
  }

private:
  static constexpr std::uint64_t p1 = 0x9E3779B185EBCA87ULL;
  static constexpr std::uint64_t p2 = 0xC2B2AE3D27D4EB4FULL;
  static constexpr std::uint64_t p3 = 0x165667B19E3779F9ULL;
  static constexpr std::uint64_t p4 = 0x85EBCA77C2B2AE63ULL;
  static constexpr std::uint64_t p5 = 0x27D4EB2F165667C5ULL;

  static std::uint64_t read64(const unsigned char* p) {
    static_assert(std::endian::native == std::endian::little, "Xxh64 reads little-endian words");
    std::uint64_t k = 0;
    std::memcpy(&k, p, 8);
    return k;
  }
  static std::uint64_t round(std::uint64_t acc, std::uint64_t input) { return std::rotl(acc + input * p2, 31) * p1; }
  void stripe(const unsigned char* p) {
    for (std::size_t i = 0; i < 4; ++i) lanes_[i] = round(lanes_[i], read64(p + 8 * i));
  }

  std::uint64_t seed_;
  std::array<std::uint64_t, 4> lanes_{};
  std::array<unsigned char, 32> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;
};

/// XXH64 of the bytes of the file at `path`.
/// @throws vikcse::data_error naming the file when it cannot be read.
inline std::uint64_t file_content_hash(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error<data_error>("{}: cannot open file to hash its contents", path.string());
  Xxh64 h;
  std::vector<char> chunk(std::size_t{1} << 20);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    h.update(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw_error<data_error>("{}: reading the file to hash its contents failed", path.string());
  return h.digest();
}

/// One XXH64 over the regular files of `dir` that `select` accepts by file name, in name order: each
/// file contributes its name, size and content hash, so renaming, resizing or rewriting a file all
/// change the result.
/// @throws vikcse::data_error when `dir` is not a directory or no file is selected (`what` names the
///         kind of files in the message, e.g. "weights").
inline std::uint64_t directory_content_hash(const std::filesystem::path& dir,
                                            const std::function<bool(const std::string&)>& select,
                                            std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw_error<data_error>("{}: not a directory (looking for {} files to hash)", dir.string(), what);
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && select(entry.path().filename().string())) files.push_back(entry.path());
  }
  if (files.empty()) throw_error<data_error>("{}: no {} files found to hash", dir.string(), what);
  std::sort(files.begin(), files.end());
  Xxh64 h;
  for (const auto& file : files) {
    h.update(fmt::format("{}:{}:{:016x};", file.filename().string(), std::filesystem::file_size(file),
                         file_content_hash(file)));
  }
  return h.digest();
}

/// Content hash of a checkpoint directory's weights: `config.json`, every `*.safetensors` (weights,
/// shards, `vikcse_heads.safetensors`), `*.safetensors.index.json` and `*.bin` file.
/// @throws vikcse::data_error when none is present.
inline std::uint64_t checkpoint_content_hash(const std::filesystem::path& dir) {
  return directory_content_hash(
      dir,
      [](const std::string& name) {
        return name == "config.json" || name.ends_with(".safetensors") || name.ends_with(".safetensors.index.json") ||
               name.ends_with(".bin");
      },
      "config/weights");
}

/// Content hash of a tokenizer directory: `tokenizer.json`, `vocab.txt`, `vocab.json`, `merges.txt`,
/// `tokenizer_config.json`, `special_tokens_map.json` and `added_tokens.json`, whichever are present.
/// @throws vikcse::data_error when none is present.
inline std::uint64_t tokenizer_content_hash(const std::filesystem::path& dir) {
  return directory_content_hash(
      dir,
      [](const std::string& name) {
        return name == "tokenizer.json" || name == "vocab.txt" || name == "vocab.json" || name == "merges.txt" ||
               name == "tokenizer_config.json" || name == "special_tokens_map.json" || name == "added_tokens.json";
      },
      "tokenizer");
}

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
  [[nodiscard]] std::filesystem::path path_for(const EmbeddingCacheKey& key,
                                               const std::vector<std::string>& sentences) const {
    std::string safe;
    for (const char c : key.dataset) safe.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_');
    return dir_ / fmt::format("{}-{:016x}.emb", safe, full_hash(key, sentences));
  }

  /// The cached `[sentences.size(), D]` float32 embeddings, or nullopt when not cached.
  /// @throws vikcse::data_error when the file exists but is truncated or does not match the key.
  [[nodiscard]] std::optional<torch::Tensor> load(const EmbeddingCacheKey& key,
                                                  const std::vector<std::string>& sentences) const {
    const auto path = path_for(key, sentences);
    if (!std::filesystem::exists(path)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_error<data_error>("{}: cannot open embedding cache file", path.string());
    char magic[8];
    std::uint64_t header_size = 0;
    in.read(magic, 8);
    in.read(reinterpret_cast<char*>(&header_size), sizeof header_size);
    if (!in || std::string_view(magic, 8) != detail::eval::cache_magic) {
      throw_error<data_error>("{}: not an embedding cache file (expected magic '{}')", path.string(),
                              detail::eval::cache_magic);
    }
    const auto file_size = std::filesystem::file_size(path);
    if (header_size > file_size)
      throw_error<data_error>("{}: header size {} exceeds file size {}", path.string(), header_size, file_size);
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
    const auto dim = detail::json_as<std::int64_t, data_error>(
        header.contains("dim") ? header["dim"] : nlohmann::json(), path.string() + ": header field 'dim'");
    if (dim <= 0)
      throw_error<data_error>("{}: header field 'dim' expected a positive integer, got {}", path.string(), dim);
    const auto rows = static_cast<std::int64_t>(sentences.size());
    const auto data_bytes = static_cast<std::uint64_t>(rows * dim) * sizeof(float);
    const auto have = file_size - 16 - header_size;
    if (have != data_bytes) {
      throw_error<data_error>("{}: expected {} bytes of embeddings ({} x {} float32), got {}", path.string(),
                              data_bytes, rows, dim, have);
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
    const nlohmann::json header = {
        {"model", key.model},       {"pooler", key.pooler},
        {"dataset", key.dataset},   {"sentences_hash", fmt::format("{:016x}", detail::eval::hash_strings(sentences))},
        {"rows", sentences.size()}, {"dim", data.size(1)},
        {"dtype", "float32"},       {"byte_order", "little"}};
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
