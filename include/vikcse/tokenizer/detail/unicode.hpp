// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file unicode.hpp
/// The Unicode facts the tokenizers need, taken from utf8proc (no hand-written tables): UTF-8
/// decoding with U+FFFD replacement, general categories, White_Space, NFD and lower-casing.
///
/// Each predicate is named after, and matches, the one Hugging Face's Rust `tokenizers` uses; the
/// whole code space is checked against that library in tests/tokenizer (unicode_test.cpp).

#include <utf8proc.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <string_view>

namespace vikcse::detail::unicode {

/// U+FFFD REPLACEMENT CHARACTER, what invalid UTF-8 decodes to.
inline constexpr char32_t replacement_character = 0xFFFD;

/// Decodes UTF-8 into code points, replacing every *maximal subpart* of an ill-formed sequence
/// with one U+FFFD. This is the WHATWG Encoding Standard's decoder (Unicode §3.9 "U+FFFD
/// substitution of maximal subparts"), the one Node's `Buffer.toString('utf8')`, browsers and
/// Python's `bytes.decode('utf-8', 'replace')` use, so bytes read from a file give the same
/// text here as in the Hugging Face reference. Surrogates (ED A0..BF ..) and overlong forms are
/// ill-formed; a truncated sequence at the end gives one U+FFFD.
///
/// Example: "a\xF0\x9F\x98" (truncated emoji) decodes to {'a', U+FFFD};
///          "\xC0\xAF" (overlong '/') decodes to {U+FFFD, U+FFFD}.
inline void decode_utf8(std::string_view bytes, std::u32string& out) {
  out.clear();
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char b0 = s[i];
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    // Number of continuation bytes and the allowed range of the first one (WHATWG table).
    std::size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    char32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      needed = 1;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      needed = 2;
      if (b0 == 0xE0) lower = 0xA0;
      if (b0 == 0xED) upper = 0x9F;
      cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      needed = 3;
      if (b0 == 0xF0) lower = 0x90;
      if (b0 == 0xF4) upper = 0x8F;
      cp = b0 & 0x07;
    } else {
      out.push_back(replacement_character);  // 80..C1, F5..FF never start a sequence
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    bool ok = true;
    for (std::size_t k = 0; k < needed; ++k, ++j) {
      if (j >= n || s[j] < lower || s[j] > upper) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (s[j] & 0x3F);
      lower = 0x80;
      upper = 0xBF;
    }
    if (ok) {
      out.push_back(cp);
      i = j;
    } else {
      out.push_back(replacement_character);  // the maximal subpart s[i, j) becomes one U+FFFD
      i = j;
    }
  }
}

/// Appends the UTF-8 encoding of a valid code point.
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// UTF-8 encoding of one code point.
inline std::string to_utf8(char32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

/// UTF-8 encoding of a code-point string.
inline std::string to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

/// UTF-8 bytes to code points (see decode_utf8).
inline std::u32string to_u32(std::string_view bytes) {
  std::u32string out;
  decode_utf8(bytes, out);
  return out;
}

/// The general category of a code point, from utf8proc.
inline utf8proc_category_t category(char32_t cp) { return utf8proc_category(static_cast<utf8proc_int32_t>(cp)); }

/// The Unicode White_Space property: U+0009..U+000D, U+0085 and the categories Zs, Zl, Zp.
/// (Rust's `char::is_whitespace` and Oniguruma's `\s`, which the reference uses, are this set.)
inline bool is_white_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  if (cp == 0x85) return true;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/// BERT's "control character" (removed by clean_text): categories Cc, Cf, Co and Cs, except
/// tab, line feed and carriage return, which count as whitespace. Unassigned code points (Cn)
/// are kept, as Hugging Face keeps them.
inline bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x20 || cp == 0x7F) return true;
  if (cp < 0xA0) return cp >= 0x80;
  const auto c = category(cp);
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO ||
         c == UTF8PROC_CATEGORY_CS;
}

/// BERT's punctuation: any ASCII punctuation character (including $ + < = > ^ ` | ~, which
/// Unicode files as symbols) or a code point of a P* category.
inline bool is_bert_punctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  }
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/// CJK ideographs that BERT surrounds with spaces: the code-point blocks of Hugging Face's
/// `is_chinese_char` (these are block ranges, not a property, so they are listed here).
inline bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/// General category Mn (non-spacing mark), what strip_accents removes after NFD.
inline bool is_mark_nonspacing(char32_t cp) { return cp >= 0x300 && category(cp) == UTF8PROC_CATEGORY_MN; }

/// \p{L}: any letter (Lu, Ll, Lt, Lm, Lo).
inline bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/// \p{N}: any number (Nd, Nl, No).
inline bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  const auto c = category(cp);
  return c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO;
}

/// Appends the full lower-case mapping of `cp` (Rust's `char::to_lowercase`): utf8proc's simple
/// mapping plus the one unconditional multi-character mapping of SpecialCasing.txt,
/// U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE -> U+0069 U+0307.
inline void append_lowercase(std::u32string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
  } else if (cp == 0x130) {
    out.push_back(0x69);
    out.push_back(0x307);
  } else {
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
}

/// Canonical decomposition (NFD) of a code-point string: utf8proc decomposes each code point
/// (Hangul algorithmically included), then runs of combining marks are put in canonical order
/// (stable sort by canonical combining class, Unicode §3.11).
inline void nfd(std::u32string& text) {
  std::size_t first = 0;
  while (first < text.size() && text[first] < 0xC0) ++first;  // nothing below U+00C0 decomposes
  if (first == text.size()) return;
  std::u32string out(text, 0, first);
  out.reserve(text.size() + 8);
  utf8proc_int32_t buffer[32];
  for (std::size_t i = first; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp < 0xC0) {
      out.push_back(cp);
      continue;
    }
    int boundclass = 0;
    const auto n =
        utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 32, UTF8PROC_DECOMPOSE, &boundclass);
    if (n <= 0 || n > 32) {  // cannot happen for a valid code point; keep it unchanged
      out.push_back(cp);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back(static_cast<char32_t>(buffer[k]));
  }
  // Canonical ordering: insertion sort inside each run of non-starters (runs are short).
  auto ccc = [](char32_t c) {
    return c < 0x300 ? 0 : utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  };
  for (std::size_t i = 1; i < out.size(); ++i) {
    const auto ci = ccc(out[i]);
    if (ci == 0) continue;
    std::size_t j = i;
    const char32_t c = out[i];
    while (j > 0) {
      const auto cj = ccc(out[j - 1]);
      if (cj <= ci) break;
      out[j] = out[j - 1];
      --j;
    }
    out[j] = c;
  }
  text = std::move(out);
}

/// Canonical composition (NFC) of a code-point string, by utf8proc (decomposition, canonical
/// ordering and composition, the Unicode algorithm). Text below U+0300 is already NFC.
inline void nfc(std::u32string& text) {
  if (std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x300; })) return;
  const std::string utf8 = to_utf8(text);
  utf8proc_uint8_t* composed = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                              static_cast<utf8proc_ssize_t>(utf8.size()), &composed,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n >= 0 && composed != nullptr) {  // text from decode_utf8 is always valid, so this holds
    text = to_u32(std::string_view(reinterpret_cast<const char*>(composed), static_cast<std::size_t>(n)));
  }
  std::free(composed);
}

/// Replaces each run of White_Space code points with one ' ' (Hugging Face's
/// `Replace(Regex("\\s+"), " ")` normalizer).
inline void collapse_white_space(std::u32string& text) {
  std::size_t w = 0;
  bool in_space = false;
  for (char32_t c : text) {
    if (is_white_space(c)) {
      if (!in_space) text[w++] = U' ';
      in_space = true;
    } else {
      text[w++] = c;
      in_space = false;
    }
  }
  text.resize(w);
}

}  // namespace vikcse::detail::unicode
