// SPDX-License-Identifier: Apache-2.0
// UTF-8 decoding (WHATWG maximal-subpart replacement) and the Unicode predicates.

#include <vikcse/tokenizer/detail/unicode.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace u = vikcse::detail::unicode;

namespace {
std::u32string dec(std::string_view s) { return u::to_u32(s); }
constexpr char32_t R = u::replacement_character;
}  // namespace

BOOST_AUTO_TEST_SUITE(unicode)

BOOST_AUTO_TEST_CASE(valid_utf8_round_trips) {
  const std::string text = "a\xC3\xA9\xE6\x88\x91\xF0\x9F\x98\x80z";  // a é 我 😀 z
  BOOST_TEST((dec(text) == std::u32string{U'a', 0xE9, 0x6211, 0x1F600, U'z'}));
  BOOST_TEST(u::to_utf8(dec(text)) == text);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_one_replacement_per_maximal_subpart) {
  BOOST_TEST((dec("a\xF0\x9F\x98") == std::u32string{U'a', R}));        // truncated 4-byte sequence
  BOOST_TEST((dec("\xC0\xAF") == std::u32string{R, R}));                // overlong: C0 never starts
  BOOST_TEST((dec("\xE0\x80\xAF") == std::u32string{R, R, R}));         // overlong 3-byte
  BOOST_TEST((dec("\xED\xA0\x80") == std::u32string{R, R, R}));         // surrogate D800
  BOOST_TEST((dec("\xF4\x90\x80\x80") == std::u32string{R, R, R, R}));  // above U+10FFFF
  BOOST_TEST((dec("\xE2\x82x") == std::u32string{R, U'x'}));            // E2 82 is one subpart
  BOOST_TEST((dec("\x80\xFF") == std::u32string{R, R}));                // lone continuation, FF
  BOOST_TEST((dec("\xC3\x28") == std::u32string{R, U'('}));             // the '(' is kept
  BOOST_TEST(dec("").empty());
}

BOOST_AUTO_TEST_CASE(bert_character_classes) {
  for (char32_t c : {U'$', U'+', U'<', U'=', U'>', U'^', U'`', U'|', U'~', U'!', U'.', U'-'}) {
    BOOST_TEST(u::is_bert_punctuation(c));
  }
  BOOST_TEST(u::is_bert_punctuation(0x3001));   // 、 (Po)
  BOOST_TEST(u::is_bert_punctuation(0x00BF));   // ¿
  BOOST_TEST(!u::is_bert_punctuation(0x20AC));  // € is Sc, not ASCII
  BOOST_TEST(!u::is_bert_punctuation(U'a'));
  BOOST_TEST(u::is_white_space(0x3000));
  BOOST_TEST(u::is_white_space(0x00A0));
  BOOST_TEST(u::is_white_space(0x2028));
  BOOST_TEST(!u::is_white_space(0x200B));  // zero width space is Cf
  BOOST_TEST(u::is_bert_control(0x200B));
  BOOST_TEST(u::is_bert_control(0x00AD));  // soft hyphen (Cf)
  BOOST_TEST(u::is_bert_control(0xE000));  // private use (Co)
  BOOST_TEST(u::is_bert_control(0x85));    // NEL is Cc before it is whitespace
  BOOST_TEST(!u::is_bert_control(U'\t'));
  BOOST_TEST(!u::is_bert_control(0x0378));  // unassigned (Cn) code points are kept
  BOOST_TEST(u::is_chinese_char(0x6211));
  BOOST_TEST(u::is_chinese_char(0x20000));
  BOOST_TEST(!u::is_chinese_char(0x3042));  // hiragana
  BOOST_TEST(u::is_letter(0x00E9));
  BOOST_TEST(u::is_number(0x0661));  // Arabic-Indic one
}

BOOST_AUTO_TEST_CASE(nfd_and_canonical_order) {
  std::u32string s = {0xE9, U'x', 0xAC00};  // é x 가
  u::nfd(s);
  BOOST_TEST((s == std::u32string{U'e', 0x301, U'x', 0x1100, 0x1161}));
  std::u32string q = {U'q', 0x307, 0x323};  // dot above (230) then dot below (220)
  u::nfd(q);
  BOOST_TEST((q == std::u32string{U'q', 0x323, 0x307}));
}

BOOST_AUTO_TEST_CASE(full_lowercase_mapping) {
  std::u32string out;
  u::append_lowercase(out, 0x130);  // İ -> i + combining dot above
  u::append_lowercase(out, U'A');
  u::append_lowercase(out, 0x3A3);  // Σ -> σ
  BOOST_TEST((out == std::u32string{U'i', 0x307, U'a', 0x3C3}));
}

BOOST_AUTO_TEST_SUITE_END()
