// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_pooler
#include <boost/test/unit_test.hpp>

#include <vikcse/pooler/pooler.hpp>
#include <vikcse/pooler/prompt_template.hpp>

#include <torch/torch.h>

namespace {

// Batch of 2 rows, 3 positions, H = 2. Row 0 has a pad at position 2.
//   h0 (embeddings) = 1..12, h1 = 10 * h0, h2 (last) = h0 + 100.
struct Fixture {
  vikcse::EncoderOutput out;
  vikcse::TokenBatch batch;
  Fixture() {
    const auto h0 = torch::arange(1, 13, torch::kFloat).reshape({2, 3, 2});
    out.hidden_states = {h0, h0 * 10, h0 + 100};
    out.last_hidden_state = h0 + 100;
    out.pooler_output = torch::tensor({{7.0F, 8.0F}, {9.0F, 10.0F}});
    batch.input_ids = torch::tensor({{101, 103, 0}, {101, 2023, 103}}, torch::kLong);
    batch.attention_mask = torch::tensor({{1, 1, 0}, {1, 1, 1}}, torch::kLong);
    out.attention_mask = batch.attention_mask;
  }
};

void check(const torch::Tensor& got, std::vector<float> want) {
  const auto expected = torch::tensor(want).reshape({2, 2});
  BOOST_TEST(torch::allclose(got, expected), "got " << got << " expected " << expected);
}

}  // namespace

BOOST_AUTO_TEST_CASE(cls_poolers) {
  Fixture f;
  check(vikcse::cls_before_pooler(f.out), {101, 102, 107, 108});
  check(vikcse::cls_pooler(f.out), {7, 8, 9, 10});
  check(vikcse::cls_pooler(f.out, [](const torch::Tensor& h) { return h * 2; }), {202, 204, 214, 216});
  f.out.pooler_output = torch::Tensor();
  BOOST_CHECK_THROW(vikcse::cls_pooler(f.out), vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(average_poolers_by_hand) {
  Fixture f;
  // Row 0 averages positions 0-1 only: h0 rows (1,2),(3,4) -> (2,3); row 1 positions 0-2: (9,10).
  check(vikcse::avg_pooler(f.out, f.batch), {102, 103, 109, 110});
  // avg_top2: (last + h1) / 2 = (11 h0 + 100) / 2 -> row 0: (11*2+100)/2 = 61, (11*3+100)/2 = 66.5
  check(vikcse::avg_top2_pooler(f.out, f.batch), {61, 66.5, 99.5, 105});
  // first = embeddings: (h0 + h0 + 100) / 2 = h0 + 50
  check(vikcse::avg_first_last_pooler(f.out, f.batch, vikcse::FirstLayer::embeddings), {52, 53, 59, 60});
  // first = layer1: (10 h0 + h0 + 100) / 2 -- the same numbers as avg_top2 here since h1 is the second-last layer
  check(vikcse::avg_first_last_pooler(f.out, f.batch, vikcse::FirstLayer::layer1), {61, 66.5, 99.5, 105});
  // Without hidden states the error says how to get them.
  f.out.hidden_states.clear();
  try {
    (void)vikcse::avg_top2_pooler(f.out, f.batch);
    BOOST_FAIL("expected invalid_argument");
  } catch (const vikcse::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("output_hidden_states") != std::string::npos);
  }
  BOOST_CHECK_THROW(vikcse::masked_mean(f.out.last_hidden_state, torch::zeros({2, 3}, torch::kLong)),
                    vikcse::invalid_argument);
}

BOOST_AUTO_TEST_CASE(mask_pooler_takes_the_mask_position) {
  Fixture f;
  // Row 0 mask at position 1 -> h0 (3,4) + 100; row 1 at position 2 -> (11,12) + 100.
  check(vikcse::mask_pooler(f.out, f.batch, 103), {103, 104, 111, 112});
  vikcse::PoolerOptions options;
  options.kind = vikcse::PoolerKind::mask;
  options.mask_token_id = 103;
  check(vikcse::pool(f.out, f.batch, options), {103, 104, 111, 112});
  // A row with two masks (or none) is an error naming the row.
  f.batch.input_ids = torch::tensor({{101, 103, 0}, {101, 103, 103}}, torch::kLong);
  try {
    (void)vikcse::mask_pooler(f.out, f.batch, 103);
    BOOST_FAIL("expected invalid_argument");
  } catch (const vikcse::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("row 1 has 2 mask tokens") != std::string::npos);
  }
  options.mask_token_id = -1;
  BOOST_CHECK_THROW(vikcse::pool(f.out, f.batch, options), vikcse::config_error);
}

BOOST_AUTO_TEST_CASE(pooler_names) {
  for (auto name : {"cls", "cls_before_pooler", "avg", "avg_top2", "avg_first_last", "mask"}) {
    BOOST_TEST(vikcse::to_string(vikcse::parse_pooler_kind(name)) == name);
  }
  BOOST_CHECK_THROW(vikcse::parse_pooler_kind("max"), vikcse::config_error);
  BOOST_TEST(vikcse::needs_hidden_states(vikcse::PoolerKind::avg_top2));
  BOOST_TEST(!vikcse::needs_hidden_states(vikcse::PoolerKind::mask));
}

BOOST_AUTO_TEST_CASE(prompt_templates) {
  const vikcse::PromptTemplate bert("This sentence : \"[X]\" means [MASK] .", "[MASK]");
  BOOST_TEST(bert.apply("a man plays") == "This sentence : \"a man plays\" means [MASK] .");
  BOOST_TEST(bert.prefix() == "This sentence : \"");
  BOOST_TEST(bert.suffix() == "\" means [MASK] .");
  // PromptBERT's evaluation: append a period unless the sentence ends with . ? " '
  const vikcse::PromptTemplate eval("This sentence of \"[X]\" means [MASK].", "[MASK]", {.append_period = true});
  BOOST_TEST(eval.apply("a man plays") == "This sentence of \"a man plays.\" means [MASK].");
  BOOST_TEST(eval.apply("why?") == "This sentence of \"why?\" means [MASK].");
  BOOST_TEST(eval.apply("") == "This sentence of \"\" means [MASK].");
  // RoBERTa: [MASK] in the template becomes the tokenizer's <mask>.
  const vikcse::PromptTemplate roberta("This sentence : '[X]' means [MASK].", "<mask>", {.lowercase = true});
  BOOST_TEST(roberta.apply("A Man") == "This sentence : 'a man' means <mask>.");
  // Not exactly one mask token / placeholder: clear errors.
  try {
    vikcse::PromptTemplate bad("This sentence : \"[X]\" means .", "[MASK]");
    BOOST_FAIL("expected config_error");
  } catch (const vikcse::config_error& e) {
    BOOST_TEST(std::string(e.what()).find("expected exactly one mask token '[MASK]', found 0") != std::string::npos);
  }
  BOOST_CHECK_THROW(vikcse::PromptTemplate("[X] [MASK] [MASK]", "[MASK]"), vikcse::config_error);
  BOOST_CHECK_THROW(vikcse::PromptTemplate("[X] [X] [MASK]", "[MASK]"), vikcse::config_error);
}
