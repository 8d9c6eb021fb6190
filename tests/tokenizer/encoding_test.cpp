// SPDX-License-Identifier: Apache-2.0
// Batch encoding without torch: truncation (whole sequence, sentence only with a prompt
// template), padding, attention masks, pairs, threads, errors.

#include "tiny.hpp"

#include <vikcse/tokenizer/auto_tokenizer.hpp>
#include <vikcse/tokenizer/encoding.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace vt = vikcse::testing;
using Ids = std::vector<std::int64_t>;

static_assert(vikcse::TextTokenizer<vikcse::WordPieceTokenizer>);
static_assert(vikcse::TextTokenizer<vikcse::ByteLevelBpeTokenizer>);
static_assert(vikcse::TextTokenizer<vikcse::AutoTokenizer>);
static_assert(!vikcse::TextTokenizer<std::string>);

BOOST_AUTO_TEST_SUITE(encoding)

BOOST_AUTO_TEST_CASE(whole_sequence_truncation_keeps_the_frame) {
  const auto tok = vt::tiny_wordpiece();
  vikcse::BatchEncodingOptions o;
  o.max_length = 4;
  const auto ids = vikcse::encode_truncated(tok, "the cat sat .", o);
  BOOST_TEST((ids == Ids{tok.special_tokens().cls, *tok.token_to_id("the"), *tok.token_to_id("cat"),
                         tok.special_tokens().sep}));
  o.truncation = vikcse::Truncation::none;
  BOOST_TEST(vikcse::encode_truncated(tok, "the cat sat .", o).size() == 6u);
}

BOOST_AUTO_TEST_CASE(padding_and_attention_mask) {
  const auto tok = vt::tiny_wordpiece();
  const std::vector<std::string> sentences = {"the cat sat", "hello", ""};
  auto batch = vikcse::encode_batch(tok, sentences);
  BOOST_TEST(batch.rows == 3u);
  BOOST_TEST(batch.cols == 5u);
  const auto pad = tok.special_tokens().pad;
  BOOST_TEST((Ids(batch.ids(1).begin(), batch.ids(1).end()) ==
              Ids{tok.special_tokens().cls, *tok.token_to_id("hello"), tok.special_tokens().sep, pad, pad}));
  BOOST_TEST((batch.attention_mask == Ids{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0}));
  BOOST_TEST((batch.lengths == std::vector<std::size_t>{5, 3, 2}));
  vikcse::BatchEncodingOptions fixed;
  fixed.padding = vikcse::Padding::max_length;
  fixed.max_length = 8;
  batch = vikcse::encode_batch(tok, sentences, fixed);
  BOOST_TEST(batch.cols == 8u);
  fixed.truncation = vikcse::Truncation::none;
  fixed.max_length = 4;
  BOOST_CHECK_THROW(vikcse::encode_batch(tok, sentences, fixed), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(pair_batches_have_token_types) {
  const auto tok = vt::tiny_wordpiece();
  const std::vector<std::string> a = {"hello", "the cat"};
  const std::vector<std::string> b = {"the cat sat", "hello"};
  const auto batch = vikcse::encode_pair_batch(tok, a, b);
  BOOST_TEST(batch.cols == 7u);  // [CLS] hello [SEP] the cat sat [SEP]
  BOOST_TEST((batch.token_type_ids == Ids{0, 0, 0, 1, 1, 1, 1, /**/ 0, 0, 0, 0, 1, 1, 0}));
  BOOST_TEST((batch.attention_mask == Ids{1, 1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 1, 1, 0}));
  BOOST_CHECK_THROW(vikcse::encode_pair_batch(tok, a, std::vector<std::string>{"x"}), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(threads_give_the_same_batch) {
  const auto tok = vt::tiny_bpe();
  std::vector<std::string> sentences;
  for (int i = 0; i < 500; ++i)
    sentences.push_back(std::string(static_cast<std::size_t>(i % 17), 'h') + " hello world");
  vikcse::BatchEncodingOptions one;
  vikcse::BatchEncodingOptions four;
  four.threads = 4;
  const auto a = vikcse::encode_batch(tok, sentences, one);
  const auto b = vikcse::encode_batch(tok, sentences, four);
  BOOST_TEST(a.input_ids == b.input_ids);
  BOOST_TEST(a.attention_mask == b.attention_mask);
}

BOOST_AUTO_TEST_CASE(padding_without_a_pad_token_fails) {
  auto vocab = vt::tiny_wordpiece_vocab();
  vocab[3] = "pad-less";  // no [PAD] any more
  const vikcse::WordPieceTokenizer tok(vocab);
  BOOST_TEST(tok.special_tokens().pad == -1);
  BOOST_CHECK_THROW(vikcse::encode_batch(tok, std::vector<std::string>{"hello", "the cat"}), vikcse::tokenizer_error);
  BOOST_CHECK_NO_THROW(vikcse::encode_batch(tok, std::vector<std::string>{"hello", "cat"}));  // equal lengths
}

BOOST_AUTO_TEST_SUITE_END()
