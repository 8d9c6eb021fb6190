// SPDX-License-Identifier: Apache-2.0
// Our tokenizers against Hugging Face's (npm `tokenizers`, see tests/tokenizer/reference) on the
// hand-made torture set: ids, pairs, decode, truncation. Needs ../shared/data (DATA test).

#include "fixtures.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/encoding.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace vt = vikcse::testing;

namespace {

const std::vector<std::string>& torture() {
  static const auto lines = vt::read_lines(vt::tokenizer_fixture_dir() / "torture.txt");
  return lines;
}

const nlohmann::json& reference() {
  static const auto j = vikcse::detail::read_json_file(vt::tokenizer_fixture_dir() / "reference_cases.json");
  return j;
}

const vikcse::WordPieceTokenizer& bert() {
  static const auto tok = vikcse::WordPieceTokenizer::from_directory(vt::shared_tokenizer_dir("bert-base-uncased"));
  return tok;
}

const vikcse::ByteLevelBpeTokenizer& roberta() {
  static const auto tok = vikcse::ByteLevelBpeTokenizer::from_directory(vt::shared_tokenizer_dir("roberta-base"));
  return tok;
}

const vikcse::ByteLevelBpeTokenizer& clip() {
  static const auto tok = vikcse::ByteLevelBpeTokenizer::from_directory(vt::shared_clip_dir());
  return tok;
}

const vikcse::ByteLevelBpeTokenizer& clip_legacy() {
  static const auto tok =
      vikcse::ByteLevelBpeTokenizer::from_tokenizer_json(vt::shared_clip_dir(/*legacy=*/true) / "tokenizer.json");
  return tok;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 120)) {
    if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + (s.size() > 120 ? "..." : "");
}

template <typename Tok>
void check_torture_ids(const Tok& tok, const std::string& name) {
  const auto expected = vt::read_lines(vt::tokenizer_fixture_dir() / ("torture." + name + ".ids"));
  BOOST_TEST_REQUIRE(expected.size() == torture().size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < torture().size(); ++i) {
    const auto got = vt::join_ids(tok.encode(torture()[i]));
    if (got != expected[i]) {
      ++mismatches;
      BOOST_ERROR(fmt::format("{} torture line {} '{}':\n  hf:   {}\n  ours: {}", name, i + 1, printable(torture()[i]),
                              expected[i].substr(0, 300), got.substr(0, 300)));
    }
  }
  BOOST_TEST_MESSAGE(fmt::format("{}: torture set {} lines, {} mismatches", name, torture().size(), mismatches));
  BOOST_TEST(mismatches == 0u);
}

template <typename Tok>
void check_cases(const Tok& tok, const std::string& name) {
  const auto& rec = reference()["cases"][name];
  const auto expected_ids = vt::read_lines(vt::tokenizer_fixture_dir() / ("torture." + name + ".ids"));
  for (std::size_t i = 0; i < torture().size(); ++i) {
    const auto ids = vt::parse_ids(expected_ids[i]);
    BOOST_TEST(tok.decode(ids, true) == rec["decode"][i].get<std::string>(), name << " decode line " << i + 1);
    BOOST_TEST(tok.decode(ids, false) == rec["decode_with_special"][i].get<std::string>(),
               name << " decode with special line " << i + 1);
  }
  for (const auto& p : rec["pairs"]) {
    std::vector<std::int64_t> types;
    const auto ids =
        tok.encode_pair(torture()[p["a"].get<std::size_t>()], torture()[p["b"].get<std::size_t>()], &types);
    BOOST_TEST(ids == p["ids"].get<std::vector<std::int64_t>>(), name << " pair " << p["a"]);
    BOOST_TEST(types == p["type_ids"].get<std::vector<std::int64_t>>(), name << " pair types " << p["a"]);
  }
  const auto max_length = reference()["max_length"].get<std::size_t>();
  vikcse::BatchEncodingOptions options;
  options.max_length = max_length;
  options.truncation = vikcse::Truncation::whole_sequence;
  for (std::size_t i = 0; i < torture().size(); ++i) {
    const auto ids = vikcse::encode_truncated(tok, torture()[i], options);
    BOOST_TEST(ids == rec["truncated"][i].get<std::vector<std::int64_t>>(), name << " truncated line " << i + 1);
  }
  for (const auto& p : rec["truncated_pairs"]) {
    std::vector<std::int64_t> types;
    const auto ids = vikcse::encode_pair_truncated(tok, torture()[p["a"].get<std::size_t>()],
                                                   torture()[p["b"].get<std::size_t>()], options, &types);
    BOOST_TEST(ids == p["ids"].get<std::vector<std::int64_t>>(), name << " truncated pair " << p["a"]);
    BOOST_TEST(types == p["type_ids"].get<std::vector<std::int64_t>>(), name << " truncated pair types " << p["a"]);
  }
  for (const auto& p : rec["truncated_grid"]) {
    std::vector<std::int64_t> types;
    const auto a = p["a"].get<std::string>();
    const auto b = p["b"].get<std::string>();
    const auto ids = vikcse::encode_pair_truncated(tok, a, b, options, &types);
    BOOST_TEST(ids == p["ids"].get<std::vector<std::int64_t>>(),
               name << " truncated pair '" << a << "' / '" << b << "'");
    BOOST_TEST(types == p["type_ids"].get<std::vector<std::int64_t>>(), name << " truncated pair types '" << a << "'");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference)

BOOST_AUTO_TEST_CASE(bert_torture_ids) { check_torture_ids(bert(), "bert"); }
BOOST_AUTO_TEST_CASE(roberta_torture_ids) { check_torture_ids(roberta(), "roberta"); }
BOOST_AUTO_TEST_CASE(bert_pairs_decode_truncation) { check_cases(bert(), "bert"); }
BOOST_AUTO_TEST_CASE(roberta_pairs_decode_truncation) { check_cases(roberta(), "roberta"); }

BOOST_AUTO_TEST_CASE(clip_torture_ids) { check_torture_ids(clip(), "clip"); }
BOOST_AUTO_TEST_CASE(clip_legacy_torture_ids) { check_torture_ids(clip_legacy(), "clip_legacy"); }
BOOST_AUTO_TEST_CASE(clip_pairs_decode_truncation) { check_cases(clip(), "clip"); }
BOOST_AUTO_TEST_CASE(clip_legacy_pairs_decode_truncation) { check_cases(clip_legacy(), "clip_legacy"); }

BOOST_AUTO_TEST_CASE(clip_vocab_json_and_merges_txt_give_the_same_ids) {
  // The same model from vocab.json + merges.txt, CLIP's settings taken from tokenizer_config.json's class.
  const auto dir = vt::shared_clip_dir();
  const auto opts = vikcse::ByteLevelBpeOptions::clip();
  const auto from_files = vikcse::ByteLevelBpeTokenizer::from_files(dir / "vocab.json", dir / "merges.txt", opts);
  BOOST_TEST((from_files.special_tokens() == clip().special_tokens()));
  for (const auto& line : torture()) BOOST_TEST(from_files.encode(line) == clip().encode(line));
  const auto tmp = std::filesystem::temp_directory_path() / ("vikcse-clip-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json"}) std::filesystem::copy(dir / f, tmp / f);
  const auto from_dir = vikcse::load_tokenizer(tmp);
  // ... and what save() writes loads back the same (tokenizer_class CLIPTokenizer, no mask token).
  const auto saved = tmp / "saved";
  from_files.save(saved);
  const auto reloaded = vikcse::load_tokenizer(saved);
  std::filesystem::remove_all(tmp);
  BOOST_TEST((reloaded.special_tokens() == clip().special_tokens()));
  for (const auto& line : torture()) {
    BOOST_TEST(from_dir.encode(line) == clip().encode(line));
    BOOST_TEST(reloaded.encode(line) == clip().encode(line));
  }
}

BOOST_AUTO_TEST_CASE(clip_special_tokens_and_padding_to_77) {
  const auto& s = clip().special_tokens();
  BOOST_TEST(s.bos() == 49406);
  BOOST_TEST(s.eos() == 49407);
  BOOST_TEST(s.pad == 49407);  // padding is <|endoftext|>
  BOOST_TEST(s.unk == 49407);
  BOOST_TEST(s.mask == -1);
  BOOST_TEST(clip().vocab_size() == 49408);
  // Truncation keeps the frame: 75 word ids between <|startoftext|> and <|endoftext|>.
  vikcse::BatchEncodingOptions o;
  o.max_length = 77;
  o.padding = vikcse::Padding::max_length;
  const std::vector<std::string> texts{std::string(300, '7'), "a photo of a cat"};
  const auto batch = vikcse::encode_batch(clip(), texts, o);
  BOOST_TEST_REQUIRE(batch.cols == 77);
  const auto row0 = batch.ids(0);
  BOOST_TEST(row0.front() == 49406);
  BOOST_TEST(row0.back() == 49407);
  BOOST_TEST(std::count(row0.begin(), row0.end(), *clip().token_to_id("7</w>")) == 75);
  const auto row1 = batch.ids(1);
  // ids of npm tokenizers 0.23.2 (tests/tokenizer/reference) with setTruncation(77) and pad id 49407
  const std::vector<std::int64_t> cat{49406, 320, 1125, 539, 320, 2368, 49407};
  BOOST_TEST(std::vector<std::int64_t>(row1.begin(), row1.begin() + 7) == cat, boost::test_tools::per_element());
  BOOST_TEST(std::all_of(row1.begin() + 7, row1.end(), [](std::int64_t id) { return id == 49407; }));
}

BOOST_AUTO_TEST_CASE(vocab_txt_and_tokenizer_json_agree) {
  // bert-base-uncased ships both; loading either must give the same ids.
  const auto from_vocab =
      vikcse::WordPieceTokenizer::from_vocab_file(vt::shared_tokenizer_dir("bert-base-uncased") / "vocab.txt");
  const auto from_json =
      vikcse::WordPieceTokenizer::from_tokenizer_json(vt::shared_tokenizer_dir("bert-base-uncased") / "tokenizer.json");
  for (const auto& line : torture()) BOOST_TEST(from_vocab.encode(line) == from_json.encode(line));
  BOOST_TEST((from_vocab.special_tokens() == from_json.special_tokens()));
}

BOOST_AUTO_TEST_CASE(special_tokens_resolved_by_string) {
  const auto& b = bert().special_tokens();
  BOOST_TEST(b.cls == *bert().token_to_id("[CLS]"));
  BOOST_TEST(b.sep == *bert().token_to_id("[SEP]"));
  BOOST_TEST(b.pad == *bert().token_to_id("[PAD]"));
  BOOST_TEST(b.mask == *bert().token_to_id("[MASK]"));
  BOOST_TEST(b.unk == *bert().token_to_id("[UNK]"));
  const auto& r = roberta().special_tokens();
  BOOST_TEST(r.bos() == *roberta().token_to_id("<s>"));
  BOOST_TEST(r.eos() == *roberta().token_to_id("</s>"));
  BOOST_TEST(r.pad == *roberta().token_to_id("<pad>"));
  BOOST_TEST(r.mask == *roberta().token_to_id("<mask>"));
  BOOST_TEST(r.unk == *roberta().token_to_id("<unk>"));
  BOOST_TEST(bert().vocab_size() == 30522);
  BOOST_TEST(roberta().vocab_size() == 50265);
}

BOOST_AUTO_TEST_CASE(roberta_tokenizer_json_gives_the_same_ids) {
  // roberta-base's tokenizer.json layout (as tests/tokenizer/reference/hf_tokenizers.js builds it),
  // with the merges in the newer [left, right] form.
  const auto src = vt::shared_tokenizer_dir("roberta-base");
  const auto vocab = vikcse::detail::read_json_file(src / "vocab.json");
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : vikcse::ByteLevelBpeTokenizer::read_merges(src / "merges.txt")) merges.push_back({a, b});
  auto special = [&](const char* content, bool lstrip) {
    return nlohmann::json{{"id", vocab[content]}, {"content", content},  {"single_word", false}, {"lstrip", lstrip},
                          {"rstrip", false},      {"normalized", false}, {"special", true}};
  };
  const nlohmann::json j = {
      {"version", "1.0"},
      {"added_tokens",
       {special("<s>", false), special("<pad>", false), special("</s>", false), special("<unk>", false),
        special("<mask>", true)}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "RobertaProcessing"},
        {"sep", {"</s>", vocab["</s>"]}},
        {"cls", {"<s>", vocab["<s>"]}},
        {"trim_offsets", true},
        {"add_prefix_space", false}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", merges}}}};
  const auto dir = std::filesystem::temp_directory_path() / ("vikcse-roberta-json-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "tokenizer.json") << j.dump(); }
  const auto tok = vikcse::load_tokenizer(dir);
  std::filesystem::remove_all(dir);
  BOOST_TEST((tok.kind() == vikcse::TokenizerKind::byte_level_bpe));
  BOOST_TEST((tok.special_tokens() == roberta().special_tokens()));
  for (const auto& line : torture()) BOOST_TEST(tok.encode(line) == roberta().encode(line));
}

BOOST_AUTO_TEST_CASE(auto_tokenizer_picks_by_files) {
  const auto b = vikcse::load_tokenizer(vt::shared_tokenizer_dir("bert-base-uncased"));
  const auto r = vikcse::load_tokenizer(vt::shared_tokenizer_dir("roberta-base"));
  BOOST_TEST((b.kind() == vikcse::TokenizerKind::wordpiece));
  BOOST_TEST((r.kind() == vikcse::TokenizerKind::byte_level_bpe));
  for (const auto& line : torture()) {
    BOOST_TEST(b.encode(line) == bert().encode(line));
    BOOST_TEST(r.encode(line) == roberta().encode(line));
  }
}

BOOST_AUTO_TEST_SUITE_END()
