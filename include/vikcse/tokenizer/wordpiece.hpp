// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file wordpiece.hpp
/// BERT's tokenizer: Hugging Face's BertNormalizer + BertPreTokenizer + WordPiece model +
/// BERT framing, id for id.
///
/// Pipeline of `encode`, in Hugging Face's order:
///  1. UTF-8 is decoded, each ill-formed byte sequence becoming U+FFFD (detail::unicode::decode_utf8).
///  2. Added tokens ([CLS], [SEP], [PAD], [MASK], [UNK], and any in tokenizer.json) are split
///     out of the raw text (leftmost-longest; never split, never normalized).
///  3. Normalizer, on each remaining piece: clean_text drops NUL, U+FFFD and control characters
///     (Cc, Cf, Co, Cs; tab, LF and CR count as whitespace) and turns every White_Space character
///     into ' '; CJK ideographs get a space on each side; strip_accents (default: = lowercase)
///     applies NFD and drops Mn marks; lowercase applies the full lower-case mapping.
///  4. Pre-tokenizer: split on whitespace; every punctuation character (ASCII punctuation or a
///     P* category) is a word of its own.
///  5. WordPiece: greedy longest-match-first with the `##` prefix for continuations; a word
///     longer than max_input_chars_per_word (100) characters, or one with no full cover, is a
///     single [UNK].
///  6. Framing: [CLS] A [SEP], pairs [CLS] A [SEP] B [SEP] with token types 0 then 1.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>
#include <vikcse/tokenizer/detail/added_tokens.hpp>
#include <vikcse/tokenizer/detail/core.hpp>
#include <vikcse/tokenizer/detail/io.hpp>
#include <vikcse/tokenizer/detail/tokenizer_base.hpp>
#include <vikcse/tokenizer/detail/unicode.hpp>
#include <vikcse/tokenizer/special_tokens.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vikcse {

/// Settings of a WordPiece (BERT) tokenizer; the defaults are bert-base-uncased's.
///
/// Example: `WordPieceOptions cased; cased.lowercase = false;` (bert-base-cased)
struct WordPieceOptions {
  bool lowercase = true;              ///< `do_lower_case`
  std::optional<bool> strip_accents;  ///< NFD + drop Mn; default (nullopt): same as lowercase
  bool clean_text = true;             ///< drop control characters, normalise whitespace
  bool handle_chinese_chars = true;   ///< `tokenize_chinese_chars`
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
  bool decode_cleanup = true;  ///< decode: remove spaces before . , ! ? etc.
};

/// BERT's WordPiece tokenizer, identical to Hugging Face's `BertTokenizerFast`.
///
/// Example:
/// @code
///   auto tok = vikcse::WordPieceTokenizer::from_directory("bert-base-uncased");
///   std::vector<std::int64_t> ids = tok.encode("Hello, world!");  // 101 7592 1010 2088 999 102
/// @endcode
class WordPieceTokenizer : public detail::TokenizerBase<WordPieceTokenizer> {
public:
  /// A tokenizer over `vocab` (line i = token of id i, as in vocab.txt).
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options = {}) : options_(std::move(options)) {
    for (std::size_t i = 0; i < vocab.size(); ++i) {
      core_.vocab.insert_or_assign(vocab[i], static_cast<std::int64_t>(i));  // HF: a repeated token keeps its last id
    }
    core_.id_to_token = std::move(vocab);
    for (const auto* s :
         {&options_.pad_token, &options_.unk_token, &options_.cls_token, &options_.sep_token, &options_.mask_token}) {
      if (!s->empty() && core_.vocab.contains(*s)) core_.add_token({*s, {}, -1, true, false, false, false, false});
    }
    finish_setup("vocabulary", /*template_from_json=*/false);
  }

  /// Loads `vocab.txt` (one token per line, id = line number, trailing whitespace dropped as
  /// Hugging Face does).
  static WordPieceTokenizer from_vocab_file(const std::filesystem::path& vocab_txt, WordPieceOptions options = {}) {
    const std::string bytes = detail::read_file_bytes(vocab_txt);
    std::vector<std::string> vocab;
    for (auto line : detail::split_lines(bytes)) {
      std::u32string chars = detail::unicode::to_u32(line);
      while (!chars.empty() && detail::unicode::is_white_space(chars.back())) chars.pop_back();
      vocab.push_back(detail::unicode::to_utf8(chars));
    }
    if (vocab.empty()) throw_error<tokenizer_error>("'{}' holds no token", vocab_txt.string());
    return WordPieceTokenizer(std::move(vocab), std::move(options));
  }

  /// Loads a Hugging Face `tokenizer.json` whose model is WordPiece.
  static WordPieceTokenizer from_tokenizer_json(const std::filesystem::path& path) {
    const auto j = detail::read_json_file(path);
    const std::string src = path.string();
    WordPieceTokenizer tok;
    try {
      const auto& model = j.at("model");
      if (model.value("type", std::string("WordPiece")) != "WordPiece") {
        throw_error<tokenizer_error>("{}: model type is '{}', expected 'WordPiece'", src, model.value("type", ""));
      }
      tok.core_.vocab = detail::read_token_ids(model.at("vocab"), src);
      tok.options_.unk_token = model.value("unk_token", std::string("[UNK]"));
      tok.options_.continuing_subword_prefix = model.value("continuing_subword_prefix", std::string("##"));
      tok.options_.max_input_chars_per_word = detail::json_value_or<std::size_t, tokenizer_error>(
          model, "max_input_chars_per_word", std::size_t{100}, src + ": model");
      const auto& norm = j.contains("normalizer") ? j["normalizer"] : nlohmann::json();
      if (norm.is_null()) {
        tok.options_.lowercase = false;
        tok.options_.strip_accents = false;
        tok.options_.clean_text = false;
        tok.options_.handle_chinese_chars = false;
      } else if (norm.at("type").get<std::string>() == "BertNormalizer") {
        tok.options_.clean_text = norm.value("clean_text", true);
        tok.options_.handle_chinese_chars = norm.value("handle_chinese_chars", true);
        tok.options_.lowercase = norm.value("lowercase", true);
        if (norm.contains("strip_accents") && !norm["strip_accents"].is_null()) {
          tok.options_.strip_accents = norm["strip_accents"].get<bool>();
        }
      } else {
        throw_error<tokenizer_error>(
            "{}: normalizer '{}' is not supported by WordPieceTokenizer (expected "
            "BertNormalizer or null)",
            src, norm.at("type").get<std::string>());
      }
      if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null() &&
          j["pre_tokenizer"].at("type").get<std::string>() != "BertPreTokenizer") {
        throw_error<tokenizer_error>(
            "{}: pre_tokenizer '{}' is not supported by WordPieceTokenizer (expected "
            "BertPreTokenizer)",
            src, j["pre_tokenizer"]["type"].get<std::string>());
      }
      if (j.contains("decoder") && j["decoder"].is_object()) {
        tok.options_.decode_cleanup = j["decoder"].value("cleanup", true);
      }
    } catch (const nlohmann::json::exception& e) {
      throw_error<tokenizer_error>("{}: malformed WordPiece tokenizer.json: {}", src, e.what());
    }
    tok.core_.index_vocab(src);
    tok.core_.read_added_tokens(j, src);
    tok.core_.read_post_processor(j.contains("post_processor") ? j["post_processor"] : nlohmann::json(), src);
    // Special-token strings: tokenizer_config.json beside the file, else BERT's.
    const auto cfg_path = path.parent_path() / "tokenizer_config.json";
    if (std::filesystem::exists(cfg_path)) tok.read_token_names(detail::read_json_file(cfg_path));
    tok.finish_setup(src, /*template_from_json=*/true);
    return tok;
  }

  /// Loads a directory: `tokenizer.json` when present, else `vocab.txt` with the settings of
  /// `tokenizer_config.json` (do_lower_case, strip_accents, tokenize_chinese_chars, token names).
  static WordPieceTokenizer from_directory(const std::filesystem::path& dir) {
    if (std::filesystem::exists(dir / "tokenizer.json")) return from_tokenizer_json(dir / "tokenizer.json");
    if (!std::filesystem::exists(dir / "vocab.txt")) {
      throw_error<tokenizer_error>("'{}' has neither tokenizer.json nor vocab.txt", dir.string());
    }
    WordPieceOptions options;
    const auto cfg_path = dir / "tokenizer_config.json";
    if (std::filesystem::exists(cfg_path)) options = options_from_config(detail::read_json_file(cfg_path));
    return from_vocab_file(dir / "vocab.txt", std::move(options));
  }

  /// Settings read from a `tokenizer_config.json` object.
  static WordPieceOptions options_from_config(const nlohmann::json& cfg) {
    WordPieceOptions o;
    if (!cfg.is_object()) return o;
    if (cfg.contains("do_lower_case") && cfg["do_lower_case"].is_boolean())
      o.lowercase = cfg["do_lower_case"].get<bool>();
    if (cfg.contains("strip_accents") && cfg["strip_accents"].is_boolean())
      o.strip_accents = cfg["strip_accents"].get<bool>();
    if (cfg.contains("tokenize_chinese_chars") && cfg["tokenize_chinese_chars"].is_boolean()) {
      o.handle_chinese_chars = cfg["tokenize_chinese_chars"].get<bool>();
    }
    o.unk_token = detail::config_token(cfg, "unk_token", o.unk_token);
    o.cls_token = detail::config_token(cfg, "cls_token", o.cls_token);
    o.sep_token = detail::config_token(cfg, "sep_token", o.sep_token);
    o.pad_token = detail::config_token(cfg, "pad_token", o.pad_token);
    o.mask_token = detail::config_token(cfg, "mask_token", o.mask_token);
    return o;
  }

  /// The words BERT's normalizer and pre-tokenizer make of `text` (UTF-8, before WordPiece);
  /// added tokens found in the text are returned as they are.
  [[nodiscard]] std::vector<std::string> pre_tokenize(std::string_view text) const {
    std::u32string chars;
    detail::unicode::decode_utf8(text, chars);
    std::vector<detail::Segment> segments;
    detail::split_on_added_tokens(chars, core_.added, /*normalized=*/false, segments);
    std::vector<std::string> words;
    std::u32string normalized;
    for (const auto& seg : segments) {
      if (seg.token_id >= 0) {
        words.push_back(core_.id_to_token[static_cast<std::size_t>(seg.token_id)]);
        continue;
      }
      normalize(std::u32string_view(chars).substr(seg.begin, seg.end - seg.begin), normalized);
      for_each_word(normalized, [&](std::u32string_view w) { words.push_back(detail::unicode::to_utf8(w)); });
    }
    return words;
  }

  /// Text of `ids` as Hugging Face's WordPiece decoder writes it: "##" pieces glued to the
  /// previous token, other tokens separated by a space, and (decode_cleanup) the spaces before
  /// . ? ! , and in "n't", "'s", ... removed.
  /// Special tokens are kept unless `skip_special_tokens` (as transformers' decode).
  [[nodiscard]] std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = false) const {
    std::string out;
    bool first = true;
    const std::string& prefix = options_.continuing_subword_prefix;
    std::string piece;
    for (auto id : ids) {
      if (skip_special_tokens && core_.is_special(id)) continue;
      const std::string& tok = core_.id_to_token_checked(id);
      piece.clear();
      if (!first && !prefix.empty() && tok.starts_with(prefix)) {
        piece.append(tok, prefix.size());
      } else {
        if (!first) piece.push_back(' ');
        piece += tok;
      }
      first = false;
      if (options_.decode_cleanup) cleanup(piece);
      out += piece;
    }
    return out;
  }

  /// The settings in force.
  [[nodiscard]] const WordPieceOptions& options() const { return options_; }
  /// Writes `vocab.txt`, `tokenizer_config.json` and `special_tokens_map.json` into `dir`
  /// (created if needed), each atomically; Hugging Face's BertTokenizer(Fast) loads the result.
  void save(const std::filesystem::path& dir) const {
    detail::ensure_directory(dir);
    std::string vocab;
    for (const auto& t : core_.id_to_token) {
      if (t.find('\n') != std::string::npos)
        throw_error<tokenizer_error>("token '{}' contains a newline; vocab.txt cannot hold it", t);
      vocab += t;
      vocab += '\n';
    }
    detail::write_text_atomically<tokenizer_error>(dir / "vocab.txt", vocab);
    nlohmann::json cfg = {{"tokenizer_class", "BertTokenizer"},
                          {"do_lower_case", options_.lowercase},
                          {"tokenize_chinese_chars", options_.handle_chinese_chars},
                          {"unk_token", options_.unk_token},
                          {"cls_token", options_.cls_token},
                          {"sep_token", options_.sep_token},
                          {"pad_token", options_.pad_token},
                          {"mask_token", options_.mask_token}};
    cfg["strip_accents"] = options_.strip_accents ? nlohmann::json(*options_.strip_accents) : nlohmann::json(nullptr);
    detail::write_text_atomically<tokenizer_error>(dir / "tokenizer_config.json", cfg.dump(2) + "\n");
    nlohmann::json map = {{"unk_token", options_.unk_token},
                          {"cls_token", options_.cls_token},
                          {"sep_token", options_.sep_token},
                          {"pad_token", options_.pad_token},
                          {"mask_token", options_.mask_token}};
    detail::write_text_atomically<tokenizer_error>(dir / "special_tokens_map.json", map.dump(2) + "\n");
  }

private:
  friend class detail::TokenizerBase<WordPieceTokenizer>;

  WordPieceTokenizer() = default;

  /// Normalizer, pre-tokenizer and WordPiece on a piece of text between added tokens.
  void encode_text(std::u32string_view piece, std::vector<std::int64_t>& ids, std::size_t limit) const {
    std::u32string normalized;
    normalize(piece, normalized);
    std::string word;
    encode_normalized(normalized, ids, limit, [&](std::u32string_view part) {
      for_each_word(part, [&](std::u32string_view w) {
        wordpiece(w, word, ids);
        return ids.size() < limit;
      });
    });
  }

  void read_token_names(const nlohmann::json& cfg) {
    options_.cls_token = detail::config_token(cfg, "cls_token", options_.cls_token);
    options_.sep_token = detail::config_token(cfg, "sep_token", options_.sep_token);
    options_.pad_token = detail::config_token(cfg, "pad_token", options_.pad_token);
    options_.mask_token = detail::config_token(cfg, "mask_token", options_.mask_token);
  }

  void finish_setup(std::string_view source, bool template_from_json) {
    core_.resolve_special(options_.cls_token, options_.sep_token, options_.pad_token, options_.mask_token,
                          options_.unk_token);
    if (!template_from_json) {
      if (core_.special.cls < 0 || core_.special.sep < 0) {
        throw_error<tokenizer_error>("{}: the vocabulary lacks '{}' or '{}', which BERT framing needs", source,
                                     options_.cls_token, options_.sep_token);
      }
      core_.set_bert_template(core_.special.cls, core_.special.sep);
    }
    unk_id_ = core_.vocab.contains(options_.unk_token) ? core_.vocab.at(options_.unk_token) : -1;
    continuation_.clear();
    const std::string& prefix = options_.continuing_subword_prefix;
    for (const auto& [tok, id] : core_.vocab) {
      if (!prefix.empty() && tok.size() > prefix.size() && tok.starts_with(prefix)) {
        continuation_.emplace(tok.substr(prefix.size()), id);
      } else if (prefix.empty()) {
        continuation_.emplace(tok, id);
      }
    }
    strip_accents_ = options_.strip_accents.value_or(options_.lowercase);
  }

  /// BertNormalizer on one piece of text.
  void normalize(std::u32string_view in, std::u32string& out) const {
    namespace u = detail::unicode;
    out.clear();
    out.reserve(in.size() + 8);
    for (char32_t c : in) {
      if (options_.clean_text) {
        if (c == 0 || c == u::replacement_character || u::is_bert_control(c)) continue;
        if (u::is_white_space(c)) c = ' ';
      }
      if (options_.handle_chinese_chars && c >= 0x3400 && u::is_chinese_char(c)) {
        out.push_back(' ');
        out.push_back(c);
        out.push_back(' ');
      } else {
        out.push_back(c);
      }
    }
    if (strip_accents_) {
      u::nfd(out);
      std::size_t w = 0;
      for (char32_t c : out) {
        if (!u::is_mark_nonspacing(c)) out[w++] = c;
      }
      out.resize(w);
    }
    if (options_.lowercase) {
      bool simple = true;
      for (char32_t& c : out) {
        if (c < 0x80) {
          if (c >= 'A' && c <= 'Z') c += 32;
        } else if (c == 0x130) {
          simple = false;
        } else {
          c = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
        }
      }
      if (!simple) {  // U+0130 lower-cases to two code points
        std::u32string lowered;
        lowered.reserve(out.size() + 4);
        for (char32_t c : out) u::append_lowercase(lowered, c);
        out = std::move(lowered);
      }
    }
  }

  /// BertPreTokenizer: calls `f(word)` for each whitespace-separated run, every punctuation
  /// character being a word of its own; stops early when `f` returns false.
  template <typename F>
  static void for_each_word(std::u32string_view text, F&& f) {
    namespace u = detail::unicode;
    auto emit = [&](std::size_t b, std::size_t e) -> bool {
      if (e <= b) return true;
      if constexpr (std::is_same_v<decltype(f(text)), bool>) {
        return f(text.substr(b, e - b));
      } else {
        f(text.substr(b, e - b));
        return true;
      }
    };
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char32_t c = text[i];
      if (u::is_white_space(c)) {
        if (!emit(start, i)) return;
        start = i + 1;
      } else if (u::is_bert_punctuation(c)) {
        if (!emit(start, i) || !emit(i, i + 1)) return;
        start = i + 1;
      }
    }
    emit(start, text.size());
  }

  /// Greedy longest-match-first WordPiece on one word.
  void wordpiece(std::u32string_view chars, std::string& word, std::vector<std::int64_t>& ids) const {
    if (chars.size() > options_.max_input_chars_per_word) {
      push_unk(ids);
      return;
    }
    word.clear();
    for (char32_t c : chars) detail::unicode::append_utf8(word, c);
    if (auto it = core_.vocab.find(word); it != core_.vocab.end()) {  // whole word: the common case
      ids.push_back(it->second);
      return;
    }
    const std::size_t first_new = ids.size();
    std::size_t start = 0;
    const std::string_view w(word);
    while (start < w.size()) {
      std::size_t end = w.size();
      std::int64_t found = -1;
      while (start < end) {
        const std::string_view sub = w.substr(start, end - start);
        const auto& map = start == 0 ? core_.vocab : continuation_;
        if (auto it = map.find(sub); it != map.end()) {
          found = it->second;
          break;
        }
        do {  // step back one UTF-8 character
          --end;
        } while (end > start && (static_cast<unsigned char>(w[end]) & 0xC0) == 0x80);
      }
      if (found < 0) {
        ids.resize(first_new);
        push_unk(ids);
        return;
      }
      ids.push_back(found);
      start = end;
    }
  }

  void push_unk(std::vector<std::int64_t>& ids) const {
    if (unk_id_ < 0)
      throw_error<tokenizer_error>("a word needs '{}', which is not in the vocabulary", options_.unk_token);
    ids.push_back(unk_id_);
  }

  static void cleanup(std::string& s) {
    static constexpr std::pair<std::string_view, std::string_view> rules[] = {
        {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : rules) {
      std::size_t pos = 0;
      while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
      }
    }
  }

  WordPieceOptions options_;
  detail::TokenIdMap continuation_;  ///< "##x" tokens keyed by "x"
  std::int64_t unk_id_ = -1;
  bool strip_accents_ = true;
};

}  // namespace vikcse
