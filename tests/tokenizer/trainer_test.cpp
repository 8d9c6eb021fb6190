// SPDX-License-Identifier: Apache-2.0
// The WordPiece trainer: a trained vocabulary round-trips through vocab.txt and tokenizes its own
// corpus without [UNK] for any seen character.

#include "tiny.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/trainer.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace vt = vikcse::testing;

namespace {

std::vector<std::string> corpus() {
  const std::vector<std::string> words = {"the",
                                          "cat",
                                          "sat",
                                          "on",
                                          "mat",
                                          "running",
                                          "runner",
                                          "runs",
                                          "unaffable",
                                          "Caf\xC3\xA9",
                                          "na\xC3\xAFve",
                                          "\xE6\x88\x91\xE7\x88\xB1",
                                          "dogs",
                                          "dog",
                                          "playing",
                                          "played",
                                          "play",
                                          "guitar",
                                          "man",
                                          "woman",
                                          "!",
                                          ",",
                                          "."};
  std::mt19937 rng(7);
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i) {
    std::string line;
    const int n = 3 + static_cast<int>(rng() % 9);
    for (int k = 0; k < n; ++k) {
      if (k) line += ' ';
      line += words[rng() % words.size()];
    }
    lines.push_back(line);
  }
  lines.push_back("zyzzyva qoph");  // rare characters seen once
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trainer)

BOOST_AUTO_TEST_CASE(trained_vocabulary_covers_its_corpus) {
  const auto lines = corpus();
  vikcse::WordPieceTrainerOptions o;
  o.vocab_size = 120;
  const auto vocab = vikcse::train_wordpiece_vocab(lines, o);
  BOOST_TEST_REQUIRE(vocab.size() >= 5u);
  BOOST_TEST((std::vector<std::string>(vocab.begin(), vocab.begin() + 5) == o.special_tokens));
  BOOST_TEST(vocab.size() <= 120u);
  BOOST_TEST((std::find(vocab.begin(), vocab.end(), "##g") != vocab.end()));
  BOOST_TEST((std::find(vocab.begin(), vocab.end(), "the") != vocab.end()));  // frequent words get merged whole

  const auto tok = vikcse::train_wordpiece(lines, o);
  const auto unk = tok.special_tokens().unk;
  BOOST_TEST(unk >= 0);
  std::size_t tokens = 0;
  std::size_t words = 0;
  for (const auto& line : lines) {
    const auto ids = tok.encode(line, false);
    tokens += ids.size();
    words += tok.pre_tokenize(line).size();
    BOOST_TEST((std::find(ids.begin(), ids.end(), unk) == ids.end()), "[UNK] in: " << line);
  }
  BOOST_TEST(tokens < 2 * words);  // merges make most words a single piece
  BOOST_TEST(tok.encode("xylophone", false) == std::vector<std::int64_t>{unk});  // unseen characters

  const auto dir = vt::temp_dir("trainer");
  tok.save(dir);
  const auto back = vikcse::load_tokenizer(dir);
  for (const auto& line : lines) BOOST_TEST(back.encode(line) == tok.encode(line));
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(training_is_deterministic_and_respects_min_frequency) {
  const auto lines = corpus();
  vikcse::WordPieceTrainerOptions o;
  o.vocab_size = 500;
  BOOST_TEST(vikcse::train_wordpiece_vocab(lines, o) == vikcse::train_wordpiece_vocab(lines, o));
  o.min_frequency = 1'000'000;  // no pair is that frequent: specials + alphabet only
  const auto small = vikcse::train_wordpiece_vocab(lines, o);
  for (const auto& t : small) {
    const bool special = t.front() == '[';
    const auto body = t.starts_with("##") ? t.substr(2) : t;
    BOOST_TEST((special || vikcse::detail::unicode::to_u32(body).size() == 1u), t);
  }
  o.vocab_size = 3;
  BOOST_CHECK_THROW(vikcse::train_wordpiece_vocab(lines, o), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cased_training_keeps_case) {
  vikcse::WordPieceTrainerOptions o;
  o.lowercase = false;
  o.vocab_size = 60;
  const auto vocab = vikcse::train_wordpiece_vocab(std::vector<std::string>{"Hello hello HELLO"}, o);
  BOOST_TEST((std::find(vocab.begin(), vocab.end(), "H") != vocab.end()));
  const auto tok = vikcse::train_wordpiece(std::vector<std::string>{"Hello hello HELLO"}, o);
  BOOST_TEST(tok.options().lowercase == false);
}

BOOST_AUTO_TEST_SUITE_END()
