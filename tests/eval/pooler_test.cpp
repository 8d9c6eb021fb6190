// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_pooler
#include <boost/test/unit_test.hpp>

#include <support/tiny_model.hpp>
#include <vikcse/encoder/auto_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/pooler/pooler.hpp>
#include <vikcse/prompt/layout.hpp>
#include <vikcse/prompt/template.hpp>
#include <vikcse/tokenizer/batch.hpp>

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
  // first = layer1: (10 h0 + h0 + 100) / 2 -- the same numbers as avg_top2 here, since with two layers h1 is
  // also the second-to-last; avg_first_last_reads_layer_one_of_a_deeper_model tells them apart.
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

// With three layers, layer 1 is not the second-to-last layer: `first = layer1` must read
// hidden_states[1] (the first transformer layer), `avg_top2` hidden_states[2], and `first =
// embeddings` hidden_states[0]; each would give other numbers if it read another layer.
BOOST_AUTO_TEST_CASE(avg_first_last_reads_layer_one_of_a_deeper_model) {
  Fixture f;
  const auto h0 = f.out.hidden_states[0];
  f.out.hidden_states = {h0, h0 * 10, h0 * 100, h0 + 100};  // embeddings, layer 1, layer 2, layer 3 (last)
  f.out.last_hidden_state = h0 + 100;
  // layer1: (10 h0 + h0 + 100) / 2 = (11 h0 + 100) / 2; row 0 averages h0 (2, 3), row 1 h0 (9, 10).
  check(vikcse::avg_first_last_pooler(f.out, f.batch, vikcse::FirstLayer::layer1), {61, 66.5, 99.5, 105});
  // embeddings: (h0 + h0 + 100) / 2 = h0 + 50.
  check(vikcse::avg_first_last_pooler(f.out, f.batch, vikcse::FirstLayer::embeddings), {52, 53, 59, 60});
  // avg_top2: (100 h0 + h0 + 100) / 2 = (101 h0 + 100) / 2.
  check(vikcse::avg_top2_pooler(f.out, f.batch), {151, 201.5, 504.5, 555});
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
  for (auto name : {"cls", "cls_before_pooler", "avg", "avg_top2", "avg_first_last", "mask", "max", "mean_sqrt_len",
                    "weighted_mean", "last_token"}) {
    BOOST_TEST(vikcse::to_string(vikcse::parse_pooler_kind(name)) == name);
  }
  BOOST_TEST(vikcse::all_pooler_kinds.size() == 10u);
  BOOST_CHECK_THROW(vikcse::parse_pooler_kind("mean"), vikcse::config_error);  // sentence-transformers' name of avg
  BOOST_TEST(vikcse::needs_hidden_states(vikcse::PoolerKind::avg_top2));
  BOOST_TEST(!vikcse::needs_hidden_states(vikcse::PoolerKind::mask));
}

BOOST_AUTO_TEST_CASE(prompt_templates) {
  const vikcse::PromptTemplate bert("This sentence : \"[X]\" means [MASK] .", "[MASK]");
  BOOST_TEST(bert.apply("a man plays") == "This sentence : \"a man plays\" means [MASK] .");
  BOOST_TEST(bert.prefix() == "This sentence : \"");
  BOOST_TEST(bert.suffix() == "\" means [MASK] .");
  // PromptBERT's evaluation: append a period unless the sentence ends with . ? " '
  const vikcse::PromptTemplate eval("This sentence of \"[X]\" means [MASK].", "[MASK]",
                                    {.append_period = true, .lowercase = false});
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

// make_embedder on a tiny random BERT: templating, tokenising, eval mode, pooling.
BOOST_AUTO_TEST_CASE(model_embedder_wires_template_encoder_and_pooler) {
  const auto config = vikcse::testing::tiny_bert_config({.vocab_size = 50,
                                                         .hidden_size = 8,
                                                         .num_hidden_layers = 2,
                                                         .num_attention_heads = 2,
                                                         .intermediate_size = 16,
                                                         .max_position_embeddings = 16});
  torch::manual_seed(3);
  vikcse::AutoModel model(config);
  model->train();  // the embedder must switch to eval mode (no dropout)
  std::vector<std::string> seen;
  // A fake tokenizer that records its input: one id per word ("[MASK]" -> 4, any other word 5 + its length).
  const auto toy = vikcse::testing::toy_tokenizer(
      {.first_id = 5, .buckets = 40, .word_id = vikcse::testing::ToyWordId::length, .fixed = {{"[MASK]", 4}}});
  const vikcse::TokenizeFunction tokenize = [&](std::string_view text) {
    seen.emplace_back(text);
    return toy(text);
  };
  const vikcse::SpecialTokens specials{.cls = 1, .sep = 2, .pad = 0, .mask = 4};
  vikcse::EmbedderOptions options;
  options.layout =
      vikcse::make_prompt_layout(vikcse::PromptTemplate("[X] : it means [MASK]", "[MASK]"), tokenize, specials);
  options.append_period = true;
  options.pooler.kind = vikcse::PoolerKind::mask;
  auto embed = vikcse::make_embedder(model, tokenize, specials, options);
  seen.clear();
  const auto e = embed({"a b", "ccc dd e?"});
  BOOST_TEST(seen.at(0) == "a b.");  // the period appended, the template's words tokenised once, by the layout
  BOOST_TEST(seen.at(1) == "ccc dd e?");
  BOOST_TEST((e.sizes() == torch::IntArrayRef{2, 8}));
  // Same as running the encoder by hand in eval mode on the ids written out: [CLS] sentence : it
  // means [MASK] [SEP], the mask at position 6 (two sentence words) and 7 (three).
  torch::NoGradGuard no_grad;
  const auto batch = vikcse::pad_token_rows({{1, 6, 7, 6, 7, 10, 4, 2}, {1, 8, 7, 7, 6, 7, 10, 4, 2}}, 0);
  const auto out = model->forward(batch);
  BOOST_TEST(torch::allclose(e[0], out.last_hidden_state[0][6]));
  BOOST_TEST(torch::allclose(e[1], out.last_hidden_state[1][7]));
  BOOST_TEST(!model->is_training());
  // avg_top2 through the embedder asks the encoder for hidden states.
  options.pooler.kind = vikcse::PoolerKind::avg_top2;
  options.layout.reset();
  options.append_period = false;
  auto avg = vikcse::make_embedder(model, tokenize, specials, options);
  const auto plain = vikcse::pad_token_rows({{1, 6, 6, 2}}, 0);  // [CLS] a b [SEP]
  const auto full = model->forward(plain, true);
  BOOST_TEST(torch::allclose(avg({"a b"}), vikcse::avg_top2_pooler(full, plain)));
  // A row longer than max_length: cut, or (truncate = false, as SentEval) an error naming the sentence.
  options.max_length = 3;
  BOOST_TEST(vikcse::make_embedder(model, tokenize, specials, options)({"a b c d"}).size(0) == 1);
  options.truncate = false;
  try {
    (void)vikcse::make_embedder(model, tokenize, specials, options)({"a b c d"});
    BOOST_FAIL("expected invalid_argument");
  } catch (const vikcse::invalid_argument& err) {
    BOOST_TEST(std::string(err.what()).find("'a b c d' tokenises to 6 tokens") != std::string::npos);
  }
  // The mask pooler without a template is a configuration error.
  options.pooler.kind = vikcse::PoolerKind::mask;
  BOOST_CHECK_THROW(vikcse::make_embedder(model, tokenize, specials, options), vikcse::config_error);
}
