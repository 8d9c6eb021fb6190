// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file template.hpp
/// Prompt templates for `[MASK]` pooling (PromptBERT, VIKCSE; README.md#poolers-and-heads, #promptbert): a string with
/// one sentence placeholder (`[X]`) and exactly one mask token, e.g.
/// `This sentence : "[X]" means [MASK] .`. Torch-free.

#include <vikcse/error.hpp>
#include <vikcse/tokenizer/detail/unicode.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace vikcse {

/// Options of a `PromptTemplate`.
struct PromptTemplateOptions {
  /// The sentence placeholder in the template text. Default: `[X]`.
  std::string placeholder = "[X]";
  /// The mask token as the template text writes it. When the tokenizer's differs (RoBERTa's
  /// `<mask>` for a template written with `[MASK]`, or the reverse), it is replaced by the
  /// tokenizer's. Default: `[MASK]`.
  std::string written_mask_token = "[MASK]";
  /// Append '.' to a non-empty sentence that does not end with `.`, `?`, `"` or `'` before
  /// templating (PromptBERT's evaluation batcher, README.md#promptbert). Default: false (training form).
  bool append_period = false;
  /// Lower-case the sentence before templating (`lowercase_text`; VIKCSE's evaluation,
  /// README.md#vikcse-1; the template keeps its case). Default: false.
  bool lowercase = false;
};

/// `text` lower-cased code point by code point with the full Unicode mapping (as Python's
/// `str.lower`, which VIKCSE's reference evaluation applies: `İ` -> `i̇`, `Ω` -> `ω`).
inline std::string lowercase_text(std::string_view text) {
  std::u32string lower;
  for (const char32_t c : detail::unicode::to_u32(text)) detail::unicode::append_lowercase(lower, c);
  return detail::unicode::to_utf8(lower);
}

/// Counts non-overlapping occurrences of `needle` in `text`.
inline std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  if (needle.empty()) return 0;
  std::size_t n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// `sentence` with '.' appended unless it is empty or ends with `.`, `?`, `"` or `'` (PromptBERT's
/// evaluation batcher, README.md#promptbert).
inline std::string append_period_if_missing(std::string sentence) {
  if (!sentence.empty() && std::string_view(".?\"'").find(sentence.back()) == std::string_view::npos) {
    sentence.push_back('.');
  }
  return sentence;
}

/// A validated prompt template.
///
/// Example:
/// ```
/// vikcse::PromptTemplate t("This sentence : \"[X]\" means [MASK] .", "[MASK]");
/// t.apply("a man plays");  // This sentence : "a man plays" means [MASK] .
/// ```
class PromptTemplate {
public:
  /// Validates `text`: exactly one placeholder and exactly one `mask_token`. When the tokenizer's
  /// mask token differs from the one the text is written with (`options.written_mask_token`,
  /// `[MASK]` by default; RoBERTa's is `<mask>`), the written one is replaced by it, so one template
  /// string serves both families. This is the only place where a mask token is substituted.
  /// @throws vikcse::config_error naming the template and the counts found.
  PromptTemplate(std::string text, std::string mask_token, PromptTemplateOptions options = {})
      : text_(std::move(text)), mask_token_(std::move(mask_token)), options_(std::move(options)) {
    if (mask_token_.empty()) throw_error<config_error>("prompt template '{}': the mask token is empty", text_);
    const auto& written = options_.written_mask_token;
    if (!written.empty() && mask_token_ != written && count_occurrences(text_, mask_token_) == 0 &&
        count_occurrences(text_, written) == 1) {
      text_.replace(text_.find(written), written.size(), mask_token_);
    }
    const auto placeholders = count_occurrences(text_, options_.placeholder);
    if (placeholders != 1) {
      throw_error<config_error>("prompt template '{}': expected exactly one sentence placeholder '{}', found {}", text_,
                                options_.placeholder, placeholders);
    }
    const auto masks = count_occurrences(text_, mask_token_);
    if (masks != 1) {
      throw_error<config_error>("prompt template '{}': expected exactly one mask token '{}', found {}", text_,
                                mask_token_, masks);
    }
  }

  /// The templated sentence (PromptBERT: `template.replace(placeholder, s).strip()`).
  [[nodiscard]] std::string apply(std::string_view sentence) const {
    std::string s = options_.lowercase ? lowercase_text(sentence) : std::string(sentence);
    if (options_.append_period) s = append_period_if_missing(std::move(s));
    std::string out = text_;
    out.replace(out.find(options_.placeholder), options_.placeholder.size(), s);
    const auto begin = out.find_first_not_of(" \t\n\r\f\v");
    if (begin == std::string::npos) return {};
    const auto end = out.find_last_not_of(" \t\n\r\f\v");
    return out.substr(begin, end - begin + 1);
  }

  /// Text before the placeholder (for template denoising).
  [[nodiscard]] std::string prefix() const { return text_.substr(0, text_.find(options_.placeholder)); }
  /// Text after the placeholder (for template denoising).
  [[nodiscard]] std::string suffix() const {
    return text_.substr(text_.find(options_.placeholder) + options_.placeholder.size());
  }
  /// The template text (with the tokenizer's mask token).
  [[nodiscard]] const std::string& text() const { return text_; }
  /// The mask token.
  [[nodiscard]] const std::string& mask_token() const { return mask_token_; }
  /// The options.
  [[nodiscard]] const PromptTemplateOptions& options() const { return options_; }

private:
  std::string text_;
  std::string mask_token_;
  PromptTemplateOptions options_;
};

}  // namespace vikcse
