// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file auto_tokenizer.hpp
/// A tokenizer chosen at run time from the files of a directory, like Hugging Face's
/// AutoTokenizer.from_pretrained for local directories.

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/detail/io.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vikcse {

/// Which tokenizer an AutoTokenizer holds.
enum class TokenizerKind { wordpiece, byte_level_bpe };

/// Either tokenizer, with the same interface as each.
class AutoTokenizer {
public:
  AutoTokenizer(WordPieceTokenizer tok) : impl_(std::move(tok)) {}     // NOLINT(implicit)
  AutoTokenizer(ByteLevelBpeTokenizer tok) : impl_(std::move(tok)) {}  // NOLINT(implicit)

  /// Loads `dir`, choosing by the files present:
  ///  - `tokenizer.json`: its model type, WordPiece or BPE (byte-level);
  ///  - else `vocab.txt`: WordPiece (settings from tokenizer_config.json);
  ///  - else `vocab.json` + `merges.txt`: byte-level BPE (settings from tokenizer_config.json).
  static AutoTokenizer from_directory(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir)) {
      throw_error<tokenizer_error>("tokenizer directory '{}' does not exist", dir.string());
    }
    if (std::filesystem::exists(dir / "tokenizer.json")) {
      const auto j = detail::read_json_file(dir / "tokenizer.json");
      std::string type;
      if (j.is_object() && j.contains("model") && j["model"].is_object()) {
        type = j["model"].value("type", std::string());
        if (type.empty()) type = j["model"].contains("merges") ? "BPE" : "WordPiece";
      }
      if (type == "WordPiece") return WordPieceTokenizer::from_tokenizer_json(dir / "tokenizer.json");
      if (type == "BPE") return ByteLevelBpeTokenizer::from_tokenizer_json(dir / "tokenizer.json");
      throw_error<tokenizer_error>("'{}': model type '{}' is not supported (expected WordPiece or BPE)",
                                   (dir / "tokenizer.json").string(), type);
    }
    if (std::filesystem::exists(dir / "vocab.txt")) return WordPieceTokenizer::from_directory(dir);
    if (std::filesystem::exists(dir / "vocab.json") && std::filesystem::exists(dir / "merges.txt")) {
      return ByteLevelBpeTokenizer::from_directory(dir);
    }
    throw_error<tokenizer_error>(
        "'{}' holds no tokenizer: expected tokenizer.json, vocab.txt, or vocab.json + merges.txt", dir.string());
  }

  [[nodiscard]] TokenizerKind kind() const {
    return std::holds_alternative<WordPieceTokenizer>(impl_) ? TokenizerKind::wordpiece : TokenizerKind::byte_level_bpe;
  }
  [[nodiscard]] std::vector<std::int64_t> encode(std::string_view text, bool add_special_tokens = true) const {
    return std::visit([&](const auto& t) { return t.encode(text, add_special_tokens); }, impl_);
  }
  void encode_into(std::string_view text, std::vector<std::int64_t>& ids,
                   std::size_t limit = static_cast<std::size_t>(-1)) const {
    std::visit([&](const auto& t) { t.encode_into(text, ids, limit); }, impl_);
  }
  [[nodiscard]] std::vector<std::int64_t> encode_pair(std::string_view a, std::string_view b,
                                                      std::vector<std::int64_t>* token_type_ids = nullptr) const {
    return std::visit([&](const auto& t) { return t.encode_pair(a, b, token_type_ids); }, impl_);
  }
  [[nodiscard]] std::vector<std::int64_t> frame(const std::vector<std::int64_t>& a,
                                                const std::vector<std::int64_t>* b = nullptr,
                                                std::vector<std::int64_t>* token_type_ids = nullptr) const {
    return std::visit([&](const auto& t) { return t.frame(a, b, token_type_ids); }, impl_);
  }
  [[nodiscard]] std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = false) const {
    return std::visit([&](const auto& t) { return t.decode(ids, skip_special_tokens); }, impl_);
  }
  [[nodiscard]] std::optional<std::int64_t> token_to_id(std::string_view token) const {
    return std::visit([&](const auto& t) { return t.token_to_id(token); }, impl_);
  }
  [[nodiscard]] const std::string& id_to_token(std::int64_t id) const {
    return std::visit([&](const auto& t) -> const std::string& { return t.id_to_token(id); }, impl_);
  }
  [[nodiscard]] std::int64_t vocab_size() const {
    return std::visit([](const auto& t) { return t.vocab_size(); }, impl_);
  }
  [[nodiscard]] const SpecialTokens& special_tokens() const {
    return std::visit([](const auto& t) -> const SpecialTokens& { return t.special_tokens(); }, impl_);
  }
  [[nodiscard]] std::size_t num_special_tokens(bool pair = false) const {
    return std::visit([&](const auto& t) { return t.num_special_tokens(pair); }, impl_);
  }
  void save(const std::filesystem::path& dir) const {
    std::visit([&](const auto& t) { t.save(dir); }, impl_);
  }

  /// The WordPiece tokenizer, or nullptr.
  [[nodiscard]] const WordPieceTokenizer* wordpiece() const { return std::get_if<WordPieceTokenizer>(&impl_); }
  /// The byte-level BPE tokenizer, or nullptr.
  [[nodiscard]] const ByteLevelBpeTokenizer* byte_level_bpe() const {
    return std::get_if<ByteLevelBpeTokenizer>(&impl_);
  }

private:
  std::variant<WordPieceTokenizer, ByteLevelBpeTokenizer> impl_;
};

/// Loads the tokenizer of a directory (see AutoTokenizer::from_directory).
///
/// Example: `auto tok = vikcse::load_tokenizer("checkpoints/bert-base-uncased");`
inline AutoTokenizer load_tokenizer(const std::filesystem::path& dir) { return AutoTokenizer::from_directory(dir); }

}  // namespace vikcse
