// SPDX-License-Identifier: Apache-2.0
// TokenBatch tensors from encoded batches.

#include "tiny.hpp"

#include <vikcse/tokenizer/batch.hpp>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

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
  const auto pairs = vikcse::encode_token_pair_batch(tok, std::vector<std::string>{"hello"},
                                                     std::vector<std::string>{"the cat"});
  BOOST_TEST(pairs.token_type_ids.sum().item<std::int64_t>() == 3);
  const auto empty = vikcse::encode_token_batch(tok, std::vector<std::string>{});
  BOOST_TEST((empty.input_ids.sizes() == torch::IntArrayRef{0, 0}));
}

BOOST_AUTO_TEST_SUITE_END()
