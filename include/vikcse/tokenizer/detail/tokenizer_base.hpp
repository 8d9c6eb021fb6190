// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file tokenizer_base.hpp
/// The public interface WordPiece and byte-level BPE share (CRTP base): encoding around added
/// tokens, pairs, framing, vocabulary look-ups. A derived tokenizer supplies
/// `encode_text(piece, ids, limit)`, its normalizer + pre-tokenizer + model on a piece of text
/// between added tokens.

#include <vikcse/tokenizer/detail/added_tokens.hpp>
#include <vikcse/tokenizer/detail/core.hpp>
#include <vikcse/tokenizer/detail/unicode.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse::detail {

template <typename Derived>
class TokenizerBase {
public:
  /// Token ids of `text` (raw bytes; invalid UTF-8 becomes U+FFFD), framed with the special
  /// tokens ([CLS] … [SEP], <s> … </s>) when `add_special_tokens`.
  [[nodiscard]] std::vector<std::int64_t> encode(std::string_view text, bool add_special_tokens = true) const {
    std::vector<std::int64_t> ids;
    encode_into(text, ids);
    return add_special_tokens ? frame(ids) : ids;
  }

  /// Appends the ids of `text` (no special tokens) to `ids`. With a `limit`, stops after the
  /// word (pre-token) that brings `ids` to at least `limit` ids, which is what Hugging Face does
  /// before it truncates.
  void encode_into(std::string_view text, std::vector<std::int64_t>& ids,
                   std::size_t limit = static_cast<std::size_t>(-1)) const {
    std::u32string chars;
    unicode::decode_utf8(text, chars);
    std::vector<Segment> segments;
    split_on_added_tokens(chars, core_.added, /*normalized=*/false, segments);
    for (const auto& seg : segments) {
      if (ids.size() >= limit) return;
      if (seg.token_id >= 0) {
        ids.push_back(seg.token_id);
      } else {
        static_cast<const Derived&>(*this).encode_text(
            std::u32string_view(chars).substr(seg.begin, seg.end - seg.begin), ids, limit);
      }
    }
  }

  /// Ids of a pair framed by the tokenizer's template ([CLS] A [SEP] B [SEP] for BERT with token
  /// types 0 then 1; <s> A </s></s> B </s> for RoBERTa with types all 0).
  [[nodiscard]] std::vector<std::int64_t> encode_pair(std::string_view a, std::string_view b,
                                                      std::vector<std::int64_t>* token_type_ids = nullptr) const {
    std::vector<std::int64_t> ia, ib;
    encode_into(a, ia);
    encode_into(b, ib);
    return frame(ia, &ib, token_type_ids);
  }

  /// Frames already-encoded ids with the special tokens: a single sequence, or a pair when `b`
  /// is given (token types written to `token_type_ids` when given).
  [[nodiscard]] std::vector<std::int64_t> frame(const std::vector<std::int64_t>& a,
                                                const std::vector<std::int64_t>* b = nullptr,
                                                std::vector<std::int64_t>* token_type_ids = nullptr) const {
    std::vector<std::int64_t> ids;
    core_.post.apply(a, b, ids, token_type_ids);
    return ids;
  }

  /// The id of a token string (added tokens first, then the vocabulary), if any.
  [[nodiscard]] std::optional<std::int64_t> token_to_id(std::string_view token) const {
    return core_.token_to_id(token);
  }
  /// The string of a token id; throws tokenizer_error when the id is out of range.
  [[nodiscard]] const std::string& id_to_token(std::int64_t id) const { return core_.id_to_token_checked(id); }
  /// Number of ids (vocabulary plus added tokens).
  [[nodiscard]] std::int64_t vocab_size() const { return core_.size(); }
  /// Special tokens resolved from the vocabulary by their strings.
  [[nodiscard]] const SpecialTokens& special_tokens() const { return core_.special; }
  /// How many special ids `encode` adds (2 for BERT and RoBERTa), or `encode_pair` (3, 4).
  [[nodiscard]] std::size_t num_special_tokens(bool pair = false) const { return core_.post.added(pair); }
  /// Internal tables (vocabulary, added tokens, template).
  [[nodiscard]] const TokenizerCore& core() const { return core_; }

protected:
  /// Splits the added tokens that match normalized text out of `normalized`, and calls
  /// `model(part)` on each remaining part, until `ids` holds `limit` ids.
  template <typename Model>
  void encode_normalized(std::u32string_view normalized, std::vector<std::int64_t>& ids, std::size_t limit,
                         Model&& model) const {
    std::vector<Segment> parts;
    split_on_added_tokens(normalized, core_.added, /*normalized=*/true, parts);
    for (const auto& part : parts) {
      if (ids.size() >= limit) return;
      if (part.token_id >= 0) {
        ids.push_back(part.token_id);
      } else {
        model(normalized.substr(part.begin, part.end - part.begin));
      }
    }
  }

  TokenizerCore core_;
};

}  // namespace vikcse::detail
