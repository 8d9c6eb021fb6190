// SPDX-License-Identifier: Apache-2.0
// Every code point, our Unicode predicates against Hugging Face's (tests/data/tokenizer/
// unicode_classes.tsv, written by tests/tokenizer/reference/generate_unicode_classes.js).
//
// The two sides do not use the same Unicode version, and this test measures the gap:
//  - Hugging Face's BertNormalizer/BertPreTokenizer classify with the `unicode_categories` crate,
//    whose tables are Unicode 8.0: format characters (Cf), punctuation (P*) and non-spacing marks
//    (Mn) assigned in Unicode 9.0-15.0 (about 570 code points, plus 5 whose category changed) are
//    ordinary characters there, while utf8proc 2.8 (Debian 12) knows them.
//  - Its GPT-2 regex (Oniguruma) and Rust's to_lowercase follow Unicode 16.0: letters, digits
//    and case pairs added in 2024 are still unassigned in utf8proc 2.8.
// The gap is bounded here so that it can only shrink; none of these code points occurs in
// ../shared/data or in the torture set, where ids are identical (reference_test, corpus_test).

#include "fixtures.hpp"

#include <vikcse/tokenizer/detail/unicode.hpp>

#include <fmt/format.h>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

namespace vt = vikcse::testing;
namespace u = vikcse::detail::unicode;

namespace {

std::string hex(const std::u32string& s) {
  if (s.empty()) return "E";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += fmt::format("{}{:x}", i ? "," : "", static_cast<unsigned>(s[i]));
  return out;
}

struct Ours {
  std::string clean, punct, bytelevel, strip, lower;
};

Ours classify(char32_t c) {
  Ours o;
  // (single characters assigned with assign(1, ...): GCC 12 warns falsely on string = "literal")
  o.clean.assign(1, (c == 0 || c == u::replacement_character || u::is_bert_control(c)) ? 'D'
                    : u::is_white_space(c)                                             ? 'W'
                                                                                       : '=');
  o.punct.assign(1, u::is_bert_punctuation(c) ? 'P' : u::is_white_space(c) ? 'S' : '-');
  o.bytelevel.assign(1, u::is_letter(c) ? 'L' : u::is_number(c) ? 'N' : u::is_white_space(c) ? 'S' : 'O');
  std::u32string s(1, c);
  u::nfd(s);
  std::u32string kept;
  for (char32_t k : s) {
    if (!u::is_mark_nonspacing(k)) kept.push_back(k);
  }
  o.strip = kept == std::u32string(1, c) ? "=" : hex(kept);
  std::u32string lowered;
  u::append_lowercase(lowered, c);
  o.lower = lowered == std::u32string(1, c) ? "=" : hex(lowered);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(unicode_sweep)

BOOST_AUTO_TEST_CASE(every_code_point_against_hugging_face) {
  // Upper bounds of the version gap described above, measured with utf8proc 2.8 (Unicode 15.0).
  const std::map<std::string, std::size_t> bound = {
      {"clean", 20}, {"punct", 129}, {"bytelevel", 5004}, {"strip", 421}, {"lower", 55}};
  std::map<std::string, std::size_t> diff;
  std::map<std::string, std::vector<std::string>> examples;
  std::size_t checked = 0;
  for (const auto& line : vt::read_lines(vt::tokenizer_fixture_dir() / "unicode_classes.tsv")) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::size_t start = 0;
    for (;;) {
      const auto end = line.find('\t', start);
      f.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    BOOST_TEST_REQUIRE(f.size() == 7u, "malformed line: " << line);
    const auto first = static_cast<char32_t>(std::stoul(f[0], nullptr, 16));
    const auto last = static_cast<char32_t>(std::stoul(f[1], nullptr, 16));
    for (char32_t c = first; c <= last; ++c) {
      const Ours o = classify(c);
      const std::pair<const char*, const std::string*> ours[] = {{"clean", &o.clean},
                                                                 {"punct", &o.punct},
                                                                 {"bytelevel", &o.bytelevel},
                                                                 {"strip", &o.strip},
                                                                 {"lower", &o.lower}};
      for (std::size_t k = 0; k < 5; ++k) {
        if (*ours[k].second != f[k + 2]) {
          ++diff[ours[k].first];
          if (examples[ours[k].first].size() < 6) {
            examples[ours[k].first].push_back(
                fmt::format("U+{:04X} hf={} ours={}", static_cast<unsigned>(c), f[k + 2], *ours[k].second));
          }
        }
      }
      ++checked;
    }
  }
  BOOST_TEST(checked == 0x110000u - 0x800u);  // every code point but the surrogates
  BOOST_TEST_MESSAGE(fmt::format("{} code points checked (utf8proc {}, Unicode {})", checked, utf8proc_version(),
                                 utf8proc_unicode_version()));
  for (const auto& [name, limit] : bound) {
    BOOST_TEST_MESSAGE(fmt::format("  {:<9} {:>5} code points differ from Hugging Face (bound {}){}{}", name,
                                   diff[name], limit, diff[name] ? ", e.g. " : "", fmt::join(examples[name], "; ")));
    BOOST_TEST(diff[name] <= limit, name << ": " << diff[name] << " code points differ, more than the known " << limit);
  }
}

BOOST_AUTO_TEST_SUITE_END()
