// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_host_test
#include <boost/test/unit_test.hpp>

#include <support/tiny_model.hpp>
#include <vikcse/eval/model_embedder.hpp>
#include <vikcse/methods/aliases.hpp>
#include <vikcse/model/row_gather.hpp>
#include <vikcse/train/collator.hpp>

#include <torch/torch.h>

#include <tuple>

namespace {

/// This file's tiny BERT: 120 ids (the toy tokenizer's are below 120), 96 positions.
vikcse::BertConfig tiny_config(double dropout = 0.1) {
  return vikcse::testing::tiny_bert_config({.vocab_size = 120,
                                            .hidden_size = 16,
                                            .num_hidden_layers = 2,
                                            .num_attention_heads = 2,
                                            .intermediate_size = 32,
                                            .max_position_embeddings = 96,
                                            .dropout = dropout});
}

// A toy tokenizer: one id per whitespace word (ids 110..119 are reserved for template words).
const vikcse::TokenizeFunction toy_tokenize = vikcse::testing::toy_tokenizer(
    {.first_id = 5, .buckets = 95, .fixed = {{"this", 110}, {"means", 111}, {"\"", 112}, {".", 113}}});

const vikcse::SpecialTokens ids{.cls = 1, .sep = 2, .pad = 0, .mask = 3};

/// Evaluation-input options (the fields these tests vary).
vikcse::EmbedderOptions eval_options(std::optional<vikcse::PromptLayout> layout, std::int64_t max_length,
                                     std::optional<bool> denoise, bool append_period, bool lowercase) {
  vikcse::EmbedderOptions o;
  o.layout = std::move(layout);
  o.max_length = max_length;
  o.denoise = denoise;
  o.append_period = append_period;
  o.lowercase = lowercase;
  return o;
}

vikcse::PromptLayout layout() {
  return vikcse::make_prompt_layout(vikcse::PromptTemplate("this \" [X] \" means [MASK] .", "[MASK]"), toy_tokenize,
                                    ids);
}

const std::vector<std::string> sentences{"a man plays a guitar", "the cat sleeps", "two dogs run in the park today"};

vikcse::Collator plain_collator() {
  return vikcse::Collator(toy_tokenize, {.specials = ids, .first = {}, .second = {}});
}
vikcse::Collator prompt_collator() {
  vikcse::ViewFormat f{layout(), 32};
  return vikcse::Collator(toy_tokenize, {.specials = ids, .first = f, .second = f});
}

vikcse::VIKCSE make_vikcse(vikcse::KbGradMode mode, double dropout = 0.1,
                           vikcse::RetrievalKey key = vikcse::RetrievalKey::query) {
  torch::manual_seed(11);
  vikcse::BertModel encoder(tiny_config(dropout));
  vikcse::MaskPromptPooler pooler(vikcse::MaskPromptPoolerOptions(16, ids.mask));
  vikcse::VisualKnowledgeBase<> kb(torch::randn({20, 8}));
  vikcse::KnowledgeInfoNCELoss loss(
      vikcse::KnowledgeInfoNCELossOptions(16, 8).kb_grad_mode(mode).soft_top_k(4).retrieval_key(key));
  return vikcse::VIKCSE(encoder, pooler, kb, loss, vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
}

std::vector<torch::Tensor> encoder_grads(torch::nn::Module& encoder, const torch::Tensor& loss) {
  auto params = encoder.parameters();
  std::vector<torch::Tensor> used;
  for (auto& p : params) used.push_back(p);
  return torch::autograd::grad({loss}, used, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
}

/// Sum of |a - b| over the gradients the text term reaches (`text[i]` defined).
double gradient_gap(const std::vector<torch::Tensor>& total, const std::vector<torch::Tensor>& text) {
  double gap = 0.0;
  for (std::size_t i = 0; i < total.size(); ++i) {
    if (text[i].defined()) gap += (total[i] - text[i]).abs().sum().item<double>();
  }
  return gap;
}

}  // namespace

BOOST_AUTO_TEST_CASE(simcse_step_equals_manual_computation_without_dropout) {
  torch::manual_seed(1);
  vikcse::SimCSE model(vikcse::BertModel(tiny_config(0.0)), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());
  model->train();
  const auto batch = plain_collator().unsupervised(sentences);
  const auto out = model->forward(batch);
  // Without dropout both views are equal: L = InfoNCE(z, z) with z = MLP(h[:, 0]).
  const auto h = model->encoder->forward(batch.first).last_hidden_state.select(1, 0);
  const auto z = model->pooler->mlp(h);
  BOOST_TEST(out.total.item<double>() == vikcse::info_nce(z, z).item<double>(), boost::test_tools::tolerance(1e-5));
  // Registered names: encoder keys are Hugging Face keys under "encoder.".
  BOOST_TEST(model->named_parameters().contains("encoder.embeddings.word_embeddings.weight"));
  BOOST_TEST(model->named_parameters().contains("pooler.mlp.dense.weight"));
  // Eval embedding = raw [CLS] (mlp_only_train).
  model->eval();
  torch::NoGradGuard no_grad;
  BOOST_TEST(torch::allclose(model->embed(batch.first), h, 1e-5, 1e-6));
}

BOOST_AUTO_TEST_CASE(supervised_simcse_uses_hard_negatives) {
  torch::manual_seed(2);
  vikcse::SimCSE model(vikcse::BertModel(tiny_config(0.0)), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                       vikcse::InfoNCELoss());
  const auto batch = plain_collator().pair(sentences, {"a person plays music", "a cat is asleep", "dogs run"},
                                           {"nobody plays", "the dog barks", "cats sit at home"});
  BOOST_REQUIRE(batch.hard_negative.has_value());
  const auto v = model->views(batch);
  BOOST_REQUIRE(v.hard_negative.has_value());
  const auto out = model->forward(batch);
  BOOST_TEST(out.total.item<double>() == vikcse::info_nce(v.first.z, v.second.z, {}, v.hard_negative->z).item<double>(),
             boost::test_tools::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(vikcse_kb_grad_mode_none_gives_exactly_the_text_gradient) {
  auto model = make_vikcse(vikcse::KbGradMode::none);
  model->train();
  const auto batch = prompt_collator().unsupervised(sentences);
  const auto views = model->views(batch);
  const auto out = model->loss->forward(views, model->knowledge->context(batch));
  BOOST_TEST(out.terms.count("vm") == 1U);
  BOOST_TEST(out.terms.count("vc") == 1U);
  const auto text = vikcse::info_nce(views.first.z, views.second.z);
  BOOST_TEST(text.item<double>() == out.terms.at("text").item<double>());
  const auto g_total = encoder_grads(*model->encoder, out.total);
  const auto g_text = encoder_grads(*model->encoder, text);
  std::size_t compared = 0;
  for (std::size_t i = 0; i < g_total.size(); ++i) {
    if (!g_text[i].defined()) continue;
    BOOST_TEST(torch::equal(g_total[i], g_text[i]));
    ++compared;
  }
  BOOST_TEST(compared > 10U);
}

BOOST_AUTO_TEST_CASE(vikcse_extension_modes_let_knowledge_reach_the_encoder) {
  for (auto mode : {vikcse::KbGradMode::straight_through, vikcse::KbGradMode::soft, vikcse::KbGradMode::contrast}) {
    auto model = make_vikcse(mode);
    model->train();
    const auto batch = prompt_collator().unsupervised(sentences);
    const auto views = model->views(batch);
    const auto out = model->loss->forward(views, model->knowledge->context(batch));
    const auto g_total = encoder_grads(*model->encoder, out.total);
    const auto g_text = encoder_grads(*model->encoder, vikcse::info_nce(views.first.z, views.second.z));
    BOOST_TEST(gradient_gap(g_total, g_text) > 1e-6);
    const auto gp = torch::autograd::grad({out.total}, {model->loss->cls_projector->dense->weight}, {}, true);
    BOOST_TEST(gp[0].abs().sum().item<double>() > 0.0);
  }
}

// Rows retrieved by the batch's own keys (grounded retrieval): with kb_grad_mode none the terms
// are still constants (the text gradient exactly); with contrast they train the encoder; a batch
// without keys is an error.
BOOST_AUTO_TEST_CASE(vikcse_batch_keys_retrieve_through_the_host) {
  auto batch = prompt_collator().unsupervised(sentences);
  batch.knowledge_keys = torch::randn({static_cast<std::int64_t>(sentences.size()), 8});
  auto grads = [&](vikcse::KbGradMode mode) {
    auto model = make_vikcse(mode, 0.1, vikcse::RetrievalKey::batch_keys);
    model->train();
    torch::manual_seed(5);
    const auto views = model->views(batch);
    const auto out = model->loss->forward(views, model->knowledge->context(batch));
    return std::pair{encoder_grads(*model->encoder, out.total),
                     encoder_grads(*model->encoder, vikcse::info_nce(views.first.z, views.second.z))};
  };
  const auto [none_total, none_text] = grads(vikcse::KbGradMode::none);
  const auto [contrast_total, contrast_text] = grads(vikcse::KbGradMode::contrast);
  BOOST_TEST(gradient_gap(none_total, none_text) == 0.0);
  BOOST_TEST(gradient_gap(contrast_total, contrast_text) > 1e-6);
  auto model = make_vikcse(vikcse::KbGradMode::contrast, 0.1, vikcse::RetrievalKey::batch_keys);
  BOOST_CHECK_THROW(model->forward(prompt_collator().unsupervised(sentences)), vikcse::invalid_argument);
}

// In data-parallel training the batch's retrieval keys are rows like the views: gathered; the bank
// is the same on every rank and stays as it is.
BOOST_AUTO_TEST_CASE(knowledge_keys_are_gathered_as_rows) {
  const vikcse::KnowledgeRetrieval local{{}, torch::randn({4, 8}), torch::randn({3, 8}), torch::randn({2, 8})};
  const vikcse::RowGather twice = [](const torch::Tensor& t) { return torch::cat({t, t}); };
  const auto global = vikcse::gather_rows(local, twice);
  BOOST_TEST(torch::equal(global.keys, torch::cat({local.keys, local.keys})));
  BOOST_TEST(torch::equal(global.mask_keys, torch::cat({local.mask_keys, local.mask_keys})));
  BOOST_TEST(torch::equal(global.bank, local.bank));
  const auto without = vikcse::gather_rows(vikcse::KnowledgeRetrieval{{}, local.bank, {}, {}}, twice);
  BOOST_TEST(!without.keys.defined());
  BOOST_TEST(!without.mask_keys.defined());
}

BOOST_AUTO_TEST_CASE(vikcse_training_is_deterministic_under_a_seed) {
  auto run = [] {
    auto model = make_vikcse(vikcse::KbGradMode::none);
    model->train();
    torch::manual_seed(99);
    torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
    std::vector<double> losses;
    const auto batch = prompt_collator().unsupervised(sentences);
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      auto out = model->forward(batch);
      out.total.backward();
      opt.step();
      losses.push_back(out.total.item<double>());
    }
    return losses;
  };
  const auto a = run();
  const auto b = run();
  BOOST_TEST(a == b, boost::test_tools::per_element());
}

namespace {

/// The encoder's [MASK] state for the template alone at explicit `positions` (no sentence).
torch::Tensor template_state(vikcse::BertModelImpl& encoder, const vikcse::PromptLayout& l,
                             const std::vector<std::int64_t>& positions) {
  auto ids_t = l.prefix;
  ids_t.insert(ids_t.end(), l.suffix.begin(), l.suffix.end());
  vikcse::TokenBatch only{torch::tensor(ids_t).unsqueeze(0),
                          torch::ones({1, l.size()}, torch::kLong),
                          {},
                          positions.empty() ? torch::Tensor{} : torch::tensor(positions).unsqueeze(0)};
  return encoder.forward(only).last_hidden_state[0][static_cast<std::int64_t>(l.prefix.size()) + l.mask_offset()];
}

/// Positions of the template with its suffix after a sentence of `k` tokens, counted from `first`.
std::vector<std::int64_t> shifted_positions(const vikcse::PromptLayout& l, std::int64_t k, std::int64_t first) {
  std::vector<std::int64_t> pos;
  const auto a = static_cast<std::int64_t>(l.prefix.size());
  for (std::int64_t j = 0; j < l.size(); ++j) pos.push_back(first + j + (j >= a ? k : 0));
  return pos;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

// δ_k is the template's [MASK] state with the suffix shifted by k positions. Each check is paired
// with the off-by-one alternatives, which must be far (> 1e-3) from the value while the value
// itself agrees to float rounding (< 1e-5): an off-by-one in the shift or in the length lookup fails.
BOOST_AUTO_TEST_CASE(promptbert_delta_is_the_template_alone) {
  torch::manual_seed(4);
  vikcse::BertModel encoder(tiny_config(0.0));
  const auto l = layout();
  vikcse::MaskPromptPooler pooler(vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l, l}));
  vikcse::PromptBERT model(encoder, pooler, vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  model->train();
  BOOST_TEST(model->pooler->delta_position_offset() == 0);  // BERT positions start at 0
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const auto delta = model->pooler->template_bias(l, 8, encode, torch::kCPU);
  BOOST_TEST(delta.size(0) == 8);
  BOOST_TEST(delta.requires_grad());
  // δ_0 = the template with no sentence at its natural positions.
  BOOST_TEST(max_diff(delta[0], template_state(*model->encoder, l, {})) < 1e-5);
  for (const std::int64_t k : {0, 3, 5}) {
    BOOST_TEST_CONTEXT("k = " << k) {
      BOOST_TEST(max_diff(delta[k], template_state(*model->encoder, l, shifted_positions(l, k, 0))) < 1e-5);
      BOOST_TEST(max_diff(delta[k], template_state(*model->encoder, l, shifted_positions(l, k + 1, 0))) > 1e-3);
      if (k > 0) {
        BOOST_TEST(max_diff(delta[k], template_state(*model->encoder, l, shifted_positions(l, k - 1, 0))) > 1e-3);
      }
    }
  }
  // Denoised views: h − δ_ℓ with ℓ the sentence length, and not ℓ ± 1.
  const auto batch = prompt_collator().unsupervised(sentences);
  const auto v = model->views(batch);
  const auto raw = vikcse::mask_pooler(model->encoder->forward(batch.first), batch.first, ids.mask);
  BOOST_TEST(max_diff(v.first.h[0], raw[0] - delta[5]) < 1e-5);  // "a man plays a guitar": 5 tokens
  BOOST_TEST(max_diff(v.first.h[0], raw[0] - delta[4]) > 1e-3);
  BOOST_TEST(max_diff(v.first.h[0], raw[0] - delta[6]) > 1e-3);
  BOOST_TEST(max_diff(v.first.h[1], raw[1] - delta[3]) < 1e-5);  // "the cat sleeps": 3 tokens
  BOOST_TEST(max_diff(v.first.h[1], raw[1] - delta[2]) > 1e-3);
  // Frozen δ carries no gradient; the loss still trains.
  vikcse::MaskPromptPooler frozen(
      vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l}).denoise_grad(false));
  BOOST_TEST(!frozen->template_bias(l, 2, encode, torch::kCPU).requires_grad());
  const auto out = model->forward(batch);
  BOOST_TEST(std::isfinite(out.total.item<double>()));
}

// RoBERTa positions start at pad + 1 = 2. A PromptRoBERTa built directly puts its template-only δ
// rows at those positions too (δ_0 = the template encoded with RoBERTa's own positions); the
// reference code's position ids from 0 are an opt-in switch that reproduces its bug.
BOOST_AUTO_TEST_CASE(roberta_delta_positions_start_at_two_by_default) {
  auto config = tiny_config(0.0);
  config.model_type = "roberta";
  config.pad_token_id = 1;
  const vikcse::SpecialTokens rids{.cls = 4, .sep = 2, .pad = 1, .mask = 3};
  const auto l =
      vikcse::make_prompt_layout(vikcse::PromptTemplate("this \" [X] \" means [MASK] .", "[MASK]"), toy_tokenize, rids);
  torch::manual_seed(6);
  vikcse::RobertaModel encoder(config);
  BOOST_TEST(encoder->first_position_id() == 2);
  auto make = [&](bool reference) {
    return vikcse::PromptRoBERTa(encoder,
                                 vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, rids.mask)
                                                              .denoise_layouts({l})
                                                              .reference_roberta_delta_positions(reference)),
                                 vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  };
  auto model = make(false);
  model->train();
  BOOST_TEST(model->pooler->delta_position_offset() == 2);
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const auto natural = template_state(*model->encoder, l, {});  // RoBERTa's own positions 2, 3, ...
  const auto delta = model->pooler->template_bias(l, 4, encode, torch::kCPU);
  BOOST_TEST(max_diff(delta[0], natural) < 1e-5);
  BOOST_TEST(max_diff(delta[3], template_state(*model->encoder, l, shifted_positions(l, 3, 2))) < 1e-5);
  // The reference bug, on request: positions from 0, misaligned by 2.
  auto reference = make(true);
  BOOST_TEST(reference->pooler->delta_position_offset() == 0);
  const auto buggy = reference->pooler->template_bias(l, 4, encode, torch::kCPU);
  BOOST_TEST(max_diff(buggy[0], template_state(*model->encoder, l, shifted_positions(l, 0, 0))) < 1e-5);
  BOOST_TEST(max_diff(buggy[0], natural) > 1e-3);
  // An explicit offset is kept.
  vikcse::PromptRoBERTa explicit_offset(
      encoder, vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, rids.mask).position_offset(7)),
      vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  BOOST_TEST(explicit_offset->pooler->delta_position_offset() == 7);
}

// Hard negatives are collated in view 0's format, so they are denoised with view 0's template.
BOOST_AUTO_TEST_CASE(hard_negatives_are_denoised_with_the_first_template) {
  torch::manual_seed(8);
  const auto l1 = layout();
  const auto l2 =
      vikcse::make_prompt_layout(vikcse::PromptTemplate("means \" [X] \" this [MASK] .", "[MASK]"), toy_tokenize, ids);
  BOOST_REQUIRE(l1.size() == l2.size());
  auto config = tiny_config(0.0);
  config.initializer_range = 0.3;  // the two templates' δ then differ clearly at the mask position
  vikcse::PromptBERT model(
      vikcse::BertModel(config),
      vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l1, l2})),
      vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  model->train();
  const vikcse::Collator c(toy_tokenize, {.specials = ids, .first = {l1, 32}, .second = {l2, 32}});
  const auto batch = c.pair({"a man plays", "the cat sleeps"}, {"a person plays", "a cat naps"},
                            {"nobody plays", "the dog barks loudly"});
  BOOST_REQUIRE(batch.hard_negative.has_value());
  const auto v = model->views(batch);
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const auto raw = vikcse::mask_pooler(model->encoder->forward(*batch.hard_negative), *batch.hard_negative, ids.mask);
  const auto d1 = model->pooler->template_bias(l1, 5, encode, torch::kCPU);
  const auto d2 = model->pooler->template_bias(l2, 5, encode, torch::kCPU);
  BOOST_TEST(max_diff(v.hard_negative->h[0], raw[0] - d1[2]) < 1e-5);  // "nobody plays": 2 tokens
  BOOST_TEST(max_diff(v.hard_negative->h[1], raw[1] - d1[4]) < 1e-5);
  BOOST_TEST_MESSAGE("hard negative vs the second template's δ: " << max_diff(v.hard_negative->h[0], raw[0] - d2[2]));
  BOOST_TEST(max_diff(v.hard_negative->h[0], raw[0] - d2[2]) > 1e-3);
  BOOST_TEST(decltype(model)::Impl::hard_negative_view == 0);
}

// The SimCSE head: only the `cls` kind has the MLP by default; `mlp_only_train = false` keeps it at
// evaluation, where the embedding is then tanh(W h_cls + b).
BOOST_AUTO_TEST_CASE(cls_pooler_head_only_for_cls_and_mlp_only_train) {
  using K = vikcse::PoolerKind;
  for (const auto kind : {K::cls_before_pooler, K::avg, K::avg_top2, K::avg_first_last}) {
    vikcse::ClsPooler p(vikcse::ClsPoolerOptions(16).kind(kind));
    BOOST_TEST(p->named_children().size() == 0U);
    BOOST_TEST(!p->mlp);
  }
  BOOST_TEST(static_cast<bool>(vikcse::ClsPooler(16)->mlp));
  BOOST_TEST(static_cast<bool>(vikcse::ClsPooler(vikcse::ClsPoolerOptions(16).kind(K::avg).mlp(true))->mlp));
  BOOST_TEST(!vikcse::ClsPooler(vikcse::ClsPoolerOptions(16).mlp(false))->mlp);
  torch::manual_seed(9);
  vikcse::BertModel encoder(tiny_config(0.1));
  const auto batch = plain_collator().unsupervised(sentences).first;
  vikcse::SimCSE keep(encoder, vikcse::ClsPooler(vikcse::ClsPoolerOptions(16).mlp_only_train(false)),
                      vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  vikcse::SimCSE drop(encoder, vikcse::ClsPooler(16), vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  keep->eval();
  drop->eval();
  torch::NoGradGuard no_grad;
  const auto cls = encoder->forward(batch).last_hidden_state.select(1, 0);
  const auto& mlp = keep->pooler->mlp;
  const auto expected = torch::tanh(torch::addmm(mlp->dense->bias, cls, mlp->dense->weight.t()));
  BOOST_TEST(max_diff(keep->embed(batch), expected) < 1e-5);
  BOOST_TEST(max_diff(drop->embed(batch), cls) < 1e-6);
  BOOST_TEST(max_diff(keep->embed(batch), cls) > 1e-3);
}

// VIKCSE's reference truncation: the whole templated sequence is cut to max_length, a long
// sentence loses its [MASK], and that row leaves the mask-based terms (L_text, L_vm) while the
// [CLS] term L_vc keeps every row. The expected loss is built here from the pieces by hand.
BOOST_AUTO_TEST_CASE(vikcse_reference_truncation_drops_maskless_rows_from_mask_terms_only) {
  const auto l = layout();
  const std::int64_t cap = l.size() + 6;
  const vikcse::ViewFormat whole{l, cap, vikcse::Truncation::whole_sequence};
  const vikcse::Collator c(toy_tokenize, {.specials = ids, .first = whole, .second = whole});
  const std::vector<std::string> batch_sentences{"w1 w2 w3 w4 w5 w6 w7 w8 w9", "the cat sleeps", "a man plays a guitar",
                                                 "dogs run"};
  const auto batch = c.unsupervised(batch_sentences);
  BOOST_TEST(batch.first.input_ids.size(1) == cap);
  BOOST_TEST(batch.first.input_ids[0][cap - 1].item<std::int64_t>() == ids.sep);
  BOOST_TEST(batch.first.input_ids[0].eq(ids.mask).sum().item<std::int64_t>() == 0);  // the mask was cut away
  BOOST_REQUIRE(batch.mask_rows.defined());
  BOOST_TEST((batch.mask_rows.equal(torch::tensor({1, 2, 3}, torch::kLong))));
  // The library default (sentence-only truncation) keeps every mask.
  const vikcse::ViewFormat sentence_only{l, cap - l.size()};
  const auto kept = vikcse::Collator(toy_tokenize, {.specials = ids, .first = sentence_only, .second = sentence_only})
                        .unsupervised(batch_sentences);
  BOOST_TEST(!kept.mask_rows.defined());
  BOOST_TEST(kept.first.input_ids.eq(ids.mask).sum().item<std::int64_t>() == 4);

  auto model = make_vikcse(vikcse::KbGradMode::none, /*dropout=*/0.0);
  model->train();
  const auto v = model->views(batch);
  BOOST_TEST(v.first.z.size(0) == 3);
  BOOST_TEST(v.first.cls.size(0) == 4);
  const auto out = model->forward(batch);
  // By hand: pool rows 1..3 at their mask, the [CLS] state of all 4 rows.
  const auto enc0 = model->encoder->forward(batch.first);
  const auto enc1 = model->encoder->forward(batch.second);
  auto pooled = [&](const vikcse::EncoderOutput& e) {
    const auto rows = batch.mask_rows;
    vikcse::EncoderOutput sub;
    sub.last_hidden_state = e.last_hidden_state.index_select(0, rows);
    const vikcse::TokenBatch b{batch.first.input_ids.index_select(0, rows), {}, {}, {}};
    const auto h = vikcse::mask_pooler(sub, b, ids.mask);
    return vikcse::ViewEmbeddings{model->pooler->mlp(h), h, e.last_hidden_state.select(1, 0)};
  };
  const vikcse::ContrastiveViews by_hand{pooled(enc0), pooled(enc1), std::nullopt};
  const auto expected = model->loss->forward(by_hand, model->knowledge->context(batch));
  for (const auto* term : {"text", "vm", "vc"}) {
    BOOST_TEST_CONTEXT(term) { BOOST_TEST(max_diff(out.terms.at(term), expected.terms.at(term)) < 1e-5); }
  }
  BOOST_TEST(max_diff(out.total, expected.total) < 1e-4);
}

// The switches of VIKCSE's loss: the [MASK] query from the raw hidden state (the paper figure) or
// the MLP output (the code), constant or adaptive weights, and each visual term on its own. Every
// term is recomputed here with a top-1 cosine lookup written out by hand.
BOOST_AUTO_TEST_CASE(vikcse_loss_switches) {
  torch::manual_seed(12);
  const auto bank = torch::randn({200, 8});
  auto lookup = [&](const torch::Tensor& q) {
    const auto unit_bank = bank / bank.norm(2, -1, true);
    const auto scores = torch::mm(q / q.norm(2, -1, true), unit_bank.t());
    return unit_bank.index_select(0, std::get<1>(scores.max(1)));
  };
  const auto batch = prompt_collator().unsupervised(sentences);
  auto run = [&](vikcse::KnowledgeInfoNCELossOptions o) {
    torch::manual_seed(13);
    vikcse::VIKCSE model(vikcse::BertModel(tiny_config(0.1)),
                         vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, ids.mask)),
                         vikcse::VisualKnowledgeBase<>(bank), vikcse::KnowledgeInfoNCELoss(o),
                         vikcse::SentenceEmbedderOptions().views_in_one_pass(false));
    model->train();
    torch::manual_seed(14);
    const auto v = model->views(batch);
    torch::manual_seed(14);
    const auto out = model->forward(batch);
    return std::make_tuple(model, v, out);
  };
  const vikcse::InfoNCEOptions nce{0.05};
  auto term = [&](const torch::Tensor& q0, const torch::Tensor& q1) {
    return vikcse::info_nce(lookup(q0), lookup(q1), nce);
  };
  for (const auto source : {vikcse::MaskQuerySource::mlp_output, vikcse::MaskQuerySource::raw_hidden}) {
    for (const bool adaptive : {true, false}) {
      BOOST_TEST_CONTEXT("raw_hidden = " << (source == vikcse::MaskQuerySource::raw_hidden)
                                         << ", adaptive = " << adaptive) {
        auto [model, v, out] =
            run(vikcse::KnowledgeInfoNCELossOptions(16, 8).mask_query_source(source).adaptive(adaptive));
        auto pm = model->loss->mask_projector;
        auto pc = model->loss->cls_projector;
        const bool raw = source == vikcse::MaskQuerySource::raw_hidden;
        const auto text = vikcse::info_nce(v.first.z, v.second.z, nce);
        const auto vm = term(pm(raw ? v.first.h : v.first.z), pm(raw ? v.second.h : v.second.z));
        const auto vm_other = term(pm(raw ? v.first.z : v.first.h), pm(raw ? v.second.z : v.second.h));
        const auto vc = term(pc(v.first.cls), pc(v.second.cls));
        BOOST_TEST(max_diff(out.terms.at("vm"), vm) < 1e-5);
        BOOST_TEST(max_diff(out.terms.at("vc"), vc) < 1e-5);
        BOOST_TEST(max_diff(vm, vm_other) > 1e-4);  // the two query sources give different terms here
        const auto total =
            adaptive ? text + 0.5 * vm / (vm - text).abs() + 0.5 * vc / (vc - text).abs() : text + 0.5 * vm + 0.5 * vc;
        BOOST_TEST(max_diff(out.total, total) < 1e-4);
      }
    }
  }
  auto [no_mask_model, v1, no_mask] = run(vikcse::KnowledgeInfoNCELossOptions(16, 8).mask_term(false).adaptive(false));
  BOOST_TEST(no_mask.terms.count("vm") == 0U);
  BOOST_TEST(max_diff(no_mask.total, vikcse::info_nce(v1.first.z, v1.second.z, nce) + 0.5 * no_mask.terms.at("vc")) <
             1e-5);
  auto [no_cls_model, v2, no_cls] = run(vikcse::KnowledgeInfoNCELossOptions(16, 8).cls_term(false).adaptive(false));
  BOOST_TEST(no_cls.terms.count("vc") == 0U);
  BOOST_TEST(max_diff(no_cls.total, vikcse::info_nce(v2.first.z, v2.second.z, nce) + 0.5 * no_cls.terms.at("vm")) <
             1e-5);
}

// PromptBERT's protocol (README.md#promptbert, #reference-bugs): select with δ subtracted, report the raw [MASK]
// vector with '.' appended.
BOOST_AUTO_TEST_CASE(promptbert_embedder_selects_denoised_and_reports_raw_with_period) {
  torch::manual_seed(5);
  vikcse::BertModel encoder(tiny_config(0.1));
  const auto l = layout();
  vikcse::PromptBERT model(encoder,
                           vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, ids.mask).denoise_layouts({l})),
                           vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  model->train();  // the embedder switches to eval mode itself and back
  const std::vector<std::string> batch_sentences{"a man plays a guitar", "is it raining ?"};
  const auto select = vikcse::make_embedder(model, toy_tokenize, ids, eval_options(l, 64, true, false, false));
  const auto report = vikcse::make_embedder(model, toy_tokenize, ids, eval_options(l, 64, false, true, false));
  const auto selected = select(batch_sentences);
  const auto reported = report(batch_sentences);
  BOOST_TEST(model->is_training());
  BOOST_TEST(!model->pooler->options.denoise_at_eval());  // restored after each call

  model->eval();
  torch::NoGradGuard no_grad;
  vikcse::EncodeFunction encode = [&](const vikcse::TokenBatch& b) { return model->encoder->forward(b); };
  const vikcse::ViewFormat f{l, 64 - l.size()};
  const vikcse::Collator collator(toy_tokenize, {.specials = ids, .first = f, .second = f});
  auto raw_of = [&](const std::vector<std::string>& s) {
    std::vector<std::vector<std::int64_t>> rows;
    for (const auto& x : s) rows.push_back(collator.row(x, f));
    const auto b = vikcse::pad_token_rows(rows, ids.pad);
    return vikcse::mask_pooler(model->encoder->forward(b), b, ids.mask);
  };
  // Selection: raw − δ_ℓ (ℓ = 5 and 4 sentence tokens).
  const auto raw = raw_of(batch_sentences);
  const auto delta = model->pooler->template_bias(l, 6, encode, torch::kCPU);
  BOOST_TEST(torch::allclose(selected[0], raw[0] - delta[5], 1e-5, 1e-6));
  BOOST_TEST(torch::allclose(selected[1], raw[1] - delta[4], 1e-5, 1e-6));
  // Report: the raw vector of "a man plays a guitar." and of the unchanged "is it raining ?".
  const auto with_period = raw_of({"a man plays a guitar.", "is it raining ?"});
  BOOST_TEST(torch::allclose(reported, with_period, 1e-5, 1e-6));
  // (the period changes the input: a tiny freshly initialised encoder moves the [MASK] state a little)
  BOOST_TEST((reported[0] - raw[0]).abs().max().item<double>() > 1e-5);
  // A pooler without denoising cannot be asked to denoise.
  vikcse::SimCSE simcse(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::NoKnowledge(),
                        vikcse::InfoNCELoss());
  BOOST_CHECK_THROW(
      (void)vikcse::make_embedder(simcse, toy_tokenize, ids, eval_options(std::nullopt, 512, true, false, false)),
      vikcse::config_error);
  BOOST_TEST(vikcse::append_period_if_missing("a b") == "a b.");
  BOOST_TEST(vikcse::append_period_if_missing("a b'") == "a b'");
  BOOST_TEST(vikcse::append_period_if_missing("").empty());
}

BOOST_AUTO_TEST_CASE(mcse_paired_and_text_steps) {
  torch::manual_seed(5);
  vikcse::MCSE model(vikcse::BertModel(tiny_config()), vikcse::ClsPooler(16), vikcse::PairedImageFeatures(6),
                     vikcse::MultimodalInfoNCELoss(vikcse::MultimodalInfoNCELossOptions(16, 6).proj_dim(4)));
  model->train();
  auto batch = plain_collator().unsupervised(sentences);
  const auto text = model->forward(batch);
  BOOST_TEST(text.terms.count("inter") == 0U);
  batch.image_features = torch::randn({3, 6});
  const auto paired = model->forward(batch);
  BOOST_TEST(paired.terms.count("inter") == 1U);
  paired.total.backward();
  BOOST_TEST(model->loss->image_head->dense->weight.grad().abs().sum().item<double>() > 0.0);
}

BOOST_AUTO_TEST_CASE(collation_truncation_and_bad_input) {
  const auto long_sentence = std::string(200, 'x') + " " + "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10";
  // Sentence-only truncation keeps the template (and its [MASK]).
  vikcse::ViewFormat f{layout(), 4};
  vikcse::Collator c(toy_tokenize, {.specials = ids, .first = f, .second = f});
  const auto b = c.unsupervised({long_sentence, "short"});
  BOOST_TEST(b.first.input_ids.size(1) == layout().size() + 4);
  BOOST_TEST(b.first.input_ids.eq(ids.mask).sum(1).eq(1).all().item<bool>());
  // Plain whole-sequence truncation to max_length.
  vikcse::Collator p(toy_tokenize, {.specials = ids, .first = {std::nullopt, 5}, .second = {std::nullopt, 5}});
  const auto pb = p.unsupervised({long_sentence});
  BOOST_TEST(pb.first.input_ids.size(1) == 5);
  BOOST_TEST(pb.first.input_ids[0][4].item<std::int64_t>() == ids.sep);
  // Empty lines, templates without exactly one mask.
  BOOST_CHECK_THROW(c.unsupervised({"fine", "   "}), vikcse::data_error);
  BOOST_CHECK_THROW(vikcse::PromptTemplate("this [X] means nothing", "[MASK]"), vikcse::config_error);
  BOOST_CHECK_THROW(vikcse::PromptTemplate("[MASK] [X] [MASK]", "[MASK]"), vikcse::config_error);
  // A template whose text tokenises to a mask id.
  auto bad_tok = [](std::string_view t) {
    auto v = toy_tokenize(t);
    v.push_back(3);
    return v;
  };
  BOOST_CHECK_THROW(vikcse::make_prompt_layout(vikcse::PromptTemplate("[X] means [MASK]", "[MASK]"), bad_tok, ids),
                    vikcse::config_error);
}

// VIKCSE's reference evaluation lower-cases the sentence (never the template), RoBERTa included:
// `EmbedderOptions::lowercase` embeds "A Man Plays Über" exactly as "a man plays über". The toy
// tokenizer is case-sensitive, so without the switch the two differ.
BOOST_AUTO_TEST_CASE(embedder_lowercases_evaluation_text_on_request) {
  torch::manual_seed(15);
  vikcse::PromptBERT model(vikcse::BertModel(tiny_config(0.0)),
                           vikcse::MaskPromptPooler(vikcse::MaskPromptPoolerOptions(16, ids.mask)),
                           vikcse::NoKnowledge(), vikcse::InfoNCELoss());
  const auto l = layout();
  auto options = [&](bool lowercase) { return eval_options(l, 64, std::nullopt, false, lowercase); };
  const auto lower = vikcse::make_embedder(model, toy_tokenize, ids, options(true));
  const auto plain = vikcse::make_embedder(model, toy_tokenize, ids, options(false));
  const std::vector<std::string> mixed{"A Man Plays Über", "the cat sleeps"};
  const std::vector<std::string> lowered{"a man plays über", "the cat sleeps"};
  BOOST_TEST(max_diff(lower(mixed), plain(lowered)) < 1e-6);
  BOOST_TEST(max_diff(plain(mixed)[0], plain(lowered)[0]) > 1e-5);
  BOOST_TEST(vikcse::lowercase_text("ÀB Ω İstanbul") == "àb ω i̇stanbul");  // full Unicode mapping
}
