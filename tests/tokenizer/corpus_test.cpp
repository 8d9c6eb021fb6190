// SPDX-License-Identifier: Apache-2.0
// Zero mismatches against Hugging Face on every sentence of ../shared/data, both tokenizers.
//
// How this is checked without committing every reference id (~9 million ids, tens of MB):
// tests/tokenizer/reference/generate_fixtures.js ran Hugging Face's tokenizers (npm `tokenizers`)
// over every sentence of the files listed in tests/data/tokenizer/sources.tsv and committed, per
// tokenizer and file, the sentence count, the token count and one FNV-1a-64 digest per block of
// 512 sentences of the id lines ("101 7592 102\n" per sentence: special tokens included, no
// padding). This test extracts the same sentences by the same rules, encodes them, and compares
// counts and every block digest. A block digest differs when any id of its 512 sentences does
// (64-bit digests: an accidental collision has probability ~2^-64 per block); the failure names
// the file and block and prints our ids for its first sentences, and
// `node generate_fixtures.js` in tests/tokenizer/reference regenerates Hugging Face's side.

#include "fixtures.hpp"

#include <vikcse/tokenizer/byte_level_bpe.hpp>
#include <vikcse/tokenizer/wordpiece.hpp>

#include <fmt/format.h>
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vt = vikcse::testing;

namespace {

struct Source {
  std::string path;
  bool header = false;
  std::string rule;
};

struct Expected {
  std::size_t sentences = 0;
  std::size_t tokens = 0;
  std::vector<std::string> blocks;
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::vector<Source> read_sources() {
  std::vector<Source> sources;
  for (const auto& line : vt::read_lines(vt::tokenizer_fixture_dir() / "sources.tsv")) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    BOOST_TEST_REQUIRE(f.size() == 3u, "malformed sources.tsv line: " << line);
    sources.push_back({std::string(f[0]), f[1] == "1", std::string(f[2])});
  }
  return sources;
}

std::map<std::pair<std::string, std::string>, Expected> read_digests() {
  std::map<std::pair<std::string, std::string>, Expected> out;
  for (const auto& line : vt::read_lines(vt::tokenizer_fixture_dir() / "corpus_digests.tsv")) {
    if (line.empty() || line[0] == '#') continue;
    const auto f = split(line, '\t');
    BOOST_TEST_REQUIRE(f.size() == 5u, "malformed corpus_digests.tsv line");
    Expected e;
    e.sentences = std::stoul(std::string(f[2]));
    e.tokens = std::stoul(std::string(f[3]));
    for (auto b : split(f[4], ',')) e.blocks.emplace_back(b);
    out[{std::string(f[0]), std::string(f[1])}] = std::move(e);
  }
  return out;
}

/// The sentences of one file, by the rules of tests/tokenizer/reference/sources.js.
std::vector<std::string_view> extract(const std::string& bytes, const Source& s) {
  std::vector<std::string_view> out;
  const auto lines = vikcse::detail::split_lines(bytes);
  std::vector<std::size_t> cols;
  if (s.rule.starts_with("fields:")) {
    for (auto c : split(std::string_view(s.rule).substr(7), ',')) cols.push_back(std::stoul(std::string(c)));
  } else {
    BOOST_TEST_REQUIRE((s.rule == "line" || s.rule == "after_space"), "unknown rule " << s.rule);
  }
  for (std::size_t i = s.header ? 1 : 0; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (s.rule == "line") {
      out.push_back(line);
    } else if (s.rule == "after_space") {
      const auto sp = line.find(' ');
      out.push_back(sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1));
    } else {
      const auto fields = split(line, '\t');
      for (auto c : cols) {
        if (c < fields.size()) out.push_back(fields[c]);
      }
    }
  }
  return out;
}

struct Fnv {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  }
};

template <typename Tok>
void check_corpus(const Tok& tok, const std::string& name) {
  const auto sources = read_sources();
  const auto digests = read_digests();
  const auto data = vt::data_dir();
  std::size_t total_sentences = 0;
  std::size_t total_tokens = 0;
  std::size_t bad_blocks = 0;
  std::size_t files = 0;
  for (const auto& s : sources) {
    const auto it = digests.find({name, s.path});
    BOOST_TEST_REQUIRE((it != digests.end()), "no digest for " << name << " " << s.path);
    const Expected& e = it->second;
    const std::string bytes = vikcse::detail::read_file_bytes(data / s.path);
    const auto sentences = extract(bytes, s);
    BOOST_TEST(sentences.size() == e.sentences, s.path << ": sentence count");
    std::size_t tokens = 0;
    std::size_t file_bad = 0;
    std::string line;
    for (std::size_t block = 0; block * 512 < sentences.size(); ++block) {
      Fnv fnv;
      const std::size_t end = std::min(sentences.size(), (block + 1) * 512);
      for (std::size_t i = block * 512; i < end; ++i) {
        const auto ids = tok.encode(sentences[i]);
        tokens += ids.size();
        line = vt::join_ids(ids);
        line += '\n';
        fnv.add(line);
      }
      const std::string got = fmt::format("{:016x}", fnv.h);
      if (block >= e.blocks.size() || got != e.blocks[block]) {
        ++file_bad;
        std::string shown;
        for (std::size_t i = block * 512; i < std::min(end, block * 512 + 3); ++i) {
          shown += fmt::format("\n  sentence {}: '{}'\n    ours: {}", i + 1, sentences[i],
                               vt::join_ids(tok.encode(sentences[i])));
        }
        BOOST_ERROR(fmt::format("{} {}: block {} (sentences {}..{}) differs from Hugging Face{}", name, s.path, block,
                                block * 512 + 1, end, shown));
      }
    }
    BOOST_TEST(tokens == e.tokens, s.path << ": token count");
    bad_blocks += file_bad;
    total_sentences += sentences.size();
    total_tokens += tokens;
    ++files;
  }
  BOOST_TEST_MESSAGE(
      fmt::format("{}: {} files, {} sentences, {} tokens, {} mismatching blocks of 512 sentences "
                  "against Hugging Face tokenizers",
                  name, files, total_sentences, total_tokens, bad_blocks));
  BOOST_TEST(bad_blocks == 0u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(corpus)

BOOST_AUTO_TEST_CASE(bert_base_uncased_every_sentence) {
  check_corpus(vikcse::WordPieceTokenizer::from_directory(vt::shared_tokenizer_dir("bert-base-uncased")), "bert");
}

BOOST_AUTO_TEST_CASE(roberta_base_every_sentence) {
  check_corpus(vikcse::ByteLevelBpeTokenizer::from_directory(vt::shared_tokenizer_dir("roberta-base")), "roberta");
}

BOOST_AUTO_TEST_CASE(clip_vit_base_patch32_every_sentence) {
  check_corpus(vikcse::ByteLevelBpeTokenizer::from_directory(vt::shared_clip_dir()), "clip");
}

BOOST_AUTO_TEST_SUITE_END()
