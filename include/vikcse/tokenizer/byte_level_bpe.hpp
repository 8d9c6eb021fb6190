// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file byte_level_bpe.hpp
/// The byte-level BPE family, identical to Hugging Face's fast tokenizers: RoBERTa's (and the
/// GPT-2 family's) `RobertaTokenizerFast` / `GPT2TokenizerFast`, and CLIP's `CLIPTokenizerFast`,
/// which is the same model with a normalizer, a pre-split and an end-of-word suffix.
///
/// Pipeline of `encode`, in Hugging Face's order:
///  1. UTF-8 is decoded, each ill-formed byte sequence becoming U+FFFD (then re-encoded, so an
///     invalid byte costs the three bytes EF BF BD, as in Hugging Face).
///  2. Added tokens matched in the raw text (<s>, </s>, <pad>, <unk>, and <mask> with lstrip:
///     " <mask>" swallows the space before it; CLIP's <|endoftext|>) are split out of the text.
///  3. The normalizer runs on each remaining piece (CLIP: NFC, each whitespace run to one ' ',
///     full lower-casing; RoBERTa: none), then added tokens matched in normalized text (CLIP's
///     <|startoftext|>) are split out.
///  4. Each piece gets a leading space when add_prefix_space is set and it does not start with
///     one. CLIP first splits it by its own pattern, dropping whitespace:
///     `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` (one digit per piece).
///     Then every piece is split by GPT-2's pattern
///     `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///  5. Each piece's bytes are mapped to printable characters (GPT-2's bytes_to_unicode); the last
///     one carries the end-of-word suffix (CLIP's `</w>`); BPE merges them, lowest merge rank
///     first, leftmost first on ties.
///  6. Framing: <s> A </s>, pairs <s> A </s></s> B </s> (token types all 0); CLIP frames with
///     <|startoftext|> and <|endoftext|> the same way.

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

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vikcse {

/// The normalizer of a byte-level BPE tokenizer: Hugging Face's NFC, `Replace(\s+, " ")` and
/// Lowercase, each on or off, run in this order (CLIP runs all three, RoBERTa none).
struct ByteLevelNormalizer {
  bool nfc = false;                  ///< canonical composition
  bool collapse_whitespace = false;  ///< each run of whitespace becomes one ' '
  bool lowercase = false;            ///< the full lower-case mapping (U+0130 gives two code points)

  [[nodiscard]] bool any() const { return nfc || collapse_whitespace || lowercase; }
  bool operator==(const ByteLevelNormalizer&) const = default;
};

/// How text is cut into words before BPE.
enum class ByteLevelSplit {
  gpt2,  ///< GPT-2's pattern alone (RoBERTa, GPT-2)
  clip,  ///< CLIP's pattern (whitespace dropped, one digit per word), then GPT-2's
};

/// Settings of a byte-level BPE tokenizer; the defaults are roberta-base's, `clip()` gives CLIP's.
struct ByteLevelBpeOptions {
  bool add_prefix_space = false;   ///< prepend ' ' to text that does not start with one
  std::string bos_token = "<s>";   ///< cls
  std::string eos_token = "</s>";  ///< sep
  std::string pad_token = "<pad>";
  std::string mask_token = "<mask>";  ///< empty: no mask token (CLIP)
  std::string unk_token = "<unk>";
  bool mask_lstrip = true;  ///< the mask token swallows the whitespace on its left
  ByteLevelNormalizer normalizer;             ///< none for RoBERTa
  ByteLevelSplit split = ByteLevelSplit::gpt2;  ///< the pre-tokenizer
  std::string end_of_word_suffix;             ///< appended to each word's last symbol ("</w>" for CLIP)

  /// openai/clip-vit-base-patch32's tokenizer: NFC, whitespace clean-up and lower-casing, CLIP's
  /// split, `</w>` word ends, <|startoftext|> A <|endoftext|>, padding and unknown symbols with
  /// <|endoftext|>, no mask token.
  [[nodiscard]] static ByteLevelBpeOptions clip() {
    ByteLevelBpeOptions o;
    o.bos_token = "<|startoftext|>";
    o.eos_token = "<|endoftext|>";
    o.pad_token = "<|endoftext|>";
    o.unk_token = "<|endoftext|>";
    o.mask_token.clear();
    o.normalizer = {true, true, true};
    o.split = ByteLevelSplit::clip;
    o.end_of_word_suffix = "</w>";
    return o;
  }
};

namespace detail {

/// GPT-2's reversible map from bytes to printable code points: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100, U+0101, ... in byte order.
inline std::array<char32_t, 256> bytes_to_unicode() {
  std::array<char32_t, 256> map{};
  char32_t next = 256;
  for (unsigned b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    map[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return map;
}

/// The length of the contraction ('s 't 're 've 'm 'll 'd, lower case, as both patterns write them) at
/// `t[i]`, or 0.
inline std::size_t contraction_length(std::u32string_view t, std::size_t i) {
  if (t[i] != '\'' || i + 1 >= t.size()) return 0;
  const char32_t c1 = t[i + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (i + 2 >= t.size()) return 0;
  const char32_t c2 = t[i + 2];
  return (c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l') ? 3 : 0;
}

/// Splits `text` into GPT-2 pre-tokens (see the file comment), calling `emit(begin, end)`.
template <typename Emit>
void gpt2_split(std::u32string_view t, Emit&& emit) {
  namespace u = unicode;
  const std::size_t n = t.size();
  enum Kind { letter, number, other, space };
  auto kind = [](char32_t c) {
    if (u::is_letter(c)) return letter;
    if (u::is_number(c)) return number;
    if (u::is_white_space(c)) return space;
    return other;
  };
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = t[i];
    if (const std::size_t k = contraction_length(t, i); k > 0) {
      emit(i, i + k);
      i += k;
      continue;
    }
    Kind k = kind(c);
    std::size_t start = i;
    if (c == ' ' && i + 1 < n) {
      const Kind k1 = kind(t[i + 1]);
      if (k1 != space) {  // " ?X+": the space joins the run that follows
        k = k1;
        ++i;
      }
    }
    if (k != space) {
      std::size_t j = i + 1;
      while (j < n && kind(t[j]) == k) ++j;
      emit(start, j);
      i = j;
      continue;
    }
    std::size_t j = i;
    while (j < n && u::is_white_space(t[j])) ++j;
    if (j == n) {
      emit(i, n);  // \s+(?!\S) at the end takes the whole run
      i = n;
    } else if (j - i >= 2) {
      emit(i, j - 1);  // leave the last whitespace to prefix the next word
      i = j - 1;
    } else {
      emit(i, j);  // \s+ for a single whitespace before a word
      i = j;
    }
  }
}

/// Splits `text` into CLIP's words (see the file comment), calling `emit(begin, end)`;
/// whitespace belongs to no word. Apostrophe forms are tried first at each position, so "'s"
/// is a word but a run of other symbols takes the apostrophes inside it ("!'" then "s").
template <typename Emit>
void clip_split(std::u32string_view t, Emit&& emit) {
  namespace u = unicode;
  const std::size_t n = t.size();
  std::size_t i = 0;
  while (i < n) {
    const char32_t c = t[i];
    if (const std::size_t k = contraction_length(t, i); k > 0) {
      emit(i, i + k);
      i += k;
      continue;
    }
    if (u::is_white_space(c)) {
      ++i;
      continue;
    }
    if (u::is_number(c)) {
      emit(i, i + 1);
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    if (u::is_letter(c)) {
      while (j < n && u::is_letter(t[j])) ++j;
    } else {
      while (j < n && !u::is_white_space(t[j]) && !u::is_letter(t[j]) && !u::is_number(t[j])) ++j;
    }
    emit(i, j);
    i = j;
  }
}

/// Applies `normalizer` to `text` in place.
inline void normalize_byte_level(const ByteLevelNormalizer& normalizer, std::u32string& text) {
  if (normalizer.nfc) unicode::nfc(text);
  if (normalizer.collapse_whitespace) unicode::collapse_white_space(text);
  if (normalizer.lowercase) {
    std::u32string lowered;
    lowered.reserve(text.size() + 4);
    for (char32_t c : text) unicode::append_lowercase(lowered, c);
    text = std::move(lowered);
  }
}

}  // namespace detail

/// Byte-level BPE tokenizer (RoBERTa, GPT-2, CLIP).
///
/// Example:
/// @code
///   auto tok = vikcse::ByteLevelBpeTokenizer::from_files("roberta-base/vocab.json", "roberta-base/merges.txt");
///   auto ids = tok.encode("Hello world");  // 0 31414 232 2
/// @endcode
class ByteLevelBpeTokenizer : public detail::TokenizerBase<ByteLevelBpeTokenizer> {
public:
  /// A tokenizer over `vocab` (token -> id) and `merges` (in rank order).
  ByteLevelBpeTokenizer(detail::TokenIdMap vocab, std::vector<std::pair<std::string, std::string>> merges,
                        ByteLevelBpeOptions options = {})
      : options_(std::move(options)) {
    core_.vocab = std::move(vocab);
    core_.index_vocab("vocab.json");
    set_merges(std::move(merges), "merges.txt");
    for (const auto* s : {&options_.bos_token, &options_.pad_token, &options_.eos_token, &options_.unk_token}) {
      // CLIP's <|startoftext|> is matched in normalized text, as transformers saves it
      const bool normalized = options_.split == ByteLevelSplit::clip && s == &options_.bos_token;
      if (!s->empty() && core_.vocab.contains(*s)) core_.add_token({*s, {}, -1, true, false, false, false, normalized});
    }
    if (!options_.mask_token.empty() && core_.vocab.contains(options_.mask_token)) {
      core_.add_token({options_.mask_token, {}, -1, true, false, options_.mask_lstrip, false, false});
    }
    finish_setup(/*template_from_json=*/false);
  }

  /// Loads `vocab.json` + `merges.txt`.
  static ByteLevelBpeTokenizer from_files(const std::filesystem::path& vocab_json,
                                          const std::filesystem::path& merges_txt, ByteLevelBpeOptions options = {}) {
    const auto j = detail::read_json_file(vocab_json);
    if (!j.is_object()) throw_error<tokenizer_error>("'{}' must hold a JSON object token -> id", vocab_json.string());
    return ByteLevelBpeTokenizer(detail::read_token_ids(j, fmt::format("'{}'", vocab_json.string())),
                                 read_merges(merges_txt), std::move(options));
  }

  /// Reads merges.txt: an optional "#version" line, then one "left right" pair per line.
  static std::vector<std::pair<std::string, std::string>> read_merges(const std::filesystem::path& merges_txt) {
    const std::string bytes = detail::read_file_bytes(merges_txt);
    std::vector<std::pair<std::string, std::string>> merges;
    const auto lines = detail::split_lines(bytes);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const auto line = lines[i];
      if (line.starts_with("#version")) continue;
      if (line.empty() && i + 1 == lines.size()) continue;
      const auto sp = line.find(' ');
      if (sp == std::string_view::npos || sp == 0 || sp + 1 == line.size() ||
          line.find(' ', sp + 1) != std::string_view::npos) {
        throw_error<tokenizer_error>("'{}' line {}: expected two tokens separated by one space, got '{}'",
                                     merges_txt.string(), i + 1, line);
      }
      merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
    }
    return merges;
  }

  /// Loads a Hugging Face `tokenizer.json` whose model is BPE with a ByteLevel pre-tokenizer
  /// (RoBERTa, GPT-2), or with CLIP's normalizer and Split + ByteLevel pre-tokenizer.
  static ByteLevelBpeTokenizer from_tokenizer_json(const std::filesystem::path& path) {
    const auto j = detail::read_json_file(path);
    const std::string src = path.string();
    ByteLevelBpeTokenizer tok;
    std::vector<std::pair<std::string, std::string>> merges;
    try {
      const auto& model = j.at("model");
      if (model.value("type", std::string("BPE")) != "BPE") {
        throw_error<tokenizer_error>("{}: model type is '{}', expected 'BPE'", src, model.value("type", ""));
      }
      tok.core_.vocab = detail::read_token_ids(model.at("vocab"), src);
      for (const auto& m : model.at("merges")) {
        if (m.is_string()) {
          const auto s = m.get<std::string>();
          const auto sp = s.find(' ');
          if (sp == std::string::npos) throw_error<tokenizer_error>("{}: malformed merge '{}'", src, s);
          merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        } else {
          merges.emplace_back(m.at(0).get<std::string>(), m.at(1).get<std::string>());
        }
      }
      tok.options_.end_of_word_suffix = json_string_or_empty(model, "end_of_word_suffix");
      if (const auto prefix = json_string_or_empty(model, "continuing_subword_prefix"); !prefix.empty()) {
        throw_error<tokenizer_error>("{}: model.continuing_subword_prefix '{}' is not supported (expected none)", src,
                                     prefix);
      }
      if (model.contains("unk_token") && model["unk_token"].is_string()) {
        tok.model_unk_token_ = model["unk_token"].get<std::string>();
      }
      tok.options_.normalizer = read_normalizer(j.contains("normalizer") ? j["normalizer"] : nlohmann::json(), src);
      read_pre_tokenizer(j.at("pre_tokenizer"), src, tok.options_);
      if (tok.options_.split == ByteLevelSplit::clip) {  // CLIP's token names unless tokenizer_config.json says
        auto clip = ByteLevelBpeOptions::clip();
        clip.add_prefix_space = tok.options_.add_prefix_space;
        clip.normalizer = tok.options_.normalizer;
        clip.end_of_word_suffix = tok.options_.end_of_word_suffix;
        tok.options_ = std::move(clip);
      }
    } catch (const nlohmann::json::exception& e) {
      throw_error<tokenizer_error>("{}: malformed BPE tokenizer.json: {}", src, e.what());
    }
    tok.core_.index_vocab(src);
    tok.set_merges(std::move(merges), src);
    tok.core_.read_added_tokens(j, src);
    const auto pp = j.contains("post_processor") ? j["post_processor"] : nlohmann::json();
    const bool framed = !pp.is_null() && pp.value("type", std::string()) != "ByteLevel";
    if (framed) {
      tok.core_.read_post_processor(pp, src);
    } else {
      tok.core_.read_post_processor(nlohmann::json(), src);
    }
    const auto cfg_path = path.parent_path() / "tokenizer_config.json";
    if (std::filesystem::exists(cfg_path)) tok.read_token_names(detail::read_json_file(cfg_path));
    tok.finish_setup(/*template_from_json=*/true);
    return tok;
  }

  /// Loads a directory: `tokenizer.json` when present, else `vocab.json` + `merges.txt` with
  /// the settings of `tokenizer_config.json` (add_prefix_space, token names).
  static ByteLevelBpeTokenizer from_directory(const std::filesystem::path& dir) {
    if (std::filesystem::exists(dir / "tokenizer.json")) return from_tokenizer_json(dir / "tokenizer.json");
    if (!std::filesystem::exists(dir / "vocab.json") || !std::filesystem::exists(dir / "merges.txt")) {
      throw_error<tokenizer_error>("'{}' has neither tokenizer.json nor vocab.json + merges.txt", dir.string());
    }
    ByteLevelBpeOptions options;
    const auto cfg_path = dir / "tokenizer_config.json";
    if (std::filesystem::exists(cfg_path)) {
      const auto cfg = detail::read_json_file(cfg_path);
      if (cfg.is_object() && cfg.value("tokenizer_class", std::string()).starts_with("CLIPTokenizer")) {
        options = ByteLevelBpeOptions::clip();
      }
      if (cfg.is_object() && cfg.contains("add_prefix_space") && cfg["add_prefix_space"].is_boolean()) {
        options.add_prefix_space = cfg["add_prefix_space"].get<bool>();
      }
      options.bos_token = detail::config_token(cfg, "bos_token", options.bos_token);
      options.eos_token = detail::config_token(cfg, "eos_token", options.eos_token);
      options.pad_token = detail::config_token(cfg, "pad_token", options.pad_token);
      options.mask_token = detail::config_token(cfg, "mask_token", options.mask_token);
      options.unk_token = detail::config_token(cfg, "unk_token", options.unk_token);
    }
    return from_files(dir / "vocab.json", dir / "merges.txt", std::move(options));
  }

  /// Text of `ids`: the tokens' characters mapped back to bytes (a token with a character
  /// outside the byte map, such as an added token, contributes its own UTF-8), decoded as UTF-8
  /// with U+FFFD for ill-formed sequences.
  /// Special tokens are kept unless `skip_special_tokens` (as transformers' decode).
  [[nodiscard]] std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = false) const {
    std::string bytes;
    std::u32string chars;
    for (auto id : ids) {
      if (skip_special_tokens && core_.is_special(id)) continue;
      const std::string& tok = core_.id_to_token_checked(id);
      detail::unicode::decode_utf8(tok, chars);
      const std::size_t mark = bytes.size();
      bool mapped = true;
      for (char32_t c : chars) {
        const int b = c < unicode_to_byte_.size() ? unicode_to_byte_[c] : -1;
        if (b < 0) {
          mapped = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!mapped) {
        bytes.resize(mark);
        bytes += tok;
      }
    }
    return detail::unicode::to_utf8(detail::unicode::to_u32(bytes));
  }

  [[nodiscard]] const ByteLevelBpeOptions& options() const { return options_; }
  /// Number of merges.
  [[nodiscard]] std::size_t num_merges() const { return merge_list_.size(); }

  /// Writes `vocab.json`, `merges.txt`, `tokenizer_config.json` and `special_tokens_map.json`
  /// into `dir` (created if needed), each atomically; RobertaTokenizer(Fast) loads the result.
  void save(const std::filesystem::path& dir) const {
    detail::ensure_directory(dir);
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (std::size_t id = 0; id < core_.id_to_token.size(); ++id) {
      const auto& t = core_.id_to_token[id];
      if (!t.empty() && core_.vocab.contains(t)) vocab[t] = id;
    }
    detail::write_text_atomically<tokenizer_error>(dir / "vocab.json", vocab.dump() + "\n");
    std::string merges = "#version: 0.2\n";
    for (const auto& [a, b] : merge_list_) merges += a + " " + b + "\n";
    detail::write_text_atomically<tokenizer_error>(dir / "merges.txt", merges);
    const bool clip = options_.split == ByteLevelSplit::clip;
    if (!clip && (options_.normalizer.any() || !options_.end_of_word_suffix.empty())) {
      throw_error<tokenizer_error>("saving '{}': vocab.json + merges.txt can hold RoBERTa's or CLIP's settings only, "
                                   "not a normalizer or word suffix without CLIP's split",
                                   dir.string());
    }
    if (clip && (options_.normalizer != ByteLevelBpeOptions::clip().normalizer ||
                 options_.end_of_word_suffix != ByteLevelBpeOptions::clip().end_of_word_suffix)) {
      throw_error<tokenizer_error>("saving '{}': a CLIP tokenizer saved as vocab.json + merges.txt must keep CLIP's "
                                   "normalizer and '</w>' suffix",
                                   dir.string());
    }
    nlohmann::json cfg = {{"tokenizer_class", clip ? "CLIPTokenizer" : "RobertaTokenizer"},
                          {"add_prefix_space", options_.add_prefix_space},
                          {"bos_token", options_.bos_token},
                          {"eos_token", options_.eos_token},
                          {"cls_token", options_.bos_token},
                          {"sep_token", options_.eos_token},
                          {"pad_token", options_.pad_token},
                          {"unk_token", options_.unk_token},
                          {"mask_token",
                           {{"content", options_.mask_token},
                            {"lstrip", options_.mask_lstrip},
                            {"rstrip", false},
                            {"single_word", false},
                            {"normalized", false},
                            {"__type", "AddedToken"}}}};
    if (options_.mask_token.empty()) cfg.erase("mask_token");
    detail::write_text_atomically<tokenizer_error>(dir / "tokenizer_config.json", cfg.dump(2) + "\n");
    nlohmann::json map = {{"bos_token", options_.bos_token},  {"eos_token", options_.eos_token},
                          {"cls_token", options_.bos_token},  {"sep_token", options_.eos_token},
                          {"pad_token", options_.pad_token},  {"unk_token", options_.unk_token},
                          {"mask_token", options_.mask_token}};
    if (options_.mask_token.empty()) map.erase("mask_token");
    detail::write_text_atomically<tokenizer_error>(dir / "special_tokens_map.json", map.dump(2) + "\n");
  }

private:
  friend class detail::TokenizerBase<ByteLevelBpeTokenizer>;

  ByteLevelBpeTokenizer() = default;

  /// Normalizer, optional prefix space, pre-tokenizer and BPE on a piece of text between added
  /// tokens.
  void encode_text(std::u32string_view piece, std::vector<std::int64_t>& ids, std::size_t limit) const {
    Scratch scratch;
    std::u32string prefixed;
    std::u32string normalized;
    if (options_.normalizer.any()) {
      normalized = std::u32string(piece.begin(), piece.end());
      detail::normalize_byte_level(options_.normalizer, normalized);
    }
    auto words = [&](std::u32string_view p) {
      detail::gpt2_split(p, [&](std::size_t b, std::size_t e) {
        if (ids.size() < limit) bpe(p.substr(b, e - b), scratch, ids);
      });
    };
    const std::u32string_view text = options_.normalizer.any() ? std::u32string_view(normalized) : piece;
    encode_normalized(text, ids, limit, [&](std::u32string_view p) {
      if (options_.add_prefix_space && p.front() != ' ') {
        prefixed.assign(1, U' ');
        prefixed.append(p);
        p = prefixed;
      }
      if (options_.split == ByteLevelSplit::clip) {
        detail::clip_split(p, [&](std::size_t b, std::size_t e) { words(p.substr(b, e - b)); });
      } else {
        words(p);
      }
    });
  }

  /// A string field of tokenizer.json's model, or "" when absent or null.
  static std::string json_string_or_empty(const nlohmann::json& obj, const char* key) {
    if (!obj.contains(key) || obj[key].is_null()) return {};
    return obj[key].get<std::string>();
  }

  /// Reads tokenizer.json's "normalizer": null, or NFC, Replace(\s+ -> " ") and Lowercase, alone
  /// or in a Sequence, in that order (CLIP's).
  static ByteLevelNormalizer read_normalizer(const nlohmann::json& n, const std::string& src) {
    ByteLevelNormalizer out;
    if (n.is_null()) return out;
    std::vector<nlohmann::json> steps;
    if (n.at("type").get<std::string>() == "Sequence") {
      for (const auto& step : n.at("normalizers")) steps.push_back(step);
    } else {
      steps.push_back(n);
    }
    int last = -1;
    for (const auto& step : steps) {
      const auto type = step.at("type").get<std::string>();
      int order = -1;
      if (type == "NFC") {
        order = 0;
        out.nfc = true;
      } else if (type == "Replace" && step.at("pattern").value("Regex", std::string()) == "\\s+" &&
                 step.value("content", std::string()) == " ") {
        order = 1;
        out.collapse_whitespace = true;
      } else if (type == "Lowercase") {
        order = 2;
        out.lowercase = true;
      }
      if (order < 0 || order <= last) {
        throw_error<tokenizer_error>("{}: normalizer '{}' is not supported by ByteLevelBpeTokenizer (expected null, "
                                     "or NFC, Replace(\\s+, \" \") and Lowercase in this order, as CLIP's)",
                                     src, step.dump());
      }
      last = order;
    }
    return out;
  }

  /// CLIP's Split pattern, as tokenizer.json writes it.
  static constexpr std::string_view clip_pattern =
      "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

  /// Reads tokenizer.json's "pre_tokenizer": ByteLevel with use_regex (RoBERTa), or a Sequence of
  /// CLIP's Split (Removed, inverted) and ByteLevel with use_regex.
  static void read_pre_tokenizer(const nlohmann::json& pre, const std::string& src, ByteLevelBpeOptions& options) {
    const auto fail = [&] {
      throw_error<tokenizer_error>("{}: ByteLevelBpeTokenizer needs a ByteLevel pre_tokenizer with use_regex, "
                                   "alone or after CLIP's Split; found {}",
                                   src, pre.dump().substr(0, 300));
    };
    if (pre.is_null()) fail();
    const nlohmann::json* byte_level = &pre;
    if (pre.at("type").get<std::string>() == "Sequence") {
      const auto& list = pre.at("pretokenizers");
      if (list.size() != 2) fail();
      const auto& split = list.at(0);
      if (split.at("type").get<std::string>() != "Split" ||
          split.at("pattern").value("Regex", std::string()) != clip_pattern ||
          split.value("behavior", std::string()) != "Removed" || !split.value("invert", false)) {
        fail();
      }
      options.split = ByteLevelSplit::clip;
      byte_level = &list.at(1);
    }
    if (byte_level->at("type").get<std::string>() != "ByteLevel" || !byte_level->value("use_regex", true)) fail();
    options.add_prefix_space = byte_level->value("add_prefix_space", false);
  }

  struct MergeValue {
    std::int32_t rank;
    std::int32_t new_id;
  };
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    bool alive;
  };
  struct QueueEntry {
    std::int32_t rank;
    std::int32_t pos;
    std::int32_t new_id;
    bool operator<(const QueueEntry& o) const {  // min-heap on (rank, pos) through std::priority_queue
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  struct Scratch {
    std::vector<Symbol> symbols;
    std::vector<QueueEntry> heap;
    std::string utf8;
  };

  static std::uint64_t pair_key(std::int64_t a, std::int64_t b) {
    return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
  }

  void read_token_names(const nlohmann::json& cfg) {
    options_.bos_token =
        detail::config_token(cfg, "bos_token", detail::config_token(cfg, "cls_token", options_.bos_token));
    options_.eos_token =
        detail::config_token(cfg, "eos_token", detail::config_token(cfg, "sep_token", options_.eos_token));
    options_.pad_token = detail::config_token(cfg, "pad_token", options_.pad_token);
    options_.mask_token = detail::config_token(cfg, "mask_token", options_.mask_token);
    options_.unk_token = detail::config_token(cfg, "unk_token", options_.unk_token);
  }

  void set_merges(std::vector<std::pair<std::string, std::string>> merges, std::string_view source) {
    merges_.clear();
    merges_.reserve(merges.size() * 2);
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const auto& [a, b] = merges[rank];
      const auto ia = core_.vocab.find(a);
      const auto ib = core_.vocab.find(b);
      const auto iab = core_.vocab.find(a + b);
      if (ia == core_.vocab.end() || ib == core_.vocab.end() || iab == core_.vocab.end()) {
        throw_error<tokenizer_error>("{}: merge {} '{} {}' uses a token that is not in the vocabulary", source,
                                     rank + 1, a, b);
      }
      merges_.emplace(pair_key(ia->second, ib->second),
                      MergeValue{static_cast<std::int32_t>(rank), static_cast<std::int32_t>(iab->second)});
    }
    merge_list_ = std::move(merges);
  }

  void finish_setup(bool template_from_json) {
    const auto map = detail::bytes_to_unicode();
    unicode_to_byte_.assign(512, -1);
    const auto& unk = model_unk_token_.empty() && options_.split == ByteLevelSplit::clip ? options_.unk_token
                                                                                         : model_unk_token_;
    const auto unk_it = unk.empty() ? core_.vocab.end() : core_.vocab.find(unk);
    const std::int64_t unk_id = unk_it == core_.vocab.end() ? -1 : unk_it->second;
    for (unsigned b = 0; b < 256; ++b) {
      const std::string symbol = detail::unicode::to_utf8(map[b]);
      auto it = core_.vocab.find(symbol);
      byte_ids_[b] = it == core_.vocab.end() ? unk_id : it->second;
      if (!options_.end_of_word_suffix.empty()) {
        auto last = core_.vocab.find(symbol + options_.end_of_word_suffix);
        last_byte_ids_[b] = last == core_.vocab.end() ? unk_id : last->second;
      } else {
        last_byte_ids_[b] = byte_ids_[b];
      }
      unicode_to_byte_[map[b]] = static_cast<int>(b);
    }
    core_.resolve_special(options_.bos_token, options_.eos_token, options_.pad_token, options_.mask_token,
                          options_.unk_token);
    if (!template_from_json) {
      if (core_.special.cls >= 0 && core_.special.sep >= 0) {
        core_.set_roberta_template(core_.special.cls, core_.special.sep);
      } else {  // GPT-2: no framing
        core_.read_post_processor(nlohmann::json(), "vocab.json");
      }
    }
  }

  /// BPE on one pre-token: bytes -> symbols, then merges lowest rank first (leftmost on ties).
  void bpe(std::u32string_view piece, Scratch& s, std::vector<std::int64_t>& ids) const {
    s.utf8.clear();
    for (char32_t c : piece) detail::unicode::append_utf8(s.utf8, c);
    auto& sym = s.symbols;
    sym.clear();
    for (std::size_t k = 0; k < s.utf8.size(); ++k) {
      const auto b = static_cast<unsigned char>(s.utf8[k]);
      const auto id = k + 1 == s.utf8.size() ? last_byte_ids_[b] : byte_ids_[b];  // the last one ends the word
      if (id < 0) continue;  // a symbol missing from the vocabulary, without an unknown token, is dropped
      const auto n = static_cast<std::int32_t>(sym.size());
      sym.push_back({static_cast<std::int32_t>(id), n - 1, n + 1, true});
    }
    if (sym.empty()) return;
    sym.back().next = -1;
    if (sym.size() > 1) {
      auto& heap = s.heap;
      heap.clear();
      for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
        if (auto it = merges_.find(pair_key(sym[i].id, sym[i + 1].id)); it != merges_.end()) {
          heap.push_back({it->second.rank, static_cast<std::int32_t>(i), it->second.new_id});
        }
      }
      std::make_heap(heap.begin(), heap.end());
      while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end());
        const QueueEntry top = heap.back();
        heap.pop_back();
        Symbol& left = sym[static_cast<std::size_t>(top.pos)];
        if (!left.alive || left.next < 0) continue;
        Symbol& right = sym[static_cast<std::size_t>(left.next)];
        const auto it = merges_.find(pair_key(left.id, right.id));
        if (it == merges_.end() || it->second.new_id != top.new_id) continue;  // stale entry
        left.id = top.new_id;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) sym[static_cast<std::size_t>(right.next)].prev = top.pos;
        if (left.prev >= 0) {
          const Symbol& p = sym[static_cast<std::size_t>(left.prev)];
          if (auto m = merges_.find(pair_key(p.id, left.id)); m != merges_.end()) {
            heap.push_back({m->second.rank, left.prev, m->second.new_id});
            std::push_heap(heap.begin(), heap.end());
          }
        }
        if (left.next >= 0) {
          const Symbol& nx = sym[static_cast<std::size_t>(left.next)];
          if (auto m = merges_.find(pair_key(left.id, nx.id)); m != merges_.end()) {
            heap.push_back({m->second.rank, top.pos, m->second.new_id});
            std::push_heap(heap.begin(), heap.end());
          }
        }
      }
    }
    for (const auto& x : sym) {
      if (x.alive) ids.push_back(x.id);
    }
  }

  ByteLevelBpeOptions options_;
  std::unordered_map<std::uint64_t, MergeValue> merges_;
  std::vector<std::pair<std::string, std::string>> merge_list_;
  std::array<std::int64_t, 256> byte_ids_{};       ///< the symbol of each byte inside a word
  std::array<std::int64_t, 256> last_byte_ids_{};  ///< ... at the end of a word (with the suffix)
  std::string model_unk_token_;                    ///< tokenizer.json's model.unk_token
  std::vector<int> unicode_to_byte_;
};

}  // namespace vikcse
