// SPDX-License-Identifier: Apache-2.0
// TokenBatch tensors: the one padder (pad_token_rows) and the tokenizer batch calls built on it.

#include "tiny.hpp"

#include <vikcse/tokenizer/batch.hpp>

#include <torch/torch.h>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace vt = vikcse::testing;

BOOST_AUTO_TEST_SUITE(batch)

BOOST_AUTO_TEST_CASE(token_batch_tensors_match_the_encoded_batch) {
  const auto tok = vt::tiny_wordpiece();
  const std::vector<std::string> sentences = {"the cat sat", "hello", ""};
  const auto encoded = vikcse::encode_batch(tok, sentences);
  const auto batch = vikcse::encode_token_batch(tok, sentences);
  BOOST_TEST((batch.input_ids.sizes() == torch::IntArrayRef{3, 5}));
  BOOST_TEST((batch.input_ids.scalar_type() == torch::kLong));
  BOOST_TEST(!batch.position_ids.defined());
  for (std::int64_t i = 0; i < 3; ++i) {
    for (std::int64_t j = 0; j < 5; ++j) {
      const auto k = static_cast<std::size_t>(i * 5 + j);
      BOOST_TEST(batch.input_ids[i][j].item<std::int64_t>() == encoded.input_ids[k]);
      BOOST_TEST(batch.attention_mask[i][j].item<std::int64_t>() == encoded.attention_mask[k]);
    }
  }
  BOOST_TEST(batch.attention_mask.sum().item<std::int64_t>() == 10);
  BOOST_TEST(batch.token_type_ids.sum().item<std::int64_t>() == 0);
}

BOOST_AUTO_TEST_CASE(pair_batch_and_empty_batch) {
  const auto tok = vt::tiny_wordpiece();
  const auto pairs =
      vikcse::encode_token_pair_batch(tok, std::vector<std::string>{"hello"}, std::vector<std::string>{"the cat"});
  BOOST_TEST(pairs.token_type_ids.sum().item<std::int64_t>() == 3);
  const auto empty = vikcse::encode_token_batch(tok, std::vector<std::string>{});
  BOOST_TEST((empty.input_ids.sizes() == torch::IntArrayRef{0, 0}));
}

BOOST_AUTO_TEST_CASE(pad_token_rows_pads_to_the_longest_or_the_given_length) {
  const std::vector<std::vector<std::int64_t>> rows = {{5, 6, 7}, {8}};
  const auto b = vikcse::pad_token_rows(rows, 0);
  BOOST_TEST((b.input_ids.sizes() == torch::IntArrayRef{2, 3}));
  BOOST_TEST((b.input_ids[1].equal(torch::tensor({8, 0, 0}, torch::kLong))));
  BOOST_TEST((b.attention_mask[1].equal(torch::tensor({1, 0, 0}, torch::kLong))));
  const auto wide = vikcse::pad_token_rows(rows, 9, 5);
  BOOST_TEST((wide.input_ids[0].equal(torch::tensor({5, 6, 7, 9, 9}, torch::kLong))));
  const std::vector<std::vector<std::int64_t>> types = {{0, 1, 1}, {0}};
  BOOST_TEST(vikcse::pad_token_rows(rows, 0, 0, &types).token_type_ids.sum().item<std::int64_t>() == 2);
  const std::vector<std::vector<std::int64_t>> short_types = {{0}, {0}};
  BOOST_CHECK_THROW((void)vikcse::pad_token_rows(rows, 0, 0, &short_types), vikcse::invalid_argument);
  BOOST_CHECK_THROW((void)vikcse::pad_token_rows(rows, -1), vikcse::tokenizer_error);  // no pad token
  BOOST_CHECK_NO_THROW((void)vikcse::pad_token_rows({{1, 2}, {3, 4}}, -1));            // nothing to pad
}

BOOST_AUTO_TEST_SUITE_END()
