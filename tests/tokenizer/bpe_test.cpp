// SPDX-License-Identifier: Apache-2.0
// Byte-level BPE on a tiny vocabulary: GPT-2 pre-tokenization, merges, <mask> lstrip, framing,
// byte-exact decode, save/load and errors; CLIP's split, normalizer and end-of-word suffix, and
// the tokenizer.json settings this family refuses.

#include "fixtures.hpp"
#include "tiny.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace vt = vikcse::testing;
using Ids = std::vector<std::int64_t>;
using Strings = std::vector<std::string>;

namespace {

Strings tokens(const vikcse::ByteLevelBpeTokenizer& tok, const Ids& ids) {
  Strings out;
  for (auto id : ids) out.push_back(tok.id_to_token(id));
  return out;
}

Strings split(std::string_view text) {
  const auto chars = vikcse::detail::unicode::to_u32(text);
  Strings out;
  vikcse::detail::gpt2_split(chars, [&](std::size_t b, std::size_t e) {
    out.push_back(vikcse::detail::unicode::to_utf8(std::u32string_view(chars).substr(b, e - b)));
  });
  return out;
}

Strings clip_split(std::string_view text) {
  const auto chars = vikcse::detail::unicode::to_u32(text);
  Strings out;
  vikcse::detail::clip_split(chars, [&](std::size_t b, std::size_t e) {
    out.push_back(vikcse::detail::unicode::to_utf8(std::u32string_view(chars).substr(b, e - b)));
  });
  return out;
}

/// A CLIP-style tokenizer.json over a tiny vocabulary, with its normalizer and pre-tokenizer
/// replaced by `normalizer` and `pre` when given.
nlohmann::json tiny_clip_json(const nlohmann::json& normalizer, const nlohmann::json& pre) {
  nlohmann::json vocab = nlohmann::json::object();
  std::int64_t next = 0;
  for (const char* t : {"a", "b", "c", "a</w>", "b</w>", "c</w>", "ab", "ab</w>", "<|startoftext|>", "<|endoftext|>"}) {
    vocab[t] = next++;
  }
  return {{"normalizer", normalizer},
          {"pre_tokenizer", pre},
          {"post_processor", {{"type", "RobertaProcessing"}, {"sep", {"<|endoftext|>", 9}}, {"cls", {"<|startoftext|>", 8}}}},
          {"added_tokens",
           {{{"id", 8}, {"content", "<|startoftext|>"}, {"special", true}, {"normalized", true}},
            {{"id", 9}, {"content", "<|endoftext|>"}, {"special", true}, {"normalized", false}}}},
          {"model",
           {{"type", "BPE"},
            {"unk_token", "<|endoftext|>"},
            {"end_of_word_suffix", "</w>"},
            {"vocab", vocab},
            {"merges", nlohmann::json::array({nlohmann::json::array({"a", "b"}), nlohmann::json::array({"a", "b</w>"})})}}}};
}

const nlohmann::json clip_normalizer = {
    {"type", "Sequence"},
    {"normalizers",
     {{{"type", "NFC"}}, {{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}}, {{"type", "Lowercase"}}}}};
const nlohmann::json clip_pre = {
    {"type", "Sequence"},
    {"pretokenizers",
     {{{"type", "Split"},
       {"pattern",
        {{"Regex", "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"}}},
       {"behavior", "Removed"},
       {"invert", true}},
      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};

vikcse::ByteLevelBpeTokenizer load_json(const nlohmann::json& j, const std::string& name) {
  const auto dir = vt::temp_dir(name);
  { std::ofstream(dir / "tokenizer.json") << j.dump(); }
  auto tok = vikcse::ByteLevelBpeTokenizer::from_tokenizer_json(dir / "tokenizer.json");
  std::filesystem::remove_all(dir);
  return tok;
}

const std::string G = "\xC4\xA0";  // Ġ, the byte symbol of ' '

}  // namespace

BOOST_AUTO_TEST_SUITE(byte_level_bpe)

BOOST_AUTO_TEST_CASE(gpt2_pre_tokenization) {
  BOOST_TEST((split("I'm  going!!  ") == Strings{"I", "'m", " ", " going", "!!", "  "}));
  BOOST_TEST((split("don't 'S x'll") == Strings{"don", "'t", " '", "S", " x", "'ll"}));
  BOOST_TEST((split("abc123 45!? \xC3\xA9t\xC3\xA9") == Strings{"abc", "123", " 45", "!?", " \xC3\xA9t\xC3\xA9"}));
  BOOST_TEST((split("a\tb") == Strings{"a", "\t", "b"}));
  BOOST_TEST((split(" ") == Strings{" "}));
}

BOOST_AUTO_TEST_CASE(merges_lowest_rank_first) {
  const auto tok = vt::tiny_bpe();
  BOOST_TEST((tokens(tok, tok.encode("hello world", false)) == Strings{"hello", G + "world"}));
  BOOST_TEST((tokens(tok, tok.encode("Hello", false)) == Strings{"H", "e", "ll", "o"}));
  BOOST_TEST((tokens(tok, tok.encode("hello hello", false)) == Strings{"hello", G + "hello"}));
}

BOOST_AUTO_TEST_CASE(framing_and_special_tokens_from_the_vocabulary) {
  const auto tok = vt::tiny_bpe();
  const auto& sp = tok.special_tokens();
  BOOST_TEST(sp.bos() == *tok.token_to_id("<s>"));
  BOOST_TEST(sp.eos() == *tok.token_to_id("</s>"));
  BOOST_TEST(sp.pad == *tok.token_to_id("<pad>"));
  BOOST_TEST(sp.mask == *tok.token_to_id("<mask>"));
  BOOST_TEST((tokens(tok, tok.encode("hello")) == Strings{"<s>", "hello", "</s>"}));
  BOOST_TEST((tokens(tok, tok.encode("")) == Strings{"<s>", "</s>"}));
  Ids types;
  BOOST_TEST((tokens(tok, tok.encode_pair("hello", "world", &types)) ==
              Strings{"<s>", "hello", "</s>", "</s>", "w", "or", "l", "d", "</s>"}));
  BOOST_TEST((types == Ids(9, 0)));
}

BOOST_AUTO_TEST_CASE(mask_swallows_the_space_before_it) {
  const auto tok = vt::tiny_bpe();
  BOOST_TEST((tokens(tok, tok.encode("hello   <mask> world", false)) == Strings{"hello", "<mask>", G + "world"}));
  BOOST_TEST((tokens(tok, tok.encode("hello<mask>", false)) == Strings{"hello", "<mask>"}));
  BOOST_TEST((tokens(tok, tok.encode("hello <s>", false)) == Strings{"hello", G, "<s>"}));  // <s> has no lstrip
}

BOOST_AUTO_TEST_CASE(add_prefix_space) {
  vikcse::ByteLevelBpeOptions o;
  o.add_prefix_space = true;
  const auto tok = vt::tiny_bpe(o);
  BOOST_TEST((tokens(tok, tok.encode("hello", false)) == Strings{G + "hello"}));
  BOOST_TEST((tokens(tok, tok.encode(" hello", false)) == Strings{G + "hello"}));
}

BOOST_AUTO_TEST_CASE(decode_is_byte_exact) {
  const auto tok = vt::tiny_bpe();
  for (const char* s : {"hello world", "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80", "  spaces  \t", ""}) {
    BOOST_TEST(tok.decode(tok.encode(s), true) == s);
  }
  BOOST_TEST(tok.decode(tok.encode("hello <mask>"), false) == "<s>hello<mask></s>");
  // An invalid byte is U+FFFD on the way in, so it decodes as U+FFFD.
  BOOST_TEST(tok.encode("\xFF", false).size() == 3u);
  BOOST_TEST(tok.decode(tok.encode("a\xFF"), true) == "a\xEF\xBF\xBD");
  // Ids that spell half a character decode to U+FFFD, not to invalid UTF-8.
  const Ids half = {*tok.token_to_id(vikcse::detail::unicode::to_utf8(vikcse::detail::bytes_to_unicode()[0xC3]))};
  BOOST_TEST(tok.decode(half) == "\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(save_then_load_gives_the_same_tokenizer) {
  const auto tok = vt::tiny_bpe();
  const auto dir = vt::temp_dir("bpe-save");
  tok.save(dir);
  const auto back = vikcse::load_tokenizer(dir);
  BOOST_TEST((back.kind() == vikcse::TokenizerKind::byte_level_bpe));
  for (const char* s : {"hello world", "Hello <mask>!", "h\xC3\xA9llo \xF0\x9F\x98\x80", ""}) {
    BOOST_TEST(back.encode(s) == tok.encode(s));
  }
  BOOST_TEST(back.byte_level_bpe()->num_merges() == tok.num_merges());
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(clip_split_drops_whitespace_and_cuts_digits) {
  BOOST_TEST(clip_split("a photo  of 2026!") == (Strings{"a", "photo", "of", "2", "0", "2", "6", "!"}),
             boost::test_tools::per_element());
  // apostrophe forms first; other symbols run together, apostrophes included
  BOOST_TEST(clip_split("it's they're !'s '''") == (Strings{"it", "'s", "they", "'re", "!'", "s", "'''"}),
             boost::test_tools::per_element());
  BOOST_TEST(clip_split(" \t ").empty());
}

BOOST_AUTO_TEST_CASE(clip_normalizer_suffix_and_merges) {
  const auto tok = load_json(tiny_clip_json(clip_normalizer, clip_pre), "bpe-clip");
  BOOST_TEST((tok.options().split == vikcse::ByteLevelSplit::clip));
  BOOST_TEST(tok.options().end_of_word_suffix == "</w>");
  // "AB  abc" normalizes to "ab abc": the word "ab" is a b</w>, merged by the second rule into
  // ab</w>; "abc" is a b c</w>, merged by the first rule into ab c</w>.
  BOOST_TEST(tokens(tok, tok.encode("AB  abc", false)) == (Strings{"ab</w>", "ab", "c</w>"}),
             boost::test_tools::per_element());
  // <|startoftext|> is matched after normalization (upper case works), <|endoftext|> before it
  BOOST_TEST(tok.encode("<|STARTOFTEXT|>a", false) == (Ids{8, 3}), boost::test_tools::per_element());
  BOOST_TEST(tok.encode("<|ENDOFTEXT|>", false).size() > 1u);  // each byte unknown, not the special token
  BOOST_TEST(tok.encode("b") == (Ids{8, 4, 9}), boost::test_tools::per_element());
  // a byte outside the vocabulary becomes the model's unknown token
  BOOST_TEST(tok.encode("d", false) == (Ids{9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(tokenizer_json_settings_outside_the_family_are_refused) {
  auto bad = [](const nlohmann::json& j) {
    return vt::tokenizer_error_message([&] { (void)load_json(j, "bpe-clip-bad"); });
  };
  auto out_of_order = clip_normalizer;
  std::swap(out_of_order["normalizers"][0], out_of_order["normalizers"][2]);
  auto m = bad(tiny_clip_json(out_of_order, clip_pre));
  BOOST_TEST(m.find("normalizer '{\"content\":\" \",\"pattern\":{\"Regex\":\"\\\\s+\"},\"type\":\"Replace\"}' is not "
                     "supported by ByteLevelBpeTokenizer (expected null, or NFC, Replace") != std::string::npos,
             m);
  m = bad(tiny_clip_json({{"type", "NFKC"}}, clip_pre));
  BOOST_TEST(m.find("normalizer '{\"type\":\"NFKC\"}' is not supported by ByteLevelBpeTokenizer") != std::string::npos,
             m);
  auto other_split = clip_pre;
  other_split["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  m = bad(tiny_clip_json(clip_normalizer, other_split));
  BOOST_TEST(m.find("needs a ByteLevel pre_tokenizer with use_regex, alone or after CLIP's Split; found") !=
                 std::string::npos,
             m);
  auto prefix = tiny_clip_json(clip_normalizer, clip_pre);
  prefix["model"]["continuing_subword_prefix"] = "##";
  m = bad(prefix);
  BOOST_TEST(m.find("model.continuing_subword_prefix '##' is not supported") != std::string::npos, m);
}

BOOST_AUTO_TEST_CASE(bad_files_fail_clearly) {
  const auto dir = vt::temp_dir("bpe-bad");
  { std::ofstream(dir / "vocab.json") << R"({"a": 0, "b": 1, "ab": 2})"; }
  { std::ofstream(dir / "merges.txt") << "#version: 0.2\na b\na b c\n"; }
  auto m = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(m.find("merges.txt' line 3") != std::string::npos, m);
  { std::ofstream(dir / "merges.txt") << "a x\n"; }
  m = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(m.find("merge 1 'a x'") != std::string::npos, m);
  { std::ofstream(dir / "vocab.json") << R"({"a": "zero"})"; }
  m = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(m.find("the id of 'a' is not an integer") != std::string::npos, m);
  { std::ofstream(dir / "vocab.json") << R"({"a": 1e300})"; }
  m = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(m.find("the id of 'a' is not an integer: expected an integer in") != std::string::npos, m);
  { std::ofstream(dir / "vocab.json") << R"({"a": 0, "b": 0})"; }
  { std::ofstream(dir / "merges.txt") << ""; }
  m = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(m.find("id 0 is given to both") != std::string::npos, m);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
