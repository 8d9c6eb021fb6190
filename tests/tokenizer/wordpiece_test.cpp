// SPDX-License-Identifier: Apache-2.0
// WordPiece on a tiny vocabulary: BERT's rules, special tokens by string, decode, save/load, errors.

#include "fixtures.hpp"
#include "tiny.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace vt = vikcse::testing;
using Ids = std::vector<std::int64_t>;

namespace {
std::vector<std::string> tokens(const vikcse::WordPieceTokenizer& tok, const Ids& ids) {
  std::vector<std::string> out;
  for (auto id : ids) out.push_back(tok.id_to_token(id));
  return out;
}
using Strings = std::vector<std::string>;
}  // namespace

BOOST_AUTO_TEST_SUITE(wordpiece)

BOOST_AUTO_TEST_CASE(special_tokens_come_from_the_vocabulary) {
  const auto tok = vt::tiny_wordpiece();
  const auto& sp = tok.special_tokens();
  BOOST_TEST(sp.pad == 3);
  BOOST_TEST(sp.unk == 8);
  BOOST_TEST(sp.cls == 9);
  BOOST_TEST(sp.sep == 10);
  BOOST_TEST(sp.mask == 11);
  BOOST_TEST(sp.cls_token == "[CLS]");
  BOOST_TEST(tok.vocab_size() == static_cast<std::int64_t>(vt::tiny_wordpiece_vocab().size()));
}

BOOST_AUTO_TEST_CASE(greedy_longest_match_first_with_continuations) {
  const auto tok = vt::tiny_wordpiece();
  BOOST_TEST((tokens(tok, tok.encode("UNaffable")) == Strings{"[CLS]", "un", "##aff", "##able", "[SEP]"}));
  BOOST_TEST((tokens(tok, tok.encode("running cats", false)) == Strings{"run", "##ning", "cat", "##s"}));
  BOOST_TEST((tokens(tok, tok.encode("abc", false)) == Strings{"a", "##b", "##c"}));
}

BOOST_AUTO_TEST_CASE(unknown_words_and_overlong_words_are_one_unk) {
  const auto tok = vt::tiny_wordpiece();
  BOOST_TEST((tokens(tok, tok.encode("unaffablex hello", false)) == Strings{"[UNK]", "hello"}));
  BOOST_TEST((tokens(tok, tok.encode(std::string(100, 'a'), false)) == Strings{"[UNK]"}));  // "a"+"##a"... missing
  vikcse::WordPieceOptions o;
  o.max_input_chars_per_word = 3;
  const auto short_words = vt::tiny_wordpiece(o);
  BOOST_TEST((tokens(short_words, short_words.encode("abc abcb", false)) == Strings{"a", "##b", "##c", "[UNK]"}));
}

BOOST_AUTO_TEST_CASE(punctuation_accents_cjk_and_control_characters) {
  const auto tok = vt::tiny_wordpiece();
  BOOST_TEST((tokens(tok, tok.encode("hello,world!", false)) == Strings{"hello", ",", "world", "!"}));
  BOOST_TEST((tokens(tok, tok.encode("Caf\xC3\xA9 $", false)) == Strings{"cafe", "$"}));  // é -> e, $ is punctuation
  BOOST_TEST((tokens(tok, tok.encode("a\xE6\x88\x91"
                                     "b",
                                     false)) == Strings{"a", "我", "b"}));
  // NUL, BEL and ZWSP vanish, so "thecat" is one word, and it is not in the vocabulary
  BOOST_TEST(
      (tokens(tok, tok.encode(std::string("the\0cat\x07\xE2\x80\x8B sat", 15), false)) == Strings{"[UNK]", "sat"}));
  BOOST_TEST((tokens(tok, tok.encode(std::string("the\0 cat\xC2\xA0sat", 13), false)) == Strings{"the", "cat", "sat"}));
}

BOOST_AUTO_TEST_CASE(special_tokens_are_never_split_nor_lower_cased) {
  const auto tok = vt::tiny_wordpiece();
  BOOST_TEST((tokens(tok, tok.encode("hello[MASK]world", false)) == Strings{"hello", "[MASK]", "world"}));
  BOOST_TEST((tokens(tok, tok.encode("[mask]", false)) == Strings{"[UNK]", "[UNK]", "[UNK]"}));  // "[", "mask", "]"
  BOOST_TEST((tokens(tok, tok.encode("", true)) == Strings{"[CLS]", "[SEP]"}));
  BOOST_TEST((tokens(tok, tok.encode("  \t ", true)) == Strings{"[CLS]", "[SEP]"}));
}

BOOST_AUTO_TEST_CASE(cased_tokenizer_keeps_case_and_accents) {
  vikcse::WordPieceOptions cased;
  cased.lowercase = false;
  const auto tok = vt::tiny_wordpiece(cased);
  BOOST_TEST((tokens(tok, tok.encode("Hello hello", false)) == Strings{"[UNK]", "hello"}));
  BOOST_TEST((tokens(tok, tok.encode("caf\xC3\xA9", false)) == Strings{"[UNK]"}));
  cased.strip_accents = true;
  const auto stripped = vt::tiny_wordpiece(cased);
  BOOST_TEST((tokens(stripped, stripped.encode("caf\xC3\xA9", false)) == Strings{"cafe"}));
}

BOOST_AUTO_TEST_CASE(pairs_have_token_types) {
  const auto tok = vt::tiny_wordpiece();
  Ids types;
  const auto ids = tok.encode_pair("hello", "the cat", &types);
  BOOST_TEST((tokens(tok, ids) == Strings{"[CLS]", "hello", "[SEP]", "the", "cat", "[SEP]"}));
  BOOST_TEST((types == Ids{0, 0, 0, 1, 1, 1}));
  BOOST_TEST(tok.num_special_tokens(false) == 2u);
  BOOST_TEST(tok.num_special_tokens(true) == 3u);
}

BOOST_AUTO_TEST_CASE(decode_joins_pieces_and_cleans_up) {
  const auto tok = vt::tiny_wordpiece();
  const auto ids = tok.encode("unaffable hello, world!");
  BOOST_TEST(tok.decode(ids, true) == "unaffable hello, world!");
  BOOST_TEST(tok.decode(ids) == tok.decode(ids, false));  // as in transformers, special tokens are kept by default
  BOOST_TEST(tok.decode(ids, false) == "[CLS] unaffable hello, world! [SEP]");
  BOOST_CHECK_THROW(tok.decode(Ids{999}), vikcse::tokenizer_error);
  BOOST_CHECK_THROW(tok.decode(Ids{-1}), vikcse::tokenizer_error);
}

BOOST_AUTO_TEST_CASE(save_then_load_gives_the_same_tokenizer) {
  vikcse::WordPieceOptions cased;
  cased.lowercase = false;
  const auto tok = vt::tiny_wordpiece(cased);
  const auto dir = vt::temp_dir("wordpiece-save");
  tok.save(dir);
  BOOST_TEST(std::filesystem::exists(dir / "vocab.txt"));
  BOOST_TEST(std::filesystem::exists(dir / "tokenizer_config.json"));
  const auto back = vikcse::load_tokenizer(dir);
  BOOST_TEST((back.kind() == vikcse::TokenizerKind::wordpiece));
  for (const char* s : {"Hello, world!", "UNaffable cats", "caf\xC3\xA9 [MASK]", ""}) {
    BOOST_TEST(back.encode(s) == tok.encode(s));
  }
  BOOST_TEST(back.wordpiece()->options().lowercase == false);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    BOOST_TEST(entry.path().string().find(".tmp") == std::string::npos, "temporary file left: " << entry.path());
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_files_fail_with_the_path_in_the_message) {
  const auto dir = vt::temp_dir("wordpiece-bad");
  const auto missing =
      vt::tokenizer_error_message([&] { (void)vikcse::WordPieceTokenizer::from_vocab_file(dir / "nope.txt"); });
  BOOST_TEST(missing.find("nope.txt") != std::string::npos, missing);
  const auto empty_dir = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(empty_dir.find("expected tokenizer.json, vocab.txt, or vocab.json + merges.txt") != std::string::npos,
             empty_dir);
  { std::ofstream(dir / "tokenizer.json") << "{ not json"; }
  const auto bad_json = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(bad_json.find("tokenizer.json") != std::string::npos, bad_json);
  std::filesystem::remove(dir / "tokenizer.json");
  { std::ofstream(dir / "vocab.txt") << "hello\nworld\n"; }
  const auto no_cls = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(no_cls.find("[CLS]") != std::string::npos, no_cls);
  std::filesystem::remove(dir / "vocab.txt");
  // A float id (found by fuzz_tokenizer_files: nlohmann's get<long>() on it is undefined behaviour).
  { std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "WordPiece", "vocab": {"[CLS]": 8.88889e+123}}})"; }
  const auto float_id = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(
      float_id.find("tokenizer.json: the id of '[CLS]' is not an integer: expected an integer") != std::string::npos,
      float_id);
  {
    std::ofstream(dir / "tokenizer.json") << R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, )"
                                             R"("max_input_chars_per_word": -3}})";
  }
  const auto negative = vt::tokenizer_error_message([&] { (void)vikcse::load_tokenizer(dir); });
  BOOST_TEST(negative.find("key 'max_input_chars_per_word': expected an integer in [0, ") != std::string::npos,
             negative);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
