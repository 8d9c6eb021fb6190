// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file core.hpp
/// What WordPiece and byte-level BPE share: the vocabulary (token <-> id), the added tokens,
/// special-token resolution by string, and the post-processing template that frames a sequence
/// or a pair with special tokens (Hugging Face's TemplateProcessing, of which BertProcessing and
/// RobertaProcessing are instances).

#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>
#include <vikcse/tokenizer/detail/added_tokens.hpp>
#include <vikcse/tokenizer/detail/io.hpp>
#include <vikcse/tokenizer/detail/unicode.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vikcse::detail {

/// One item of a post-processing template: a special token or one of the input sequences.
struct TemplatePiece {
  int sequence = -1;              ///< 0 = first sequence (A), 1 = second (B), -1 = special token
  std::vector<std::int64_t> ids;  ///< the special token's ids (when sequence == -1)
  std::int64_t type_id = 0;       ///< token type id given to every id of this piece
};

/// A post-processing template for single sequences and for pairs.
struct PostTemplate {
  std::vector<TemplatePiece> single;
  std::vector<TemplatePiece> pair;

  /// How many special ids the template adds.
  [[nodiscard]] std::size_t added(bool is_pair) const {
    std::size_t n = 0;
    for (const auto& p : is_pair ? pair : single) {
      if (p.sequence < 0) n += p.ids.size();
    }
    return n;
  }

  /// Frames `a` (and `b` when given) into `ids`, and their token types into `types` when given.
  void apply(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>* b, std::vector<std::int64_t>& ids,
             std::vector<std::int64_t>* types) const {
    ids.clear();
    if (types != nullptr) types->clear();
    for (const auto& p : b != nullptr ? pair : single) {
      const std::vector<std::int64_t>& src = p.sequence < 0 ? p.ids : (p.sequence == 0 ? a : *b);
      ids.insert(ids.end(), src.begin(), src.end());
      if (types != nullptr) types->insert(types->end(), src.size(), p.type_id);
    }
  }
};

/// Vocabulary, added tokens, special tokens and template of a tokenizer.
class TokenizerCore {
public:
  TokenIdMap vocab;                      ///< the model's vocabulary
  std::vector<std::string> id_to_token;  ///< inverse of vocab, then of the added tokens
  std::vector<AddedToken> added;         ///< tokens matched before the model runs
  PostTemplate post;                     ///< framing with special tokens
  SpecialTokens special;                 ///< resolved ids

  /// Fills id_to_token from vocab; throws on duplicate or negative ids.
  void index_vocab(std::string_view source) {
    std::int64_t max_id = -1;
    for (const auto& [tok, id] : vocab) {
      if (id < 0) throw_error<tokenizer_error>("{}: token '{}' has a negative id {}", source, tok, id);
      max_id = std::max(max_id, id);
    }
    id_to_token.assign(static_cast<std::size_t>(max_id + 1), std::string());
    std::vector<bool> seen(id_to_token.size(), false);
    for (const auto& [tok, id] : vocab) {
      const auto i = static_cast<std::size_t>(id);
      if (seen[i]) {
        throw_error<tokenizer_error>("{}: id {} is given to both '{}' and '{}'", source, id, id_to_token[i], tok);
      }
      seen[i] = true;
      id_to_token[i] = tok;
    }
  }

  /// Registers an added token. Its id is the vocabulary's id for the same string when there is
  /// one, else `id` when given (tokenizer.json), else the next free id.
  void add_token(AddedToken token, std::optional<std::int64_t> id = std::nullopt) {
    if (token.content.empty()) throw_error<tokenizer_error>("an added token cannot be empty");
    for (const auto& t : added) {
      if (t.content == token.content) return;
    }
    if (id) {
      token.id = *id;
    } else if (auto it = vocab.find(token.content); it != vocab.end()) {
      token.id = it->second;
    } else {
      token.id = static_cast<std::int64_t>(id_to_token.size());
    }
    if (token.id < 0) throw_error<tokenizer_error>("added token '{}' has a negative id {}", token.content, token.id);
    const auto i = static_cast<std::size_t>(token.id);
    if (i >= id_to_token.size()) id_to_token.resize(i + 1);
    if (id_to_token[i].empty()) id_to_token[i] = token.content;
    token.content32 = unicode::to_u32(token.content);
    added_by_id_[token.id] = added.size();
    added.push_back(std::move(token));
  }

  /// The id of a token string (added tokens first, then the vocabulary), if any.
  [[nodiscard]] std::optional<std::int64_t> token_to_id(std::string_view token) const {
    for (const auto& t : added) {
      if (t.content == token) return t.id;
    }
    if (auto it = vocab.find(token); it != vocab.end()) return it->second;
    return std::nullopt;
  }

  /// The string of an id; throws tokenizer_error for an id outside the vocabulary.
  [[nodiscard]] const std::string& id_to_token_checked(std::int64_t id) const {
    if (id < 0 || static_cast<std::size_t>(id) >= id_to_token.size() ||
        (id_to_token[static_cast<std::size_t>(id)].empty() && !added_by_id_.contains(id))) {
      throw_error<tokenizer_error>("token id {} is not in the vocabulary (size {})", id, id_to_token.size());
    }
    return id_to_token[static_cast<std::size_t>(id)];
  }

  /// True when `id` is an added token marked special.
  [[nodiscard]] bool is_special(std::int64_t id) const {
    auto it = added_by_id_.find(id);
    return it != added_by_id_.end() && added[it->second].special;
  }

  /// Vocabulary size including added tokens that are not in the vocabulary.
  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(id_to_token.size()); }

  /// Resolves the special-token ids from their strings (-1 where the vocabulary lacks one).
  void resolve_special(std::string cls, std::string sep, std::string pad, std::string mask, std::string unk) {
    auto id_of = [&](const std::string& s) -> std::int64_t {
      if (s.empty()) return -1;
      return token_to_id(s).value_or(-1);
    };
    special.cls_token = std::move(cls);
    special.sep_token = std::move(sep);
    special.pad_token = std::move(pad);
    special.mask_token = std::move(mask);
    special.unk_token = std::move(unk);
    special.cls = id_of(special.cls_token);
    special.sep = id_of(special.sep_token);
    special.pad = id_of(special.pad_token);
    special.mask = id_of(special.mask_token);
    special.unk = id_of(special.unk_token);
  }

  /// Reads tokenizer.json's "added_tokens".
  void read_added_tokens(const nlohmann::json& tokenizer_json, std::string_view source) {
    if (!tokenizer_json.contains("added_tokens") || tokenizer_json["added_tokens"].is_null()) return;
    for (const auto& t : tokenizer_json["added_tokens"]) {
      AddedToken a;
      try {
        a.content = t.at("content").get<std::string>();
        a.special = t.value("special", false);
        a.single_word = t.value("single_word", false);
        a.lstrip = t.value("lstrip", false);
        a.rstrip = t.value("rstrip", false);
        a.normalized = t.value("normalized", !a.special);
        add_token(std::move(a),
                  json_as<std::int64_t, tokenizer_error>(t.at("id"), fmt::format("{}: added_tokens id", source)));
      } catch (const nlohmann::json::exception& e) {
        throw_error<tokenizer_error>("{}: malformed entry in 'added_tokens': {}", source, e.what());
      }
    }
  }

  /// Builds the template of BERT ([CLS] A [SEP] / [CLS] A [SEP] B [SEP], types 0 then 1) or of
  /// RoBERTa (<s> A </s> / <s> A </s> </s> B </s>, all types 0).
  void set_bert_template(std::int64_t cls, std::int64_t sep) {
    post.single = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}};
    post.pair = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}, {1, {}, 1}, {-1, {sep}, 1}};
  }
  void set_roberta_template(std::int64_t cls, std::int64_t sep) {
    post.single = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}};
    post.pair = {{-1, {cls}, 0}, {0, {}, 0}, {-1, {sep}, 0}, {-1, {sep}, 0}, {1, {}, 0}, {-1, {sep}, 0}};
  }

  /// Reads tokenizer.json's "post_processor" (TemplateProcessing, BertProcessing,
  /// RobertaProcessing or null). Returns false for null (no framing).
  bool read_post_processor(const nlohmann::json& pp, std::string_view source) {
    if (pp.is_null()) {
      post.single = {{0, {}, 0}};
      post.pair = {{0, {}, 0}, {1, {}, 1}};
      return false;
    }
    try {
      const auto type = pp.at("type").get<std::string>();
      auto special_id = [&](const nlohmann::json& pair) {
        return json_as<std::int64_t, tokenizer_error>(pair.at(1), fmt::format("{}: post_processor id", source));
      };
      if (type == "BertProcessing") {
        set_bert_template(special_id(pp.at("cls")), special_id(pp.at("sep")));
      } else if (type == "RobertaProcessing") {
        set_roberta_template(special_id(pp.at("cls")), special_id(pp.at("sep")));
      } else if (type == "TemplateProcessing") {
        auto read = [&](const nlohmann::json& items) {
          std::vector<TemplatePiece> out;
          for (const auto& item : items) {
            TemplatePiece p;
            if (item.contains("Sequence")) {
              const auto& s = item["Sequence"];
              p.sequence = s.at("id").get<std::string>() == "A" ? 0 : 1;
              p.type_id =
                  json_value_or<int, tokenizer_error>(s, "type_id", 0, fmt::format("{}: post_processor", source));
            } else {
              const auto& s = item.at("SpecialToken");
              const auto name = s.at("id").get<std::string>();
              p.type_id =
                  json_value_or<int, tokenizer_error>(s, "type_id", 0, fmt::format("{}: post_processor", source));
              const auto& table = pp.at("special_tokens");
              if (!table.contains(name)) {
                throw_error<tokenizer_error>("{}: post_processor uses special token '{}' that it does not define",
                                             source, name);
              }
              p.ids = json_as<std::vector<std::int64_t>, tokenizer_error>(
                  table[name].at("ids"), fmt::format("{}: post_processor special token '{}' ids", source, name));
            }
            out.push_back(std::move(p));
          }
          return out;
        };
        post.single = read(pp.at("single"));
        post.pair = read(pp.at("pair"));
      } else {
        throw_error<tokenizer_error>(
            "{}: post_processor type '{}' is not supported (expected TemplateProcessing, "
            "BertProcessing or RobertaProcessing)",
            source, type);
      }
    } catch (const nlohmann::json::exception& e) {
      throw_error<tokenizer_error>("{}: malformed 'post_processor': {}", source, e.what());
    }
    return true;
  }

private:
  std::unordered_map<std::int64_t, std::size_t> added_by_id_;
};

/// A token string from tokenizer_config.json, which writes either "[CLS]" or
/// {"content": "[CLS]", ...}; `fallback` when the key is absent or null.
inline std::string config_token(const nlohmann::json& config, const char* key, std::string fallback) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null()) return fallback;
  const auto& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return fallback;
}

/// Truncates a pair to `budget` ids with Hugging Face's LongestFirst rule: with n1 the shorter
/// length, the longer side keeps max(n1, budget - n1) (all of n1 when n1 > budget); when that
/// still overflows, the shorter keeps budget / 2 and the longer budget / 2 + budget % 2.
inline void truncate_longest_first(std::vector<std::int64_t>& a, std::vector<std::int64_t>& b, std::size_t budget) {
  if (a.size() + b.size() <= budget) return;
  const bool swap = a.size() > b.size();
  std::size_t n1 = swap ? b.size() : a.size();
  std::size_t n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = budget / 2;
    n2 = n1 + budget % 2;
  }
  if (swap) std::swap(n1, n2);
  a.resize(std::min(a.size(), n1));
  b.resize(std::min(b.size(), n2));
}

}  // namespace vikcse::detail
